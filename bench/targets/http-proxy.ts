/**
 * `http-proxy` (node-http-proxy), the most used Node reverse proxy library, as a second reference: a
 * `node:http` server calling `proxy.web` with a keep-alive agent to the upstream and `xfwd` headers.
 *
 *   node bench/targets/http-proxy.ts <upstream-url>      → prints {"listening":"http://127.0.0.1:PORT"}
 */
import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import httpProxy from 'http-proxy';

const upstream = process.argv[2] ?? 'http://127.0.0.1:8000';
const agent = new Agent({ keepAlive: true, maxSockets: Infinity, keepAliveMsecs: 4000 });
const proxy = httpProxy.createProxyServer({ target: upstream, agent, xfwd: true, changeOrigin: true });
proxy.on('error', (_err, _req, res) => {
  if ('writeHead' in res && !res.headersSent) {
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end('{"error":"upstream_unavailable"}');
  } else {
    res.destroy();
  }
});

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => proxy.web(req, res));
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  agent.destroy();
  process.exit(0);
});
