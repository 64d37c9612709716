/**
 * A bounded copy of a body, for classification. Chunks are copied only while the total stays within the
 * limit; past it the copy is dropped and marked `overflowed` — the stream itself is never held or slowed.
 * It is the response tap of the exchange it copies.
 */
import type { ExchangeTap } from './exchange.ts';

export class BodyCapture implements ExchangeTap {
  readonly #limit: number;
  #chunks: Buffer[] = [];
  #size = 0;
  #overflowed = false;

  /** @param limit largest number of bytes kept (`--body-capture-limit`, default 64 KiB). */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Copies a chunk (the caller's buffer may be reused after this returns). */
  push(chunk: Buffer): void {
    if (this.#overflowed) return;
    if (this.#size + chunk.length > this.#limit) {
      this.#overflowed = true;
      this.#chunks = [];
      return;
    }
    this.#chunks.push(Buffer.from(chunk));
    this.#size += chunk.length;
  }

  onResponseBody(chunk: Buffer): void {
    this.push(chunk);
  }

  /** True once the body went past the limit: there is no copy. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  get size(): number {
    return this.#size;
  }

  /** The bytes kept, or `undefined` if the body overflowed. */
  bytes(): Buffer | undefined {
    if (this.#overflowed) return undefined;
    return this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#size);
  }

  /** Parses the kept bytes as JSON; `undefined` when overflowed, empty or not JSON. */
  json(): unknown {
    const b = this.bytes();
    if (b === undefined || b.length === 0) return undefined;
    try {
      return JSON.parse(b.toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }
}
