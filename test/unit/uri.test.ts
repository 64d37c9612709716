import { describe, expect, it } from 'vitest';
import { resourceUriOf } from '../../src/sources/mcp/jsonrpc.ts';
import { classifyRest } from '../../src/sources/rest/rest-classify.ts';
import { mapEvent } from '../../src/sources/events/event-map.ts';
import { resourceUriLabel } from '../../src/ledger/uri.ts';

describe('resource URIs as labels', () => {
  it('credential leak through a resource URI (postgres://admin:password@db) is prevented on every source', () => {
    expect(resourceUriLabel('postgres://admin:pw-1@db:5432/x?sslkey=k#frag', 1024)).toBe('postgres://db:5432/x');
    expect(resourceUriLabel('file:///demo/readme.txt', 1024)).toBe('file:///demo/readme.txt');
    expect(resourceUriLabel('calc://constants', 1024)).toBe('calc://constants');
    expect(resourceUriLabel('mailto:a@b.example', 1024)).toBe('mailto:a@b.example');
    expect(resourceUriLabel('x://h/p@q', 1024)).toBe('x://h/p@q');
    // Too long: kept as 1025 characters, which the resource_uri label folds into __other__ (reason too_long).
    expect(resourceUriLabel(`s://${'a'.repeat(2000)}`, 1024)).toBe(`s://${'a'.repeat(1021)}`);
    expect(resourceUriLabel(`s://u:pw-5@${'a'.repeat(2000)}`, 1024)).not.toContain('pw-5');
    expect(resourceUriOf('https://u:pw-2@host/r?token=t')).toBe('https://host/r');
    const rest = classifyRest({
      method: 'GET',
      path: `/api/v1/resources/${encodeURIComponent('postgres://admin:pw-3@db/x')}`,
      status: 200,
      proxyFailure: undefined,
      requestHeaders: {},
      body: undefined,
      bodyProblem: undefined,
      durationSeconds: 0.1,
    });
    expect(rest).toContainEqual(expect.objectContaining({ kind: 'resource_read', resourceUri: 'postgres://db/x' }));
    const ev = mapEvent(
      'resource.read',
      JSON.stringify({ type: 'resource.read', data: { resource_uri: 'redis://:pw-4@cache/0?x=1', duration_ms: 3, success: true } }),
    );
    expect(ev.outcome).toMatchObject({ kind: 'resource_read', fact: { resourceUri: 'redis://cache/0' } });
  });
});
