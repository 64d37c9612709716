/**
 * Bearer-token checks for the metrics port. Tokens are compared in constant time on SHA-256 digests of
 * both sides, so neither the comparison time nor an early length mismatch says anything about the token.
 * A token file is re-read when it changes, so rotating the token needs no restart.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { DEFAULT_CHECK_EVERY_MS, DEFAULT_SETTLE_MS } from '../config/reloading-file.ts';
import { SecretFile, type SecretFileListener } from '../config/secret-file.ts';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Extracts the credentials of an `Authorization: Bearer …` header, or `undefined`. */
export function bearerCredentials(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

export interface TokenSource {
  /** Digest of the token currently accepted. */
  current(): Buffer;
}

export class InlineToken implements TokenSource {
  readonly #digest: Buffer;
  constructor(token: string) {
    this.#digest = digest(token);
  }
  current(): Buffer {
    return this.#digest;
  }
}

/** A token read from a file and re-read when the file changes (see {@link SecretFile}). */
export class FileToken implements TokenSource {
  readonly #file: SecretFile;
  #token = '';
  #digest: Buffer = Buffer.alloc(0);

  /**
   * @param checkEveryMs see {@link SecretFile}. @default DEFAULT_CHECK_EVERY_MS
   * @param settleMs see {@link SecretFile}. @default DEFAULT_SETTLE_MS
   */
  constructor(path: string, checkEveryMs = DEFAULT_CHECK_EVERY_MS, listener?: SecretFileListener, settleMs = DEFAULT_SETTLE_MS) {
    this.#file = new SecretFile(path, checkEveryMs, listener, settleMs);
  }

  current(): Buffer {
    const token = this.#file.value();
    if (token !== this.#token) {
      this.#token = token;
      this.#digest = digest(token);
    }
    return this.#digest;
  }
}

/** Whether an `Authorization` header carries the accepted token. */
export function verifyBearer(header: string | undefined, source: TokenSource): boolean {
  const presented = bearerCredentials(header);
  const expected = source.current();
  // Always hash and compare, even without credentials, so a missing token costs the same as a wrong one.
  const ok = timingSafeEqual(digest(presented ?? ''), expected);
  return ok && presented !== undefined;
}
