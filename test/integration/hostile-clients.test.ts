/**
 * Hostile clients on the proxy port: every attack is sent as raw bytes (no HTTP library would send them),
 * must be refused with the right status, must never reach the upstream (no request — and no smuggled second
 * request — arrives there), and is counted in `sidecar_proxy_errors_total`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rawRequest } from '../fixtures/raw-http.ts';
import { scrape, value } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { clientRequests, readBody, startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

let upstream: TestUpstream;
let sidecar: TestSidecar;
let port: number;

beforeEach(async () => {
  upstream = await startUpstream(async (req, res) => {
    await readBody(req);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`upstream saw ${req.method} ${req.url} upgrade=${req.headers.upgrade ?? '-'}`);
  });
  sidecar = await startSidecar(upstream.url);
  port = Number(new URL(sidecar.proxyUrl).port);
});
afterEach(async () => {
  await sidecar.close();
  await upstream.close();
});

/** What reached the upstream from clients (the sidecar's own probes excluded). */
const reached = (): string[] => clientRequests(upstream).map((r) => `${r.method} ${r.url}`);

async function errors(kind: string): Promise<number> {
  return value(await scrape(sidecar.metricsUrl), 'sidecar_proxy_errors_total', { kind });
}

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';

describe('request smuggling', () => {
  it('request smuggling with CL.TE (Content-Length and Transfer-Encoding together) is refused with 400 and never reaches the upstream', async () => {
    const r = await rawRequest(port, `POST /api/v1/tools HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`);
    expect(r.status).toBe(400);
    expect(r.closedByServer).toBe(true);
    expect(reached()).toEqual([]);
    expect(await errors('client_error')).toBeGreaterThanOrEqual(1);
  });

  it('request smuggling with TE.CL (Transfer-Encoding then a shorter Content-Length) is refused with 400 and never reaches the upstream', async () => {
    const r = await rawRequest(
      port,
      `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n${(SMUGGLED.length).toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`,
    );
    expect(r.status).toBe(400);
    expect(reached()).toEqual([]);
  });

  it('request smuggling with duplicate Content-Length headers (differing, equal, or a list) is refused with 400 and never reaches the upstream', async () => {
    for (const cl of ['Content-Length: 1\r\nContent-Length: 40', 'Content-Length: 2\r\nContent-Length: 2', 'Content-Length: 2, 2']) {
      const r = await rawRequest(port, `POST / HTTP/1.1\r\nHost: a\r\n${cl}\r\n\r\nab${SMUGGLED}`);
      expect(r.status, cl).toBe(400);
    }
    expect(reached()).toEqual([]);
  });

  it('request smuggling with an obfuscated Transfer-Encoding (xchunked, chunked twice, space before the colon, obs-fold, a trailing coding) is refused with 400 and never reaches the upstream', async () => {
    const variants = [
      'Transfer-Encoding: xchunked',
      'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked',
      'Transfer-Encoding: chunked, chunked',
      'Transfer-Encoding : chunked',
      'Transfer-Encoding:\r\n chunked',
      'Transfer-Encoding: chunked, identity',
      'Transfer-Encoding: \x0bchunked',
    ];
    for (const te of variants) {
      const r = await rawRequest(port, `POST / HTTP/1.1\r\nHost: a\r\n${te}\r\n\r\n0\r\n\r\n${SMUGGLED}`);
      expect(r.status, JSON.stringify(te)).toBe(400);
    }
    expect(reached()).toEqual([]);
  });

  it('request smuggling with a Transfer-Encoding that has an empty element, or in an HTTP/1.0 request, is refused with 400 and never reaches the upstream', async () => {
    for (const [version, te] of [
      ['1.1', 'Transfer-Encoding: chunked\r\nTransfer-Encoding: '],
      ['1.1', 'Transfer-Encoding: chunked,'],
      ['1.0', 'Transfer-Encoding: chunked'],
    ] as const) {
      const r = await rawRequest(port, `POST / HTTP/${version}\r\nHost: a\r\n${te}\r\n\r\n0\r\n\r\n${SMUGGLED}`);
      expect(r.status, JSON.stringify([version, te])).toBe(400);
    }
    expect(reached()).toEqual([]);
  });

  it('request smuggling with a transfer coding before chunked (gzip, chunked) is refused with 501 and never reaches the upstream', async () => {
    const r = await rawRequest(port, `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`);
    expect(r.status).toBe(501);
    expect(r.text).toContain('{"error":"not_implemented"}');
    expect(reached()).toEqual([]);
    expect(await errors('bad_request')).toBe(1);
  });

  it('request smuggling with bare LF or bare CR line endings is refused with 400 and never reaches the upstream', async () => {
    for (const payload of ['GET / HTTP/1.1\nHost: a\n\n', 'GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n']) {
      const r = await rawRequest(port, payload);
      expect(r.status, JSON.stringify(payload)).toBe(400);
    }
    expect(reached()).toEqual([]);
  });

  it('a malformed chunked body is cut: the client gets 400 and the upstream never receives a complete request or the bytes after it', async () => {
    const r = await rawRequest(port, `POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n${SMUGGLED}`);
    expect(r.status).toBe(400);
    expect(r.closedByServer).toBe(true);
    // The head may have been streamed upstream already (the proxy does not buffer bodies); its body never completes.
    expect(reached().filter((x) => x !== 'POST /upload')).toEqual([]);
  });
});

describe('oversized and invalid requests', () => {
  it('header overflow (a request head over --max-header-size) is refused with 431 and never reaches the upstream', async () => {
    const r = await rawRequest(port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(r.status).toBe(431);
    const many = Array.from({ length: 2000 }, (_, i) => `X-H${i}: v`).join('\r\n');
    expect((await rawRequest(port, `GET / HTTP/1.1\r\nHost: a\r\n${many}\r\n\r\n`)).status).toBe(431);
    expect(reached()).toEqual([]);
  });

  it('an invalid method token is refused with 400 and never reaches the upstream', async () => {
    for (const m of ['G@T', 'FOO', 'get', '']) {
      const r = await rawRequest(port, `${m} / HTTP/1.1\r\nHost: a\r\n\r\n`);
      expect(r.status, m).toBe(400);
    }
    expect(reached()).toEqual([]);
  });

  it('cross-site tracing (TRACE) and other methods outside --allowed-methods are refused with 405 and Allow, and never reach the upstream', async () => {
    for (const m of ['TRACE', 'PROPFIND', 'PURGE', 'MKCOL']) {
      const r = await rawRequest(port, `${m} / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer secret\r\n\r\n`);
      expect(r.status, m).toBe(405);
      expect(r.text.toLowerCase()).toContain('allow: get, head, post, put, patch, delete, options\r\n');
      expect(r.text).not.toContain('secret');
    }
    expect(reached()).toEqual([]);
    expect(await errors('bad_request')).toBe(4);
  });

  it('a control character or NUL in a header, or a space in the target, is refused with 400 and never reaches the upstream', async () => {
    for (const payload of [
      'GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n',
      'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: a\r\nX\x01: b\r\n\r\n',
    ]) {
      expect((await rawRequest(port, payload)).status, JSON.stringify(payload)).toBe(400);
    }
    expect(reached()).toEqual([]);
  });
});

describe('forward-proxy abuse and protocol confusion', () => {
  it('open-proxy abuse with absolute-form and asterisk-form targets is refused with 400 and never reaches the upstream', async () => {
    for (const target of ['http://169.254.169.254/latest/meta-data/', 'https://evil.example/', '*']) {
      const method = target === '*' ? 'OPTIONS' : 'GET';
      const r = await rawRequest(port, `${method} ${target} HTTP/1.1\r\nHost: evil.example\r\n\r\n`);
      expect(r.status, target).toBe(400);
    }
    expect(reached()).toEqual([]);
  });

  it('CONNECT tunnelling is refused with 405 and never reaches the upstream', async () => {
    const r = await rawRequest(port, 'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n');
    expect(r.status).toBe(405);
    expect(reached()).toEqual([]);
  });

  it('Host header ambiguity (two Host headers) is refused with 400 and never reaches the upstream', async () => {
    const r = await rawRequest(port, 'GET /api/v1/health HTTP/1.1\r\nHost: composer\r\nHost: evil.example\r\n\r\n');
    expect(r.status).toBe(400);
    expect((await rawRequest(port, 'GET /api/v1/health HTTP/1.1\r\n\r\n')).status).toBe(400); // HTTP/1.1 without Host
    expect(reached()).toEqual([]);
  });

  it('HTTP/0.9, unknown HTTP versions and an HTTP/2 preface are refused and never reach the upstream', async () => {
    expect((await rawRequest(port, 'GET /\r\n\r\n')).status).toBe(505);
    // llhttp itself refuses versions it does not know (400); the proxy's own rule answers those it parses (505).
    for (const v of ['1.2', '9.9']) expect((await rawRequest(port, `GET / HTTP/${v}\r\nHost: a\r\n\r\n`)).status, v).toBe(400);
    expect((await rawRequest(port, 'GET / HTTP/2.0\r\nHost: a\r\n\r\n')).status).toBe(505);
    expect((await rawRequest(port, 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')).status).toBe(400);
    expect(reached()).toEqual([]);
  });

  it('h2c upgrade smuggling is served as a plain HTTP/1.1 request: the Upgrade never reaches the upstream', async () => {
    const r = await rawRequest(
      port,
      'GET /api/v1/health HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nConnection: close\r\n\r\n',
    );
    expect(r.status).toBe(200);
    expect(r.text).toContain('upstream saw GET /api/v1/health upgrade=-');
    const seen = clientRequests(upstream)[0];
    expect(seen?.headers['upgrade']).toBeUndefined();
    expect(seen?.headers['http2-settings']).toBeUndefined();
  });

  it('a WebSocket upgrade with a method other than GET is not tunnelled (served as a plain request without Upgrade)', async () => {
    const r = await rawRequest(
      port,
      'POST /ws/logs HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello',
    );
    expect(r.status).toBe(200);
    expect(r.text).toContain('upstream saw POST /ws/logs upgrade=-');
  });
});
