/**
 * A value read from files (a token, a certificate and its key) and read again when they change.
 * Kubernetes Secrets and cert-manager replace mounted files by swapping a symlink, so the target's inode,
 * mtime or size change: the files' stamp is compared at most every `checkEveryMs`, and only a changed stamp
 * (or a previous failure) leads to a new read. A read that fails keeps the last good value; it is reported
 * once, then retried at every check until one succeeds.
 */
import { statSync } from 'node:fs';

/** The stamp of one file (inode, mtime, size), or `undefined` when it cannot be stat'ed. */
export function fileStamp(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.ino}:${st.mtimeMs}:${st.size}`;
  } catch {
    return undefined;
  }
}

export interface ReloadingSource<T> {
  /** The stamp of the files; `undefined` (cannot be stat'ed) never counts as unchanged. */
  stamp(): string | undefined;
  /** Reads and validates the value; throws when the files do not hold a valid one. */
  read(): T;
  /** A read succeeded at a check (`wasFailing`: the previous attempt had failed). */
  onReloaded?(next: T, previous: T, wasFailing: boolean): void;
  /** A read failed at a check, the first time since the last success. */
  onFailed?(err: unknown): void;
}

export class ReloadingFile<T> {
  readonly #source: ReloadingSource<T>;
  readonly #checkEveryMs: number;
  #value: T;
  #stamp: string | undefined;
  #checkedAt: number;
  #failing = false;

  /**
   * Reads the value now (throws like `source.read`).
   * @param checkEveryMs shortest time between two checks of the files. @default 1000
   */
  constructor(source: ReloadingSource<T>, checkEveryMs = 1000) {
    this.#source = source;
    this.#checkEveryMs = checkEveryMs;
    this.#stamp = source.stamp();
    this.#value = source.read();
    this.#checkedAt = Date.now();
  }

  /** The last value read successfully. */
  get value(): T {
    return this.#value;
  }

  /** Checks the files if `checkEveryMs` has passed: the new value when it was read again, else `undefined`. */
  check(): T | undefined {
    const now = Date.now();
    if (now - this.#checkedAt < this.#checkEveryMs) return undefined;
    this.#checkedAt = now;
    const stamp = this.#source.stamp();
    if (stamp !== undefined && stamp === this.#stamp && !this.#failing) return undefined;
    try {
      const next = this.#source.read();
      const previous = this.#value;
      const wasFailing = this.#failing;
      this.#value = next;
      this.#stamp = stamp;
      this.#failing = false;
      this.#source.onReloaded?.(next, previous, wasFailing);
      return next;
    } catch (err) {
      if (!this.#failing) this.#source.onFailed?.(err);
      this.#failing = true;
      return undefined;
    }
  }
}
