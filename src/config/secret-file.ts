/**
 * A secret held in a file (a mounted Kubernetes Secret, say), re-read when the file changes — Kubernetes
 * swaps a symlink on update, so the target's inode and mtime change. Checked at most every
 * `checkEveryMs`, and read only once the file has settled (reloading-file.ts: a file being written in
 * place is never read half-written); an unreadable or empty new file keeps the last good value and is
 * reported once.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_CHECK_EVERY_MS, DEFAULT_SETTLE_MS, fileModifiedAt, fileStamp, ReloadingFile } from './reloading-file.ts';
import { parseToken } from './values.ts';

/** Shortest key `readKeyFile` accepts. */
export const MIN_KEY_BYTES = 16;

/**
 * Reads a key file: its bytes without surrounding ASCII whitespace (a trailing newline), at least
 * {@link MIN_KEY_BYTES} of them (`openssl rand -base64 32 > key` makes a good one).
 * @throws Error saying why the file is unusable (never its content).
 */
export function readKeyFile(path: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read key file ${path} (${(err as NodeJS.ErrnoException).code ?? 'unknown error'})`);
  }
  let start = 0;
  let end = bytes.length;
  const space = (b: number | undefined): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
  while (start < end && space(bytes[start])) start++;
  while (end > start && space(bytes[end - 1])) end--;
  if (end - start < MIN_KEY_BYTES) throw new Error(`key file ${path}: the key must be at least ${MIN_KEY_BYTES} bytes (it has ${end - start})`);
  return bytes.subarray(start, end);
}

export type SecretFileListener = (event: 'reloaded' | 'unreadable', detail: string) => void;

export class SecretFile {
  readonly path: string;
  readonly #file: ReloadingFile<string>;

  /**
   * Reads the file now; throws if it is unreadable or holds no valid token (the configuration loader checks
   * this first, so startup fails with a clear message).
   * @param checkEveryMs shortest time between two checks of the file. @default DEFAULT_CHECK_EVERY_MS
   * @param settleMs how long the file must have been left alone before a change is read. @default DEFAULT_SETTLE_MS
   */
  constructor(path: string, checkEveryMs = DEFAULT_CHECK_EVERY_MS, listener?: SecretFileListener, settleMs = DEFAULT_SETTLE_MS) {
    this.path = path;
    this.#file = new ReloadingFile(
      {
        stamp: () => fileStamp(path),
        modifiedAt: () => fileModifiedAt(path),
        read: () => parseToken(readFileSync(path, 'utf8')),
        onReloaded: (next, previous, wasFailing) => {
          if (wasFailing || next !== previous) listener?.('reloaded', path);
        },
        onFailed: (err) => listener?.('unreadable', `${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`),
      },
      checkEveryMs,
      settleMs,
    );
  }

  /** The current secret. */
  value(): string {
    this.#file.check();
    return this.#file.value;
  }
}
