/**
 * Bearer-token checks for the metrics port. Tokens are compared in constant time on SHA-256 digests of
 * both sides, so neither the comparison time nor an early length mismatch says anything about the token.
 * A token file is re-read when it changes (Kubernetes updates a mounted Secret by swapping a symlink),
 * so rotating the token needs no restart; an unreadable or empty new file keeps the last good token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { parseToken } from '../config/values.ts';

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

export type TokenFileListener = (event: 'reloaded' | 'unreadable', detail: string) => void;

export class FileToken implements TokenSource {
  readonly #path: string;
  readonly #checkEveryMs: number;
  readonly #listener: TokenFileListener | undefined;
  #digest: Buffer;
  #stamp: string;
  #checkedAt = 0;
  #failing = false;

  /** Reads the file now (it must be valid: the loader checked it) and re-checks it at most every `checkEveryMs`. */
  constructor(path: string, checkEveryMs = 1000, listener?: TokenFileListener) {
    this.#path = path;
    this.#checkEveryMs = checkEveryMs;
    this.#listener = listener;
    this.#stamp = this.#statStamp() ?? '';
    this.#digest = digest(parseToken(readFileSync(path, 'utf8')));
    this.#checkedAt = Date.now();
  }

  #statStamp(): string | undefined {
    try {
      // statSync follows the symlink: a swapped Secret changes the inode and mtime of the target.
      const st = statSync(this.#path);
      return `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch {
      return undefined;
    }
  }

  current(): Buffer {
    const now = Date.now();
    if (now - this.#checkedAt >= this.#checkEveryMs) {
      this.#checkedAt = now;
      this.#refresh();
    }
    return this.#digest;
  }

  #refresh(): void {
    const stamp = this.#statStamp();
    if (stamp !== undefined && stamp === this.#stamp && !this.#failing) return;
    try {
      const token = parseToken(readFileSync(this.#path, 'utf8'));
      const next = digest(token);
      const changed = !timingSafeEqual(next, this.#digest);
      this.#digest = next;
      this.#stamp = stamp ?? '';
      if (this.#failing || changed) this.#listener?.('reloaded', this.#path);
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) this.#listener?.('unreadable', `${this.#path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      this.#failing = true;
    }
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
