/**
 * An OTLP/HTTP sink for the bench's traced sidecars: accepts every export (`POST /v1/traces`,
 * `/v1/metrics`), reads and drops the body, answers `200 {}`. It runs on the load core, so what the
 * sidecar pays for tracing is its own work, not the receiver's.
 *
 *   node bench/targets/otlp-sink.ts      → prints {"listening":"http://127.0.0.1:PORT"}
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let exports = 0;
const server = createServer({ keepAliveTimeout: 75_000 }, (req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    exports++;
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
    res.end('{}');
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })}\n`);
});
process.on('SIGTERM', () => {
  process.stderr.write(`${JSON.stringify({ exports })}\n`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
