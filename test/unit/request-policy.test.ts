import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { DEFAULT_ALLOWED_METHODS, parseMethodList } from '../../src/config/values.ts';
import { isWebSocketUpgrade, refuseRequest, transferEncodingRefusal, type RequestHead } from '../../src/proxy/request-policy.ts';
import { isConnectionReset, isRetryable } from '../../src/proxy/retry.ts';

const ALLOWED = new Set(DEFAULT_ALLOWED_METHODS);
const head = (over: Partial<RequestHead> = {}): RequestHead => ({
  method: 'GET',
  url: '/api/v1/tools',
  httpVersionMajor: 1,
  httpVersionMinor: 1,
  rawHeaders: ['Host', 'a'],
  ...over,
});

describe('request policy', () => {
  it('forwards an ordinary origin-form request of an allowed method', () => {
    expect(refuseRequest(head(), ALLOWED)).toBeUndefined();
    expect(refuseRequest(head({ httpVersionMinor: 0, rawHeaders: [] }), ALLOWED)).toBeUndefined();
    expect(refuseRequest(head({ method: 'POST', rawHeaders: ['Host', 'a', 'Transfer-Encoding', 'chunked'] }), ALLOWED)).toBeUndefined();
  });

  it('HTTP version confusion (0.9, 2.0 over HTTP/1) gets 505', () => {
    expect(refuseRequest(head({ httpVersionMajor: 0, httpVersionMinor: 9 }), ALLOWED)?.status).toBe(505);
    expect(refuseRequest(head({ httpVersionMajor: 2, httpVersionMinor: 0 }), ALLOWED)?.status).toBe(505);
    expect(refuseRequest(head({ httpVersionMinor: 2 }), ALLOWED)?.status).toBe(505);
  });

  it('open-proxy abuse (absolute-form, authority-form and asterisk-form targets) gets 400', () => {
    for (const url of ['http://evil/', 'evil:443', '*', '', undefined]) expect(refuseRequest(head({ url }), ALLOWED)?.status, String(url)).toBe(400);
  });

  it('cross-site tracing (TRACE) and methods outside the allowed list get 405', () => {
    for (const method of ['TRACE', 'PROPFIND', 'CONNECT', 'get', undefined]) expect(refuseRequest(head({ method }), ALLOWED)?.status, String(method)).toBe(405);
    expect(refuseRequest(head({ method: 'TRACE' }), new Set(['TRACE']))).toBeUndefined();
  });

  it('Host ambiguity (two Host headers, any case) gets 400', () => {
    expect(refuseRequest(head({ rawHeaders: ['Host', 'a', 'host', 'b'] }), ALLOWED)?.status).toBe(400);
  });

  it('request smuggling through Transfer-Encoding: only exactly "chunked" passes', () => {
    expect(transferEncodingRefusal(['chunked'])).toBeUndefined();
    expect(transferEncodingRefusal([' Chunked '])).toBeUndefined();
    for (const bad of [
      ['xchunked'],
      ['chunked', 'chunked'],
      ['chunked, chunked'],
      ['chunked, gzip'],
      [''],
      [','],
      ['identity'],
      ['chunked', ''],
      ['chunked,'],
      [', chunked'],
    ]) {
      expect(transferEncodingRefusal(bad)?.status, JSON.stringify(bad)).toBe(400);
    }
    expect(transferEncodingRefusal(['gzip, chunked'])?.status).toBe(501);
    expect(transferEncodingRefusal(['gzip', 'chunked'])?.status).toBe(501);
    // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request is faulty framing.
    expect(refuseRequest(head({ method: 'POST', httpVersionMinor: 0, rawHeaders: ['Host', 'a', 'Transfer-Encoding', 'chunked'] }), ALLOWED)?.status).toBe(400);
    // CL.TE: both framings at once.
    expect(refuseRequest(head({ method: 'POST', rawHeaders: ['Host', 'a', 'Content-Length', '5', 'Transfer-Encoding', 'chunked'] }), ALLOWED)?.status).toBe(
      400,
    );
  });

  it('tunnels only GET upgrades to websocket (never h2c or other protocols)', () => {
    expect(isWebSocketUpgrade('GET', 'websocket')).toBe(true);
    expect(isWebSocketUpgrade('GET', 'WebSocket')).toBe(true);
    expect(isWebSocketUpgrade('GET', 'h2c')).toBe(false);
    expect(isWebSocketUpgrade('POST', 'websocket')).toBe(false);
    expect(isWebSocketUpgrade('GET', undefined)).toBe(false);
  });

  it('parses --allowed-methods, refusing CONNECT, bad tokens and an empty list', () => {
    expect(parseMethodList('get, post,GET')).toEqual(['GET', 'POST']);
    expect(() => parseMethodList('GET,CONNECT')).toThrow(/CONNECT/);
    expect(() => parseMethodList('G ET')).toThrow(/not a method/);
    expect(() => parseMethodList(' , ')).toThrow(/empty/);
  });
});

describe('retry eligibility', () => {
  it('only idempotent requests without a body, only after a connection reset', () => {
    for (const m of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']) expect(isRetryable(m, false), m).toBe(true);
    for (const m of ['POST', 'PATCH', 'TRACE']) expect(isRetryable(m, false), m).toBe(false);
    expect(isRetryable('PUT', true)).toBe(false);
    for (const code of ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']) expect(isConnectionReset({ code }), code).toBe(true);
    for (const code of ['ECONNREFUSED', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', undefined])
      expect(isConnectionReset({ code }), String(code)).toBe(false);
    expect(isConnectionReset(null)).toBe(false);
  });
});

describe('client-side limits in the configuration', () => {
  const base = ['--no-metrics-auth'];
  it('refuses a headers timeout longer than the request timeout (Node would refuse to start) or under 100ms', () => {
    expect(() => loadConfig([...base, '--client-headers-timeout', '10m'], {})).toThrow(ConfigError);
    expect(() => loadConfig([...base, '--client-headers-timeout', '10m'], {})).toThrow(/--client-request-timeout/);
    expect(() => loadConfig([...base, '--client-headers-timeout', '0'], {})).toThrow(/too short/);
    expect(loadConfig([...base, '--client-headers-timeout', '10m', '--client-request-timeout', '0'], {}).clientHeadersTimeoutMs).toBe(600_000);
  });

  it('reads --allowed-methods and --no-upstream-retry', () => {
    const c = loadConfig([...base, '--allowed-methods', 'GET,POST', '--no-upstream-retry'], {});
    expect(c.allowedMethods).toEqual(['GET', 'POST']);
    expect(c.upstreamRetry).toBe('off');
    expect(loadConfig(base, {}).allowedMethods).toEqual(DEFAULT_ALLOWED_METHODS);
    expect(loadConfig(base, {}).upstreamRetry).toBe('on');
    expect(() => loadConfig([...base, '--allowed-methods', 'CONNECT'], {})).toThrow(/--allowed-methods: CONNECT is never proxied/);
  });
});
