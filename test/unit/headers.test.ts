import { describe, expect, it } from 'vitest';
import { clientResponseHeaders, connectionTokens, HOP_BY_HOP, isEventStream, upstreamRequestHeaders } from '../../src/proxy/headers.ts';

const ctx = { host: 'composer:8000', remoteAddress: '10.0.0.7', proto: 'http' as const };

function asObject(list: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i < list.length; i += 2) (out[(list[i] as string).toLowerCase()] ??= []).push(list[i + 1] as string);
  return out;
}

describe('upstream request headers', () => {
  it('removes every RFC 7230 §6.1 hop-by-hop header and those named in Connection', () => {
    const raw = [
      'Connection',
      'close, X-Hop',
      'Keep-Alive',
      '5',
      'TE',
      'trailers',
      'Trailer',
      'x',
      'Transfer-Encoding',
      'chunked',
      'Upgrade',
      'h2c',
      'Proxy-Authorization',
      'Basic x',
      'Proxy-Connection',
      'keep-alive',
      'X-Hop',
      'gone',
      'X-Keep',
      'kept',
      'Host',
      'client.example',
    ];
    const out = asObject(upstreamRequestHeaders(raw, ctx));
    for (const h of HOP_BY_HOP) expect(out[h]).toBeUndefined();
    expect(out['x-hop']).toBeUndefined();
    expect(out['x-keep']).toEqual(['kept']);
    expect(out['host']).toEqual(['composer:8000']);
    expect(out['x-forwarded-host']).toEqual(['client.example']);
  });

  it('appends to X-Forwarded-For, keeps an earlier X-Forwarded-Proto, never forwards Expect', () => {
    const out = asObject(upstreamRequestHeaders(['X-Forwarded-For', '1.1.1.1', 'X-Forwarded-Proto', 'https', 'Expect', '100-continue'], ctx));
    expect(out['x-forwarded-for']).toEqual(['1.1.1.1, 10.0.0.7']);
    expect(out['x-forwarded-proto']).toEqual(['https']);
    expect(out['expect']).toBeUndefined();
  });

  it('keeps repeated end-to-end headers in order and with their case', () => {
    const out = upstreamRequestHeaders(['X-A', '1', 'x-a', '2', 'Accept', 'text/event-stream'], ctx);
    expect(out.slice(2, 8)).toEqual(['X-A', '1', 'x-a', '2', 'Accept', 'text/event-stream']);
  });
});

describe('client response headers', () => {
  it('removes hop-by-hop headers and keeps the rest', () => {
    const out = clientResponseHeaders({
      connection: 'x-up',
      'x-up': '1',
      'transfer-encoding': 'chunked',
      'set-cookie': ['a', 'b'],
      'content-type': 'text/plain',
    });
    expect(out).toEqual({ 'set-cookie': ['a', 'b'], 'content-type': 'text/plain' });
  });

  it('parses Connection tokens and recognises event streams', () => {
    expect(connectionTokens('keep-alive, X-A ,x-b')).toEqual(new Set(['x-a', 'x-b']));
    expect(connectionTokens(undefined)).toBeUndefined();
    expect(isEventStream({ 'content-type': 'text/event-stream; charset=utf-8' })).toBe(true);
    expect(isEventStream({ 'content-type': 'application/json' })).toBe(false);
  });
});
