import { describe, expect, it } from 'vitest';
import { bearerCredentials, InlineToken, verifyBearer } from '../../src/admin/token.ts';
import { BoundedLabel } from '../../src/telemetry/instruments.ts';
import { classifyUpstreamError } from '../../src/proxy/upstream-errors.ts';
import type { Counter } from '@opentelemetry/api';

describe('bearer tokens', () => {
  it('accepts only "Bearer <token>" with the exact token, any scheme case', () => {
    const src = new InlineToken('s3cret');
    expect(verifyBearer('Bearer s3cret', src)).toBe(true);
    expect(verifyBearer('bearer s3cret', src)).toBe(true);
    for (const h of [undefined, '', 'Bearer', 'Bearer s3cre', 'Bearer s3cret2', 'Basic s3cret', 'Bearer s3cret extra', 's3cret'])
      expect(verifyBearer(h, src)).toBe(false);
    expect(bearerCredentials('Bearer  abc ')).toBe('abc');
  });
});

describe('bounded labels', () => {
  it('admits the first N distinct values, then answers __other__ and counts each overflow', () => {
    const added: Array<[number, unknown]> = [];
    const counter = { add: (n: number, attrs: unknown) => added.push([n, attrs]) } as unknown as Counter;
    const label = new BoundedLabel('fam', 'endpoint', 2, counter);
    expect(['a', 'b', 'a', 'c', 'b', 'd'].map((v) => label.value(v))).toEqual(['a', 'b', 'a', '__other__', 'b', '__other__']);
    expect(added).toEqual([
      [1, { family: 'fam', label: 'endpoint', reason: 'limit' }],
      [1, { family: 'fam', label: 'endpoint', reason: 'limit' }],
    ]);
    expect(label.size).toBe(2);
  });
});

describe('upstream error classification', () => {
  it('maps timeouts to 504, broken requests to 400 and everything else to 502', () => {
    expect(classifyUpstreamError({ code: 'UND_ERR_HEADERS_TIMEOUT' })).toBe('upstream_timeout');
    expect(classifyUpstreamError({ code: 'UND_ERR_CONNECT_TIMEOUT' })).toBe('upstream_timeout');
    expect(classifyUpstreamError({ code: 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH' })).toBe('bad_request');
    for (const e of [{ code: 'ECONNREFUSED' }, { code: 'ECONNRESET' }, { code: 'UND_ERR_SOCKET' }, new Error('x'), null, 'str'])
      expect(classifyUpstreamError(e)).toBe('upstream_unavailable');
  });
});
