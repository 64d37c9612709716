/**
 * The metrics port's TLS files (`--metrics-tls-cert`, `--metrics-tls-key`, `--metrics-client-ca`): their
 * paths and the one reader that checks they form a valid context. The loader reads them once to refuse a
 * bad set at start (exit 2); admin/tls.ts reads them again when they change.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';

export interface TlsPaths {
  readonly cert: string;
  readonly key: string;
  /** CA bundle that client certificates must chain to; `undefined` asks for none. */
  readonly clientCa: string | undefined;
}

/**
 * Reads the files and checks that they form a valid context.
 * @throws Error naming the flag whose file is unreadable, or saying that the set is invalid (never the key).
 */
export function readTlsMaterial(paths: TlsPaths): SecureContextOptions {
  const read = (path: string, flag: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${flag}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  const options: SecureContextOptions = {
    cert: read(paths.cert, '--metrics-tls-cert'),
    key: read(paths.key, '--metrics-tls-key'),
    ...(paths.clientCa !== undefined ? { ca: read(paths.clientCa, '--metrics-client-ca') } : {}),
  };
  try {
    createSecureContext(options);
  } catch (err) {
    // OpenSSL's reason ("key values mismatch", "no start line") names no secret.
    const reason = (err as { reason?: unknown }).reason;
    throw new Error(
      `--metrics-tls-cert / --metrics-tls-key: not a valid certificate and key (${typeof reason === 'string' ? reason : (err as Error).message})`,
    );
  }
  return options;
}
