/**
 * A secret held in a file (a mounted Kubernetes Secret, say), re-read when the file changes — Kubernetes
 * swaps a symlink on update, so the target's inode and mtime change. Checked at most every
 * `checkEveryMs`; an unreadable or empty new file keeps the last good value and is reported once.
 */
import { readFileSync, statSync } from 'node:fs';
import { parseToken } from './values.ts';

export type SecretFileListener = (event: 'reloaded' | 'unreadable', detail: string) => void;

export class SecretFile {
  readonly path: string;
  readonly #checkEveryMs: number;
  readonly #listener: SecretFileListener | undefined;
  #value: string;
  #stamp: string | undefined;
  #checkedAt: number;
  #failing = false;

  /**
   * Reads the file now; throws if it is unreadable or holds no valid token (the configuration loader checks
   * this first, so startup fails with a clear message).
   * @param checkEveryMs shortest time between two checks of the file. @default 1000
   */
  constructor(path: string, checkEveryMs = 1000, listener?: SecretFileListener) {
    this.path = path;
    this.#checkEveryMs = checkEveryMs;
    this.#listener = listener;
    this.#stamp = this.#statStamp();
    this.#value = parseToken(readFileSync(path, 'utf8'));
    this.#checkedAt = Date.now();
  }

  #statStamp(): string | undefined {
    try {
      const st = statSync(this.path);
      return `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch {
      return undefined;
    }
  }

  /** The current secret. */
  value(): string {
    const now = Date.now();
    if (now - this.#checkedAt >= this.#checkEveryMs) {
      this.#checkedAt = now;
      this.#refresh();
    }
    return this.#value;
  }

  #refresh(): void {
    const stamp = this.#statStamp();
    if (stamp !== undefined && stamp === this.#stamp && !this.#failing) return;
    try {
      const next = parseToken(readFileSync(this.path, 'utf8'));
      const changed = next !== this.#value;
      this.#value = next;
      this.#stamp = stamp;
      if (this.#failing || changed) this.#listener?.('reloaded', this.path);
      this.#failing = false;
    } catch (err) {
      if (!this.#failing) this.#listener?.('unreadable', `${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      this.#failing = true;
    }
  }
}
