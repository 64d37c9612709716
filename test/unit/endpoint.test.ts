import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIdSegment, normalizeEndpoint, normalizeEndpointUncached } from '../../src/ledger/endpoint.ts';

describe('endpoint normalisation', () => {
  const table: Array<[string, string]> = [
    ['/api/v1/tools', '/api/v1/tools'],
    ['/api/v1/tools/', '/api/v1/tools'],
    ['/api/v1/tools/calc.add', '/api/v1/tools/{id}'],
    ['/api/v1/tools/calc:add/invoke', '/api/v1/tools/{id}/invoke'],
    ['/api/v1/servers/abc123/logs', '/api/v1/servers/{id}/logs'],
    ['/api/v1/servers/files/restart', '/api/v1/servers/{id}/restart'],
    ['/api/v1/resources/file%3A%2F%2Fdocs%2Freadme.md', '/api/v1/resources/{uri}'],
    ['/api/v1/resources/path/to/file', '/api/v1/resources/{uri}'],
    ['/api/v1/status/composition', '/api/v1/status/composition'],
    ['/api/v1/config/reload', '/api/v1/config/reload'],
    ['/api/v1/translators/t1/translate', '/api/v1/translators/{name}/translate'],
    ['/api/v1/metrics/prometheus', '/api/v1/metrics/prometheus'],
    ['/messages/', '/messages/'],
    ['/messages', '/messages/'],
    ['/sse', '/sse'],
    ['/mcp', '/mcp'],
    ['/', '/'],
    ['/ws/logs', '/ws/logs'],
    ['/api/v2/things/550e8400-e29b-41d4-a716-446655440000', '/api/v2/things/{id}'],
    ['/orders/12345/items/deadbeefcafe', '/orders/{id}/items/{id}'],
    ['/users/abc123', '/users/{id}'],
    ['/a/b/c/d/e/f/g/h/i/j', '/a/b/c/d/e/f/g/h/{…}'],
  ];
  for (const [path, endpoint] of table) {
    it(`maps ${path} to ${endpoint}`, () => expect(normalizeEndpoint(path)).toBe(endpoint));
  }

  it('drops the query string', () => {
    expect(normalizeEndpoint('/api/v1/tools?token=secret&limit=5')).toBe('/api/v1/tools');
    expect(normalizeEndpoint('/messages/?session_id=0123abcd')).toBe('/messages/');
  });

  it('keeps words and versions, turns ids into {id}', () => {
    for (const w of ['logs', 'v1', 'health', 'stdio-to-sse']) expect(isIdSegment(w)).toBe(false);
    for (const id of ['42', 'abc123', 'deadbeef', '550e8400-e29b-41d4-a716-446655440000', 'x'.repeat(41), 'a.b', 'a%20b']) expect(isIdSegment(id)).toBe(true);
  });

  it('never outputs a query, never exceeds the depth bound, always starts with / (property)', () => {
    fc.assert(
      fc.property(fc.webPath(), fc.option(fc.webQueryParameters()), (path, query) => {
        const target = `${path === '' ? '/' : path}${query === null ? '' : `?${query}`}`;
        const out = normalizeEndpoint(target);
        expect(out.startsWith('/')).toBe(true);
        expect(out).not.toContain('?');
        expect(out.split('/').length).toBeLessThanOrEqual(10);
        expect(normalizeEndpointUncached(target.split('?')[0] ?? '/')).toBe(out);
      }),
      { numRuns: 2000 },
    );
  });
});
