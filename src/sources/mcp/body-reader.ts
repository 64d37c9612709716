/**
 * A bounded copy of one JSON body (a POST's JSON-RPC messages, or a streamable-HTTP `application/json`
 * answer), read once. With a `Content-Length` the body is known to be complete as soon as its last byte
 * is copied, so it can be read before the response arrives; without one it is read when the caller knows
 * it is complete.
 *
 * A body that arrives whole in its first chunk (the usual POST: small, with a `Content-Length`) is read
 * straight from that chunk, during the call that hands it over: it is never copied.
 */
import { BodyCapture } from '../../observe/body-capture.ts';
import type { ParsedMessages } from './jsonrpc.ts';
import type { MessageReader } from './read-messages.ts';

export type BodyRead = ParsedMessages | 'too_large' | 'empty';

export class BodyReader {
  readonly #capture: BodyCapture;
  readonly #expected: number | undefined;
  readonly #limit: number;
  #taken = false;

  /**
   * @param limit largest body copied (`--body-capture-limit`, default 64 KiB); a larger one is not read.
   * @param contentLength the body's `Content-Length` header, if any.
   */
  constructor(limit: number, contentLength: string | string[] | undefined) {
    this.#capture = new BodyCapture(limit);
    this.#limit = limit;
    const n = typeof contentLength === 'string' ? Number(contentLength) : NaN;
    this.#expected = Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  }

  /**
   * Copies a chunk; once the body is complete by its `Content-Length` (or too large to read), reads it with
   * `read` and returns what it gave (`undefined` until then, and after). A body whole in its first chunk is
   * read from the chunk itself, not copied: the chunk is the caller's only until this returns.
   */
  push(chunk: Buffer, read: MessageReader): BodyRead | undefined {
    if (this.#taken) return undefined;
    const capture = this.#capture;
    if (capture.size === 0 && chunk.length === this.#expected && chunk.length <= this.#limit) {
      this.#taken = true;
      return chunk.length === 0 ? 'empty' : read(chunk);
    }
    capture.push(chunk);
    return capture.overflowed || (this.#expected !== undefined && capture.size >= this.#expected) ? this.take(read) : undefined;
  }

  /** True once the body has been read. */
  get taken(): boolean {
    return this.#taken;
  }

  /** Reads the body with `read`, the first time only (`undefined` afterwards). */
  take(read: MessageReader): BodyRead | undefined {
    if (this.#taken) return undefined;
    this.#taken = true;
    if (this.#capture.overflowed) return 'too_large';
    const bytes = this.#capture.bytes();
    if (bytes === undefined || bytes.length === 0) return 'empty';
    return read(bytes);
  }
}
