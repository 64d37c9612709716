/**
 * The floor: a bare Node reverse proxy, a `node:http` server forwarding with `undici.Pool.stream` — the
 * straightforward way to write one, and the reference issue #12 measures the sidecar against. It does
 * what any reverse proxy must (drops hop-by-hop headers, adds X-Forwarded-For, streams both bodies) and
 * nothing more: no metrics, no classification.
 *
 *   node bench/targets/bare-undici.ts <upstream-url>      → prints {"listening":"http://127.0.0.1:PORT"}
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const upstream = process.argv[2] ?? 'http://127.0.0.1:8000';
const pool = new Pool(upstream, { connections: null, pipelining: 1, keepAliveTimeout: 4000, keepAliveMaxTimeout: 600_000 });
const host = new URL(upstream).host;

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
]);

function requestHeaders(req: IncomingMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  out['host'] = host;
  const xff = req.headers['x-forwarded-for'];
  const addr = req.socket.remoteAddress ?? '';
  out['x-forwarded-for'] = xff === undefined ? addr : `${String(xff)}, ${addr}`;
  return out;
}

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  pool
    .stream(
      { path: req.url ?? '/', method: req.method ?? 'GET', headers: requestHeaders(req), body: hasBody ? req : null, opaque: res },
      ({ statusCode, headers, opaque }) => {
        const out = opaque as ServerResponse;
        const filtered: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(headers)) {
          if (value !== undefined && !HOP_BY_HOP.has(name)) filtered[name] = value;
        }
        out.writeHead(statusCode, filtered);
        return out;
      },
    )
    .catch(() => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"error":"upstream_unavailable"}');
      } else {
        res.destroy();
      }
    });
}

const server = createServer({ keepAliveTimeout: 65_000 }, onRequest);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void pool.destroy().finally(() => process.exit(0));
});
