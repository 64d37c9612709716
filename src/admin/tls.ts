/**
 * TLS for the metrics port, like Prometheus's own web config: a certificate and key
 * (`--metrics-tls-cert`, `--metrics-tls-key`) and optionally the CA whose client certificates `/metrics`
 * requires (`--metrics-client-ca`).
 *
 * The files are re-read when they change — cert-manager and Kubernetes Secrets replace them by swapping a
 * symlink, so the target's inode and mtime change — checked at most every `checkEveryMs`, on a new
 * connection, before its handshake: the connection that notices a change already gets the new
 * certificate. A new set that cannot be read or does not form a valid context (a key that does not match
 * its certificate, half-written files) keeps the previous one and is reported once, then retried.
 */
import type { SecureContextOptions } from 'node:tls';
import { DEFAULT_CHECK_EVERY_MS, fileModifiedAt, fileStamp, ReloadingFile } from '../config/reloading-file.ts';
import { readTlsMaterial, type TlsPaths } from '../config/tls-material.ts';

export type TlsFilesListener = (event: 'reloaded' | 'invalid', detail: string) => void;

function stamp(path: string): string {
  return fileStamp(path) ?? 'missing';
}

/** The newest mtime of `paths`, `undefined` if one cannot be stat'ed. */
function newest(paths: readonly string[]): number | undefined {
  let latest = 0;
  for (const p of paths) {
    const m = fileModifiedAt(p);
    if (m === undefined) return undefined;
    latest = Math.max(latest, m);
  }
  return latest;
}

/** The current TLS material, re-read when a file changes. */
export class TlsFiles {
  readonly paths: TlsPaths;
  readonly #files: ReloadingFile<SecureContextOptions>;
  /** The options last handed out by {@link check} (a settled change may be read by the reloader's timer). */
  #inUse: SecureContextOptions;

  /**
   * Reads the files now (throws like {@link readTlsMaterial}).
   * @param checkEveryMs shortest time between two checks of the files. @default DEFAULT_CHECK_EVERY_MS
   */
  constructor(paths: TlsPaths, checkEveryMs = DEFAULT_CHECK_EVERY_MS, listener?: TlsFilesListener) {
    this.paths = paths;
    this.#files = new ReloadingFile(
      {
        stamp: () => `${stamp(paths.cert)}|${stamp(paths.key)}|${paths.clientCa === undefined ? '' : stamp(paths.clientCa)}`,
        modifiedAt: () => newest([paths.cert, paths.key, ...(paths.clientCa === undefined ? [] : [paths.clientCa])]),
        read: () => readTlsMaterial(paths),
        onReloaded: () => listener?.('reloaded', paths.cert),
        onFailed: (err) => listener?.('invalid', (err as Error).message),
      },
      checkEveryMs,
    );
    this.#inUse = this.#files.value;
  }

  /** The options of the context in use. */
  get options(): SecureContextOptions {
    return this.#files.value;
  }

  /** New options when the files changed (and form a valid set) since the last call, else `undefined`. */
  check(): SecureContextOptions | undefined {
    this.#files.check();
    const current = this.#files.value;
    if (current === this.#inUse) return undefined;
    this.#inUse = current;
    return current;
  }
}
