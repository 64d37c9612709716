/**
 * A value read from files (a token, a certificate and its key) and read again when they change.
 * Kubernetes Secrets and cert-manager replace mounted files by swapping a symlink, so the target's inode,
 * mtime or size change: the files' stamp is compared at most every `checkEveryMs`, and only a changed stamp
 * (or a previous failure) leads to a new read. A read that fails keeps the last good value; it is reported
 * once, then retried at every check until one succeeds.
 *
 * A change is read only once the files are stable: last modified at least `settleMs` ago (or, whatever
 * their mtime says, seen unchanged for `settleMs`), and with the same stamp after the read as before it.
 * A file written in place in several steps (`echo token > file` truncates, then writes; an editor may write
 * in pieces) is never read between two steps less than `settleMs` apart, so a prefix of the new token is
 * never accepted; meanwhile the last good value stays in use. A change first seen before it has settled is
 * looked at again, by a timer, as soon as it can have.
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

/** When a file was last modified (ms since the epoch), or `undefined` when it cannot be stat'ed. */
export function fileModifiedAt(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** How long files must have been left alone before a change is read. @default 500 ms */
export const DEFAULT_SETTLE_MS = 500;

/**
 * Shortest time between two checks of a reloading file (token, key and certificate files): a change is
 * seen within this long of the next request that reads the file. @default 1000 ms
 */
export const DEFAULT_CHECK_EVERY_MS = 1000;

export interface ReloadingSource<T> {
  /** The stamp of the files; `undefined` (cannot be stat'ed) never counts as unchanged. */
  stamp(): string | undefined;
  /** When the files were last modified (the newest mtime); `undefined` when unknown. */
  modifiedAt?(): number | undefined;
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
  readonly #settleMs: number;
  #value: T;
  #stamp: string | undefined;
  #checkedAt: number;
  #failing = false;
  /** A change seen but not read yet: its stamp and when it was first seen. */
  #pending: { readonly stamp: string | undefined; readonly since: number } | undefined = undefined;
  #timer: NodeJS.Timeout | undefined = undefined;

  /**
   * Reads the value now (throws like `source.read`).
   * @param checkEveryMs shortest time between two checks of the files. @default DEFAULT_CHECK_EVERY_MS
   * @param settleMs how long the files must have been left alone before a change is read. @default DEFAULT_SETTLE_MS
   */
  constructor(source: ReloadingSource<T>, checkEveryMs = DEFAULT_CHECK_EVERY_MS, settleMs = DEFAULT_SETTLE_MS) {
    this.#source = source;
    this.#checkEveryMs = checkEveryMs;
    this.#settleMs = settleMs;
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
    return this.#check(now);
  }

  #check(now: number): T | undefined {
    this.#checkedAt = now;
    const stamp = this.#source.stamp();
    if (stamp !== undefined && stamp === this.#stamp && !this.#failing) {
      this.#pending = undefined;
      return undefined;
    }
    if (this.#pending === undefined || this.#pending.stamp !== stamp) this.#pending = { stamp, since: now };
    const modifiedAt = this.#source.modifiedAt?.();
    const quietFor = Math.max(now - this.#pending.since, modifiedAt === undefined ? 0 : now - modifiedAt);
    if (quietFor < this.#settleMs) {
      this.#recheckIn(this.#settleMs - quietFor);
      return undefined;
    }
    try {
      const next = this.#source.read();
      if (this.#source.stamp() !== stamp) {
        // Written to while it was read: not stable yet.
        this.#pending = undefined;
        this.#recheckIn(this.#settleMs);
        return undefined;
      }
      const previous = this.#value;
      const wasFailing = this.#failing;
      this.#value = next;
      this.#stamp = stamp;
      this.#failing = false;
      this.#pending = undefined;
      this.#source.onReloaded?.(next, previous, wasFailing);
      return next;
    } catch (err) {
      if (!this.#failing) this.#source.onFailed?.(err);
      this.#failing = true;
      return undefined;
    }
  }

  /** Looks again once a pending change can have settled (one timer at a time; it never keeps the process alive). */
  #recheckIn(ms: number): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#check(Date.now());
    }, ms + 1);
    this.#timer.unref();
  }
}
