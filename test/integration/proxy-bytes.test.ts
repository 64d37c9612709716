import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { readBody, startUpstream, type TestUpstream } from '../fixtures/upstream.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let upstream: TestUpstream | undefined;
let sidecar: TestSidecar | undefined;
afterEach(async () => {
  await sidecar?.close();
  await upstream?.close();
  sidecar = undefined;
  upstream = undefined;
});

interface Reply {
  status: number;
  statusMessage: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function send(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | Buffer[]; expectContinue?: boolean }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const parts = opts.body === undefined ? [] : Array.isArray(opts.body) ? opts.body : [opts.body];
    if (opts.expectContinue) {
      req.on('continue', () => {
        for (const p of parts) req.write(p);
        req.end();
      });
      req.flushHeaders();
      return;
    }
    for (const p of parts) req.write(p);
    req.end();
  });
}

describe('the proxy carries bodies unchanged', () => {
  it('delivers a 1 MiB random upload and a 1 MiB random download byte-identical', async () => {
    const download = randomBytes(1024 * 1024);
    let uploadedHash = '';
    upstream = await startUpstream(async (req, res) => {
      const body = await readBody(req);
      // The sidecar's own probes and inventory polls reach this upstream too: only the upload counts.
      if (req.url === '/blob') uploadedHash = sha(body);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': download.length });
      res.end(download);
    });
    sidecar = await startSidecar(upstream.url);
    const upload = randomBytes(1024 * 1024);
    const reply = await send(`${sidecar.proxyUrl}/blob`, { method: 'POST', body: upload, headers: { 'content-type': 'application/octet-stream' } });
    expect(reply.status).toBe(200);
    expect(uploadedHash).toBe(sha(upload));
    expect(sha(reply.body)).toBe(sha(download));
  });

  it('streams a chunked upload (no Content-Length) to the upstream intact', async () => {
    let received: Buffer = Buffer.alloc(0);
    let transferEncoding: string | undefined;
    upstream = await startUpstream(async (req, res) => {
      transferEncoding = req.headers['transfer-encoding'];
      received = await readBody(req);
      res.end('ok');
    });
    sidecar = await startSidecar(upstream.url);
    const parts = Array.from({ length: 20 }, () => randomBytes(5000 + Math.floor(Math.random() * 5000)));
    const reply = await send(`${sidecar.proxyUrl}/upload`, { method: 'PUT', body: parts, headers: { 'transfer-encoding': 'chunked' } });
    expect(reply.status).toBe(200);
    expect(transferEncoding).toBe('chunked');
    expect(sha(received)).toBe(sha(Buffer.concat(parts)));
  });

  it('answers HEAD with the upstream headers and no body', async () => {
    upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-length': '1234', 'x-method': req.method ?? '' });
      res.end();
    });
    sidecar = await startSidecar(upstream.url);
    const reply = await send(`${sidecar.proxyUrl}/thing`, { method: 'HEAD' });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-length']).toBe('1234');
    expect(reply.headers['x-method']).toBe('HEAD');
    expect(reply.body.length).toBe(0);
  });

  it('honours Expect: 100-continue and then streams the body upstream', async () => {
    upstream = await startUpstream(async (req, res) => {
      const body = await readBody(req);
      res.end(`got ${body.length} bytes; expect header ${req.headers.expect ?? 'absent'}`);
    });
    sidecar = await startSidecar(upstream.url);
    const body = randomBytes(100_000);
    const reply = await send(`${sidecar.proxyUrl}/continue`, {
      method: 'POST',
      body,
      expectContinue: true,
      headers: { expect: '100-continue', 'content-length': String(body.length) },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toBe('got 100000 bytes; expect header absent');
  });

  it('passes status codes and reason phrases through, including 204 and 304', async () => {
    upstream = await startUpstream((req, res) => {
      const status = Number(req.url?.slice(1)) || 200; // the sidecar's health probe asks for /api/v1/health
      res.writeHead(status, status === 418 ? 'I am a teapot, really' : undefined);
      res.end();
    });
    sidecar = await startSidecar(upstream.url);
    for (const status of [201, 204, 304, 404, 418, 500, 503]) {
      const reply = await send(`${sidecar.proxyUrl}/${status}`, {});
      expect(reply.status).toBe(status);
      if (status === 418) expect(reply.statusMessage).toBe('I am a teapot, really');
    }
  });
});
