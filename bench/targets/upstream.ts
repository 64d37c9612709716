/**
 * A small Node upstream for what nginx cannot serve, and the fallback origin when nginx is missing:
 *
 * - every `GET` (and any other method) → 200 with the same fixed 1 KiB JSON body as the nginx upstream;
 * - `POST /bench/echo` → the request body streamed back;
 * - the sidecar's own requests (probe, inventory poll, detection) → small valid composer answers;
 *   `/api/v1/events` and `/mcp` → 404;
 * - `GET /sse` → an MCP legacy-SSE stream: an `endpoint` event naming a session, then, every
 *   `--tick` ms, one JSON-RPC notification per open stream whose params carry the send time
 *   (`performance.timeOrigin + performance.now()`, ms), for measuring event delivery latency.
 *
 *   node bench/targets/upstream.ts [--tick 1000]      → prints {"listening":"http://127.0.0.1:PORT"}
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BODY_1K, COMPOSER_ANSWERS } from '../lib/nginx.ts';

const tickArg = process.argv.indexOf('--tick');
const tickMs = tickArg === -1 ? 1000 : Number(process.argv[tickArg + 1]);
const streams = new Set<ServerResponse>();
let nextSession = 1;

const server = createServer({ keepAliveTimeout: 75_000, keepAliveTimeoutBuffer: 1000 }, (req, res) => {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (req.method === 'POST' && path === '/bench/echo') {
    const headers: Record<string, string> = { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' };
    const cl = req.headers['content-length'];
    if (cl !== undefined) headers['content-length'] = cl;
    res.writeHead(200, headers);
    req.pipe(res);
    return;
  }
  if (path === '/sse' && req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write(`event: endpoint\ndata: /messages/?session_id=bench${nextSession++}\n\n`);
    streams.add(res);
    res.on('close', () => streams.delete(res));
    return;
  }
  req.resume();
  const answer = COMPOSER_ANSWERS[path];
  if (answer !== undefined) {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
    return;
  }
  if (path === '/api/v1/events' || path === '/mcp') {
    res.writeHead(404, { 'content-type': 'application/json', 'content-length': 22 });
    res.end('{"detail":"Not Found"}');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': BODY_1K.length });
  res.end(BODY_1K);
});

const timer = setInterval(() => {
  const sent = performance.timeOrigin + performance.now();
  const event = `event: message\ndata: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":{"sent":${sent}}}}\n\n`;
  for (const s of streams) s.write(event);
}, tickMs);

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
process.on('SIGTERM', () => {
  clearInterval(timer);
  for (const s of streams) s.end();
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
