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
 */
import { constants, crc32, deflateRawSync } from 'node:zlib';

/**
 * The member header: magic, deflate, no flags, no modification time, XFL 4 (the fastest level), OS 255
 * (unknown).
 */
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0x04, 0xff]);
const EMPTY = Buffer.alloc(0);

export class GzipPieces {
  readonly #level: number;
  #crc = 0;
  #size = 0;
  #started = false;

  /** @param level zlib's compression level of every piece. */
  constructor(level: number) {
    this.#level = level;
  }

  /** The compressed bytes of `text`'s UTF-8, preceded by the member header the first time. */
  piece(text: string): Buffer {
    const raw = Buffer.from(text, 'utf8');
    this.#crc = crc32(raw, this.#crc);
    // ISIZE is the length modulo 2^32.
    this.#size = (this.#size + raw.length) >>> 0;
    const deflated = deflateRawSync(raw, { level: this.#level, finishFlush: constants.Z_SYNC_FLUSH });
    if (this.#started) return deflated;
    this.#started = true;
    return Buffer.concat([HEADER, deflated]);
  }

  /** The end of the member: the header if no piece was written, the final block, the trailer. */
  end(): Buffer {
    const last = deflateRawSync(EMPTY, { level: this.#level, finishFlush: constants.Z_FINISH });
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.#crc >>> 0, 0);
    trailer.writeUInt32LE(this.#size, 4);
    const parts = this.#started ? [last, trailer] : [HEADER, last, trailer];
    this.#started = true;
    return Buffer.concat(parts);
  }
}
