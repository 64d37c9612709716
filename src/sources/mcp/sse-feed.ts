/**
 * Reads the events of a proxied SSE response (the legacy `GET /sse` stream, a streamable-HTTP POST's
 * `text/event-stream` answer, the `GET /mcp` stream) from copies of its chunks, on bytes: lines are found
 * with `indexOf` (native), field names compared byte by byte, and an event's data handed on as bytes for
 * the envelope scanner — never decoded into a string. Framing as the SSE specification (and
 * eventsource-parser, which the fuzzing compares it with) frames it: lines end at CRLF, LF or CR; a
 * leading BOM is dropped; `data` lines are joined with LF; `event` names the type (empty: the default);
 * `id`, `retry`, comments and unknown fields are ignored; a blank line dispatches an event with data.
 * Bounded and never throwing: the chunks themselves are never held or changed.
 *
 * - An event whose data is larger than the bound (`limit` bytes, `--body-capture-limit`), or with a field
 *   line longer than it, is not read: the feed reports `too_large` once, skips the rest of that event to
 *   its blank line and reads the events after it as usual.
 * - A stream that ends in the middle of an event with data reports `stream_cut` (a client drops such an
 *   event too).
 * - Events whose data is only whitespace (e.g. priming events) are skipped.
 *
 * What it allocates: nothing for an event that arrives within one chunk with one data line (its data is a
 * view of the chunk, valid during the callback); otherwise the data is copied once into a buffer the feed
 * reuses, grown to at most the bound. The buffers of a feed that ended go to a shelf the next feeds take
 * from ({@link BufferShelf}): a streamable-HTTP `tools/call` answer is a stream of its own, and without the
 * shelf each large answer allocated its line buffers anew (~100 KiB per 64 KiB answer, memory outside the
 * V8 heap whose growth starts full garbage collections).
 */

export type SseProblem = 'too_large' | 'stream_cut';

export interface SseFeedSink {
  /**
   * A complete event within the bound. `event` is `undefined` for the default type (`message`). `data` is
   * valid only during the call (a view of the chunk or of the feed's buffer): copy what must be kept.
   */
  onEvent(event: string | undefined, data: Buffer): void;
  onProblem(problem: SseProblem): void;
}

const LF = 10;
const CR = 13;
const SPACE = 32;
const COLON = 58;
const EMPTY = Buffer.alloc(0);
const BOM = [0xef, 0xbb, 0xbf] as const;

/** Buffers smaller than this are not shelved (Node serves them from its own pool). @default 4096 */
export const SHELF_MIN_BYTES = 4096;
/** Bytes the shelf holds at most, over all its buffers. @default 1 MiB */
export const SHELF_MAX_BYTES = 1024 * 1024;
/** Buffers the shelf holds at most. @default 8 */
export const SHELF_MAX_BUFFERS = 8;

/**
 * Line and data buffers of ended feeds, lent to the feeds that need one next. A buffer is given back only
 * when nothing refers to it any more (its feed ended, or it was replaced by a larger one), and taken by one
 * feed at a time. Bounded: at most {@link SHELF_MAX_BUFFERS} buffers and {@link SHELF_MAX_BYTES} bytes;
 * what does not fit is left to the garbage collector.
 */
export class BufferShelf {
  readonly #buffers: Buffer[] = [];
  #bytes = 0;

  /** Bytes on the shelf now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The smallest shelved buffer of at least `size` bytes, or a new one; either way the caller's alone. */
  take(size: number): Buffer {
    const buffers = this.#buffers;
    let best = -1;
    for (let i = 0; i < buffers.length; i++) {
      const length = (buffers[i] as Buffer).length;
      if (length >= size && (best === -1 || length < (buffers[best] as Buffer).length)) best = i;
    }
    if (best === -1) return Buffer.allocUnsafe(size);
    const buf = buffers[best] as Buffer;
    buffers[best] = buffers[buffers.length - 1] as Buffer;
    buffers.pop();
    this.#bytes -= buf.length;
    return buf;
  }

  /** Shelves `buf`, which its caller no longer refers to (too small, or no room: dropped). */
  give(buf: Buffer): void {
    if (buf.length < SHELF_MIN_BYTES || buf.length > SHELF_MAX_BYTES) return;
    const buffers = this.#buffers;
    if (buffers.length === SHELF_MAX_BUFFERS || this.#bytes + buf.length > SHELF_MAX_BYTES) {
      // Full: keep the larger buffers, which are the ones worth not allocating again.
      let smallest = 0;
      for (let i = 1; i < buffers.length; i++) if ((buffers[i] as Buffer).length < (buffers[smallest] as Buffer).length) smallest = i;
      const drop = buffers[smallest];
      if (drop === undefined || drop.length >= buf.length || this.#bytes - drop.length + buf.length > SHELF_MAX_BYTES) return;
      buffers[smallest] = buf;
      this.#bytes += buf.length - drop.length;
      return;
    }
    buffers.push(buf);
    this.#bytes += buf.length;
  }
}

/** The shelf of every feed of the process. */
const shelf = new BufferShelf();

/** The fields of a line that matter: data, event; those a parser buffers (so bounds); the rest, ignored. */
const DATA = 0;
const EVENT = 1;
const BUFFERED = 2;
const IGNORED = 3;

/**
 * The field of the line `buf[start, end)` and where its value starts, as `value * 4 + field`: `data`,
 * `event`, `id` and `retry` by their bytes (followed by `:` or the end of the line), any other line ignored.
 */
function fieldOf(buf: Buffer, start: number, end: number): number {
  const n = end - start;
  const c = buf[start];
  let colon: number;
  let field: number;
  if (c === 100 && n >= 4 && buf[start + 1] === 97 && buf[start + 2] === 116 && buf[start + 3] === 97) {
    colon = start + 4;
    field = DATA;
  } else if (c === 101 && n >= 5 && buf[start + 1] === 118 && buf[start + 2] === 101 && buf[start + 3] === 110 && buf[start + 4] === 116) {
    colon = start + 5;
    field = EVENT;
  } else if (c === 105 && n >= 2 && buf[start + 1] === 100) {
    colon = start + 2;
    field = BUFFERED;
  } else if (c === 114 && n >= 5 && buf[start + 1] === 101 && buf[start + 2] === 116 && buf[start + 3] === 114 && buf[start + 4] === 121) {
    colon = start + 5;
    field = BUFFERED;
  } else return IGNORED;
  if (colon === end) return end * 4 + field;
  if (buf[colon] !== COLON) return IGNORED;
  return (colon + 1 < end && buf[colon + 1] === SPACE ? colon + 2 : colon + 1) * 4 + field;
}

/** `buf[start, end)` is `message` (the default event type, named). */
function isMessage(buf: Buffer, start: number, end: number): boolean {
  return (
    end - start === 7 &&
    buf[start] === 109 &&
    buf[start + 1] === 101 &&
    buf[start + 2] === 115 &&
    buf[start + 3] === 115 &&
    buf[start + 4] === 97 &&
    buf[start + 5] === 103 &&
    buf[start + 6] === 101
  );
}

/** Only ASCII whitespace — or, for data with other bytes first, what `String.prototype.trim` removes. */
function blank(data: Buffer): boolean {
  for (let i = 0; i < data.length; i++) {
    const c = data[i] as number;
    if (c === SPACE || (c >= 9 && c <= 13)) continue;
    return c >= 0x80 && data.toString('utf8').trim() === '';
  }
  return true;
}

export class SseFeed {
  readonly #limit: number;
  readonly #sink: SseFeedSink;
  /** The start of a line that the previous chunk did not end (at most the bound and a field name). */
  #line: Buffer = EMPTY;
  #lineLength = 0;
  /** The buffer `#line` gives to an event's data view, so that the next line never overwrites it. */
  #spare: Buffer = EMPTY;
  /** Skipping the rest of a line (too long, or one that is ignored anyway). */
  #skipLine = false;
  /** The data of the event being read: copied into `#data`, or (one data line so far) a view. */
  #data: Buffer = EMPTY;
  #dataLength = 0;
  #dataLines = 0;
  #view: Buffer | undefined = undefined;
  /** The view is of the caller's chunk (copied before `push` returns), not of the feed's own buffer. */
  #viewOfChunk = false;
  #event: string | undefined = undefined;
  /** The event being read is over the bound: skip to its blank line. */
  #oversized = false;
  /** The previous chunk ended with CR: an LF first in this one completes that line end. */
  #afterCr = false;
  /** Bytes of a leading BOM matched so far; 3 once past the start of the stream. */
  #bom = 0;
  #ended = false;

  /** @param limit largest event data read, in bytes (`--body-capture-limit`, default 64 KiB; at least 16). */
  constructor(limit: number, sink: SseFeedSink) {
    this.#limit = Math.max(16, limit);
    this.#sink = sink;
  }

  /** Reads a chunk of the stream (the caller's buffer is not kept). */
  push(chunk: Buffer): void {
    if (this.#ended || chunk.length === 0) return;
    let at = this.#bom < 3 ? this.#skipBom(chunk) : 0;
    if (this.#afterCr) {
      this.#afterCr = false;
      if (chunk[at] === LF) at++;
    }
    const n = chunk.length;
    let lf = chunk.indexOf(LF, at);
    let cr = chunk.indexOf(CR, at);
    while (at < n) {
      if (lf !== -1 && lf < at) lf = chunk.indexOf(LF, at);
      if (cr !== -1 && cr < at) cr = chunk.indexOf(CR, at);
      const end = cr === -1 ? lf : lf === -1 || cr < lf ? cr : lf;
      if (end === -1) {
        this.#carry(chunk, at, n);
        break;
      }
      if (this.#lineLength > 0 || this.#skipLine) this.#finishCarried(chunk, at, end);
      else this.#lineOf(chunk, at, end, false);
      at = end + 1;
      if (chunk[end] === CR) {
        if (at === n) this.#afterCr = true;
        else if (chunk[at] === LF) at++;
      }
    }
    // The chunk is the proxy's: a view of it must not outlive this call.
    if (this.#viewOfChunk) this.#copyView();
  }

  /** The stream ended: reports an event it left incomplete. Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#lineLength > 0) this.#finishCarried(EMPTY, 0, 0);
    if (!this.#oversized && this.#dataLines > 0) this.#sink.onProblem('stream_cut');
    this.#reset();
    shelf.give(this.#line);
    shelf.give(this.#spare);
    shelf.give(this.#data);
    this.#line = EMPTY;
    this.#spare = EMPTY;
    this.#data = EMPTY;
  }

  #skipBom(chunk: Buffer): number {
    let i = 0;
    while (this.#bom < 3 && i < chunk.length) {
      if (chunk[i] !== BOM[this.#bom]) {
        // Not a BOM after all: the bytes taken for one start the first line. Those of earlier chunks are
        // carried (a stream that starts with a split EF or EF BB, and no BOM: rare).
        const earlier = this.#bom - i;
        this.#bom = 3;
        if (earlier > 0) this.#carry(Buffer.from(BOM.slice(0, earlier)), 0, earlier);
        return 0;
      }
      this.#bom++;
      i++;
    }
    return i;
  }

  /** Keeps the part of a line that a chunk did not end, bounded. */
  #carry(chunk: Buffer, start: number, end: number): void {
    if (this.#skipLine || start === end) return;
    if (this.#oversized || (this.#lineLength === 0 && chunk[start] === COLON)) {
      this.#skipLine = true; // a line of an event already skipped, or a comment
      return;
    }
    const length = this.#lineLength + end - start;
    const room = this.#limit + 16;
    if (length > room) {
      // Too long to read: an error of its event if it is a field that counts, else a line to ignore.
      if (this.#line.length < room) this.#line = grow(this.#line, this.#lineLength, room);
      chunk.copy(this.#line, this.#lineLength, start, start + room - this.#lineLength);
      if (fieldOf(this.#line, 0, room) % 4 !== IGNORED) this.#overflow();
      this.#lineLength = 0;
      this.#skipLine = true;
      return;
    }
    if (length > this.#line.length) this.#line = grow(this.#line, this.#lineLength, Math.min(room, Math.max(256, length * 2)));
    chunk.copy(this.#line, this.#lineLength, start, end);
    this.#lineLength = length;
  }

  /** The end of a carried line, `chunk[start, end)`, came. */
  #finishCarried(chunk: Buffer, start: number, end: number): void {
    if (this.#skipLine) {
      this.#skipLine = false;
      return;
    }
    this.#carry(chunk, start, end);
    if (this.#skipLine) {
      this.#skipLine = false;
      return;
    }
    const length = this.#lineLength;
    this.#lineLength = 0;
    this.#lineOf(this.#line, 0, length, true);
  }

  /** One complete line, `buf[start, end)`; `own`: `buf` is the feed's line buffer. */
  #lineOf(buf: Buffer, start: number, end: number, own: boolean): void {
    if (start === end) {
      this.#dispatch();
      return;
    }
    if (this.#oversized || buf[start] === COLON) return;
    const f = fieldOf(buf, start, end);
    const field = f % 4;
    const value = (f - field) / 4;
    if (field === DATA) this.#appendData(buf, value, end, own);
    else if (field !== IGNORED && end - start > this.#limit) this.#overflow();
    else if (field === EVENT) this.#event = value === end ? undefined : isMessage(buf, value, end) ? 'message' : buf.toString('utf8', value, end);
  }

  #appendData(buf: Buffer, start: number, end: number, own: boolean): void {
    const length = end - start;
    if (this.#dataLines === 0) {
      if (length > this.#limit) {
        this.#overflow();
        return;
      }
      // The first data line of an event: a view, copied only if the event goes on past this chunk.
      this.#dataLines = 1;
      this.#dataLength = length;
      this.#view = buf.subarray(start, end);
      this.#viewOfChunk = !own;
      if (own) {
        // The view keeps this buffer: the next carried line goes to the other one.
        this.#line = this.#spare;
        this.#spare = buf;
      }
      return;
    }
    const total = this.#dataLength + 1 + length;
    if (total > this.#limit) {
      this.#overflow();
      return;
    }
    this.#copyView();
    if (total > this.#data.length) this.#data = grow(this.#data, this.#dataLength, Math.min(this.#limit, Math.max(1024, total * 2)));
    this.#data[this.#dataLength] = LF;
    buf.copy(this.#data, this.#dataLength + 1, start, end);
    this.#dataLength = total;
    this.#dataLines++;
  }

  /** Copies the data view into the feed's data buffer. */
  #copyView(): void {
    const view = this.#view;
    if (view === undefined) return;
    this.#view = undefined;
    this.#viewOfChunk = false;
    if (view.length > this.#data.length) {
      shelf.give(this.#data);
      this.#data = shelf.take(Math.min(this.#limit, Math.max(1024, view.length * 2)));
    }
    view.copy(this.#data, 0);
  }

  #overflow(): void {
    if (!this.#oversized) this.#sink.onProblem('too_large');
    this.#oversized = true;
    this.#view = undefined;
    this.#viewOfChunk = false;
    this.#dataLength = 0;
    this.#dataLines = 0;
  }

  #dispatch(): void {
    const lines = this.#dataLines;
    const event = this.#event;
    const data = this.#view ?? this.#data.subarray(0, this.#dataLength);
    const skip = this.#oversized || lines === 0;
    this.#reset();
    if (skip || blank(data)) return;
    this.#sink.onEvent(event, data);
  }

  #reset(): void {
    this.#view = undefined;
    this.#viewOfChunk = false;
    this.#dataLength = 0;
    this.#dataLines = 0;
    this.#event = undefined;
    this.#oversized = false;
  }
}

/** A larger buffer holding the first `used` bytes of `buf`, which goes to the shelf (the caller drops it). */
function grow(buf: Buffer, used: number, size: number): Buffer {
  const grown = shelf.take(size);
  buf.copy(grown, 0, 0, used);
  shelf.give(buf);
  return grown;
}
