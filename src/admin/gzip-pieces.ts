/**
 * One gzip member (RFC 1952) written piece by piece, each piece compressed synchronously on the calling
 * thread: a raw deflate stream per piece ended by a sync flush (no final block, byte-aligned), so that the
 * pieces concatenate into one valid deflate stream; a final empty block and the CRC-32 and length trailer
 * at the end. Each piece starts without the previous one's window, which costs a few bytes per piece and
 * nothing else (a decoder never sees the boundaries).
 *
 * Why not `zlib.createGzip`: its work runs on libuv's thread pool, which in a sidecar shares the event
 * loop's core, and the kernel then divides that core between the two threads in slices of milliseconds:
 * a proxied request arriving while a slice of the scrape is compressed waits for the scheduler, not for
 * the event loop. Compressing on the event loop, one serialised slice at a time, bounds that wait by the
 * time one slice takes (docs/performance.md, "Scrapes in slices").
 *
 * Because each piece is compressed on its own, a piece whose text is the same as a piece of the last
 * complete answer can be written as it was compressed then ({@link PieceReuse}): most series of an
 * exposition do not move between two scrapes, so most slices are the same text. The CRC-32 and the length
 * are always computed from the text being written, so a stale piece could never pass a decoder's check.
 */
import { constants, crc32, deflateRawSync } from 'node:zlib';

/**
 * Bytes of text kept per store for reuse: the pieces of an answer past it are compressed every time.
 * @default 4 MiB (a 10,000-series exposition is ~1 MB)
 */
export const REUSE_MAX_BYTES = 4 * 1024 * 1024;

/** A piece as written: its text's UTF-8 (outside the V8 heap, which a scavenge never copies) and its compressed bytes. */
interface KeptPiece {
  readonly raw: Buffer;
  readonly deflated: Buffer;
}

/** Pieces by the length of their UTF-8: a lookup compares the bytes of the few of one length. */
type PiecesByLength = Map<number, KeptPiece[]>;

/** The piece of `pieces` whose text had exactly the bytes `raw`, if any. */
function pieceOf(pieces: PiecesByLength, raw: Buffer): KeptPiece | undefined {
  return pieces.get(raw.length)?.find((p) => p.raw.equals(raw));
}

/**
 * The compressed pieces of the last complete answer of one kind (one format, one level), found by their
 * text. An answer reads it while it is written and replaces it when it ends complete; answers written at
 * the same time each read the same store, and the last to complete is the one kept.
 */
export class PieceReuse {
  readonly #maxBytes: number;
  #pieces: PiecesByLength = new Map();

  /** @param maxBytes text kept at most, in UTF-8 bytes. @default REUSE_MAX_BYTES */
  constructor(maxBytes: number = REUSE_MAX_BYTES) {
    this.#maxBytes = maxBytes;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** The compressed bytes of a piece of the last complete answer whose text had exactly these bytes, if any. */
  get(raw: Buffer): Buffer | undefined {
    return pieceOf(this.#pieces, raw)?.deflated;
  }

  /** The pieces of an answer that ended complete: they are what the next answers reuse. */
  keep(pieces: PiecesByLength): void {
    this.#pieces = pieces;
  }
}

/**
 * The member header: magic, deflate, no flags, no modification time, XFL 4 (the fastest level), OS 255
 * (unknown).
 */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0x04, 0xff]);
const EMPTY = Buffer.alloc(0);

export class GzipPieces {
  readonly #level: number;
  readonly #reuse: PieceReuse | undefined;
  /** This answer's pieces, for {@link PieceReuse.keep} when it ends (only with a store). */
  readonly #kept: PiecesByLength = new Map();
  #keptBytes = 0;
  #reused = 0;
  #crc = 0;
  #size = 0;
  #started = false;

  /**
   * @param level zlib's compression level of every piece.
   * @param reuse the store of the last complete answer's pieces, compressed at this level. @default none
   */
  constructor(level: number, reuse?: PieceReuse) {
    this.#level = level;
    this.#reuse = reuse;
  }

  /** Pieces written as the last complete answer had them compressed. */
  get reused(): number {
    return this.#reused;
  }

  /** The compressed bytes of `text`'s UTF-8, preceded by the member header the first time. */
  piece(text: string): Buffer {
    const raw = Buffer.from(text, 'utf8');
    this.#crc = crc32(raw, this.#crc);
    // ISIZE is the length modulo 2^32.
    this.#size = (this.#size + raw.length) >>> 0;
    const deflated = this.#deflated(raw);
    if (this.#started) return deflated;
    this.#started = true;
    return Buffer.concat([HEADER, deflated]);
  }

  #deflated(raw: Buffer): Buffer {
    const reuse = this.#reuse;
    let deflated = reuse?.get(raw);
    if (deflated !== undefined) this.#reused++;
    else deflated = deflateRawSync(raw, { level: this.#level, finishFlush: constants.Z_SYNC_FLUSH });
    if (reuse !== undefined && this.#keptBytes + raw.length <= reuse.maxBytes) this.#keep(raw, deflated);
    return deflated;
  }

  /** Keeps a piece for the store (once per text). */
  #keep(raw: Buffer, deflated: Buffer): void {
    if (pieceOf(this.#kept, raw) !== undefined) return;
    const same = this.#kept.get(raw.length);
    if (same === undefined) this.#kept.set(raw.length, [{ raw, deflated }]);
    else same.push({ raw, deflated });
    this.#keptBytes += raw.length;
  }

  /** The end of the member: the header if no piece was written, the final block, the trailer. */
  end(): Buffer {
    const last = deflateRawSync(EMPTY, { level: this.#level, finishFlush: constants.Z_FINISH });
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.#crc >>> 0, 0);
    trailer.writeUInt32LE(this.#size, 4);
    const parts = this.#started ? [last, trailer] : [HEADER, last, trailer];
    this.#started = true;
    this.#reuse?.keep(this.#kept);
    return Buffer.concat(parts);
  }
}
