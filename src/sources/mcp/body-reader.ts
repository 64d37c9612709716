/**
 * A bounded copy of one JSON body (a POST's JSON-RPC messages, or a streamable-HTTP `application/json`
 * answer), read once. With a `Content-Length` the body is known to be complete as soon as its last byte
 * is copied, so it can be read before the response arrives; without one it is read when the caller knows
 * it is complete.
 */
import { BodyCapture } from '../../observe/body-capture.ts';
import type { ParsedMessages } from './jsonrpc.ts';
import type { MessageReader } from './read-messages.ts';

export type BodyRead = ParsedMessages | 'too_large' | 'empty';

export class BodyReader {
  readonly #capture: BodyCapture;
  readonly #expected: number | undefined;
  #taken = false;

  /**
   * @param limit largest body copied (`--body-capture-limit`, default 64 KiB); a larger one is not read.
   * @param contentLength the body's `Content-Length` header, if any.
   */
  constructor(limit: number, contentLength: string | string[] | undefined) {
    this.#capture = new BodyCapture(limit);
    const n = typeof contentLength === 'string' ? Number(contentLength) : NaN;
    this.#expected = Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  }

  /** Copies a chunk; true once the body is complete by its `Content-Length` (or too large to read). */
  push(chunk: Buffer): boolean {
    if (this.#taken) return false;
    this.#capture.push(chunk);
    return this.#capture.overflowed || (this.#expected !== undefined && this.#capture.size >= this.#expected);
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
