/**
 * The status page of the metrics port: three hand-written files (src/admin/status/: HTML, CSS, JS; no
 * build step, no third-party code) served without a token — they hold no data — and `/status.json`, the
 * data, behind the same credentials as `/metrics` (server.ts checks them before calling here).
 *
 * Every answer carries a strict Content-Security-Policy: nothing but the sidecar's own script, style and
 * `fetch` (`connect-src 'self'`), no inline script or style, no frames (`frame-ancestors 'none'`), no form
 * submission (`form-action 'none'`: the token form is read by the script and never submitted, so the
 * token cannot end up in a query string). The page takes the token from the URL fragment (`#token=…`, which
 * browsers never send) or from its form, keeps it in memory only and sends it as `Authorization: Bearer`.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { ErrorAnswers } from '../errors.ts';

const gzipAsync = promisify(gzip);

export const STATUS_JSON_PATH = '/status.json';

export const STATUS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Headers of every status answer (page and data). */
export const STATUS_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': STATUS_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/**
 * The page's files by path, with their content types. The page refers to the others relatively
 * (`status/app.js`, `status.json`), so it works under a path prefix too; hence no `/status/` alias, where
 * those would resolve elsewhere.
 */
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/status': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/status/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/status/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/** Whether a path is one of the page's files. */
export function isStatusAsset(path: string): boolean {
  return Object.hasOwn(ASSETS, path);
}

interface Loaded {
  readonly body: Buffer;
  readonly etag: string;
}

const loaded = new Map<string, Loaded | null>();

function load(file: string): Loaded | null {
  let hit = loaded.get(file);
  if (hit === undefined) {
    try {
      const body = readFileSync(new URL(`./status/${file}`, import.meta.url));
      hit = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
    } catch {
      hit = null;
    }
    loaded.set(file, hit);
  }
  return hit;
}

/** Answers a request for one of the page's files (GET or HEAD; the caller checked the method). */
export function serveStatusAsset(req: IncomingMessage, res: ServerResponse, path: string): void {
  const asset = ASSETS[path];
  const file = asset === undefined ? null : load(asset.file);
  if (asset === undefined || file === null) {
    const missing = ErrorAnswers.SIDECAR_E_STATUS_PAGE_MISSING;
    res.writeHead(missing.status, { ...STATUS_SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(missing.body);
    return;
  }
  const headers = { ...STATUS_SECURITY_HEADERS, 'content-type': asset.type, 'cache-control': 'no-cache', etag: file.etag };
  if (req.headers['if-none-match'] === file.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, 'content-length': String(file.body.length) });
  res.end(req.method === 'HEAD' ? undefined : file.body);
}

/** Answers `/status.json` with a snapshot (gzip when the client asks, as /metrics does). */
export async function serveStatusJson(req: IncomingMessage, res: ServerResponse, snapshot: unknown, gzipOk: boolean): Promise<void> {
  const text = JSON.stringify(snapshot);
  const headers: Record<string, string> = {
    ...STATUS_SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    vary: 'Accept-Encoding',
  };
  let body: Buffer | string = text;
  if (gzipOk) {
    body = await gzipAsync(text);
    headers['content-encoding'] = 'gzip';
  }
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The 401 and 403 of `/status.json` (errors.ts). */
export type StatusJsonRefusal = (typeof ErrorAnswers)['SIDECAR_E_STATUS_UNAUTHORIZED' | 'SIDECAR_E_STATUS_CLIENT_CERTIFICATE_REQUIRED'];

/** The 401 or 403 of `/status.json`: JSON, so the page can tell it from a network failure. */
export function refuseStatusJson(res: ServerResponse, answer: StatusJsonRefusal): void {
  const { status, body } = answer;
  res.writeHead(status, {
    ...STATUS_SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...(status === 401 ? { 'www-authenticate': 'Bearer realm="metrics"' } : {}),
  });
  res.end(body);
}
