/**
 * Reads the events of a proxied SSE response (the legacy `GET /sse` stream, a streamable-HTTP POST's
 * `text/event-stream` answer, the `GET /mcp` stream) from copies of its chunks, with `eventsource-parser`
 * doing the framing. Bounded and never throwing: the bytes themselves are never held or changed.
 *
 * - Events whose data exceed the bound (`limit` characters) are not kept: eventsource-parser's
 *   `maxBufferSize` stops buffering them, the feed reports `too_large`, and it resynchronises on the blank
 *   line that ends the oversized event ({@link findEventBoundary}), so the events after it are read as usual.
 *   To know where that blank line is, each chunk is fed in slices shorter than the bound: an overflow
 *   inside a slice then always belongs to an event that began before the slice, and its end is the first
 *   blank line from the start of the slice.
 * - A stream that ends in the middle of an event reports `stream_cut` (a client drops such an event too).
 * - Events with empty data (e.g. priming events) are skipped; comments and `retry:` are ignored.
 */
import { createParser, type EventSourceParser } from 'eventsource-parser';

export type SseProblem = 'too_large' | 'stream_cut';

export interface SseFeedSink {
  /** A complete event within the bound. `event` is `undefined` for the default type (`message`). */
  onEvent(event: string | undefined, data: string): void;
  onProblem(problem: SseProblem): void;
}

/** Blank-line scanner state carried across chunks: was the previous character a line end, and a CR? */
export interface BoundaryState {
  /** The previous character ended a line (so another line end makes a blank line). */
  atLineStart: boolean;
  /** The previous character was `\r` (a following `\n` belongs to the same line end). */
  afterCr: boolean;
}

/**
 * Index just past the first blank line in `text` (the end of an SSE event: a line end right after a line
 * end, where a line end is `\r\n`, `\n` or `\r`), or -1. Updates `state` for the next call.
 */
export function findEventBoundary(text: string, state: BoundaryState): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) {
      if (state.afterCr) {
        state.afterCr = false;
        continue;
      }
      if (state.atLineStart) {
        state.atLineStart = true;
        return i + 1;
      }
      state.atLineStart = true;
    } else if (c === 13) {
      if (state.atLineStart) {
        // `\r` ends the blank line; a `\n` right after it is part of that line end.
        const end = text.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
        state.afterCr = end === i + 1;
        return end;
      }
      state.atLineStart = true;
      state.afterCr = true;
    } else {
      state.atLineStart = false;
      state.afterCr = false;
    }
  }
  return -1;
}

export class SseFeed {
  readonly #limit: number;
  readonly #sink: SseFeedSink;
  readonly #parser: EventSourceParser;
  readonly #decoder = new TextDecoder('utf-8');
  /** Longest slice fed at once: shorter than the bound (see module doc). */
  readonly #slice: number;
  #overflowed = false;
  /** Skipping the rest of an oversized event until its blank line. */
  #resync: BoundaryState | undefined = undefined;
  /** The last two characters fed, to start a resync scan in the right state. */
  #lastFed = '';
  #ending = false;
  #ended = false;

  /** @param limit largest event data kept, in characters (`--body-capture-limit`, default 64 KiB). */
  constructor(limit: number, sink: SseFeedSink) {
    this.#limit = Math.max(16, limit);
    this.#slice = this.#limit - 1;
    this.#sink = sink;
    this.#parser = createParser({
      maxBufferSize: this.#limit,
      onEvent: (e) => {
        if (this.#ending) {
          this.#sink.onProblem('stream_cut');
          return;
        }
        if (e.data.trim() === '') return;
        // The parser checks its buffer between feeds, so an event completed within one slice can reach
        // nearly twice the bound: hold every delivered event to the bound itself (found by fuzzing).
        if (e.data.length > this.#limit) {
          this.#sink.onProblem('too_large');
          return;
        }
        this.#sink.onEvent(e.event, e.data);
      },
      onError: (err) => {
        if (err.type === 'max-buffer-size-exceeded') this.#overflowed = true;
      },
    });
  }

  /** Copies what it needs of a chunk of the stream (the caller's buffer is not kept). */
  push(chunk: Buffer): void {
    if (this.#ended) return;
    this.#text(this.#decoder.decode(chunk, { stream: true }));
  }

  /** The stream ended: reports an event it left incomplete. Idempotent. */
  end(): void {
    if (this.#ended) return;
    const rest = this.#decoder.decode();
    if (rest !== '') this.#text(rest);
    this.#ended = true;
    if (this.#resync !== undefined) return; // the oversized event was cut: already reported as too_large
    this.#ending = true;
    this.#parser.feed('\n\n');
    this.#parser.reset();
  }

  #text(text: string): void {
    let start = 0;
    while (start < text.length) {
      if (this.#resync !== undefined) {
        const rest = start === 0 ? text : text.slice(start);
        const b = findEventBoundary(rest, this.#resync);
        if (b === -1) {
          this.#remember(rest);
          return;
        }
        this.#resync = undefined;
        this.#remember(rest.slice(0, b));
        start += b;
        continue;
      }
      const end = Math.min(text.length, start + this.#slice);
      const piece = start === 0 && end === text.length ? text : text.slice(start, end);
      this.#parser.feed(piece);
      if (this.#overflowed) {
        this.#overflowed = false;
        this.#parser.reset();
        this.#sink.onProblem('too_large');
        this.#resync = this.#stateAfter(this.#lastFed);
        continue; // rescan this piece from its start for the end of the oversized event
      }
      this.#remember(piece);
      start = end;
    }
  }

  #remember(piece: string): void {
    this.#lastFed = piece.length >= 2 ? piece.slice(-2) : (this.#lastFed + piece).slice(-2);
  }

  #stateAfter(tail: string): BoundaryState {
    const state: BoundaryState = { atLineStart: false, afterCr: false };
    findEventBoundary(tail, state);
    return state;
  }
}
