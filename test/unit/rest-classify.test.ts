import { describe, expect, it } from 'vitest';
import { authFailureReason, credentialOf, jwtSubject, SecretIds, userIdOf } from '../../src/sources/rest/auth.ts';
import { classifyRest, configErrorType, errorTypeOfStatus, resourceTypeOf, type RestObservation } from '../../src/sources/rest/rest-classify.ts';

const obs = (o: Partial<RestObservation>): RestObservation => ({
  method: 'GET',
  path: '/api/v1/tools',
  status: 200,
  proxyFailure: undefined,
  requestHeaders: {},
  body: undefined,
  bodyProblem: undefined,
  durationSeconds: 0.25,
  ...o,
});
const jwt = (payload: object) => `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

describe('REST classification: tool invocations', () => {
  const invoke = (status: number, body: unknown, extra: Partial<RestObservation> = {}) =>
    classifyRest(obs({ method: 'POST', path: '/api/v1/tools/calc.add/invoke', status, body, ...extra })).filter(
      (f) => f.kind === 'tool_call' || f.kind === 'unclassified',
    );

  it('takes the status from the body first: success:false on a 200 is a tool error', () => {
    expect(invoke(200, { success: true, result: 3 })).toEqual([{ kind: 'tool_call', toolId: 'calc.add', ok: true, durationSeconds: 0.25 }]);
    expect(invoke(200, { success: false, error: 'boom' })).toEqual([
      { kind: 'tool_call', toolId: 'calc.add', ok: false, errorType: 'tool_error', durationSeconds: 0.25 },
    ]);
  });

  it('falls back to the status code and names the error type', () => {
    expect(invoke(404, { detail: 'Tool not found' })[0]).toMatchObject({ ok: false, errorType: 'not_found' });
    expect(invoke(400, { detail: 'bad' })[0]).toMatchObject({ ok: false, errorType: 'validation' });
    expect(invoke(422, undefined)[0]).toMatchObject({ ok: false, errorType: 'validation' });
    expect(invoke(500, { detail: 'x' })[0]).toMatchObject({ ok: false, errorType: 'internal' });
    expect(invoke(502, undefined, { proxyFailure: 'upstream_unavailable' })[0]).toMatchObject({ ok: false, errorType: 'upstream_unavailable' });
    expect(invoke(504, undefined, { proxyFailure: 'upstream_timeout' })[0]).toMatchObject({ ok: false, errorType: 'timeout' });
    expect(invoke(499, undefined)[0]).toMatchObject({ ok: false, errorType: 'cancelled' });
  });

  it('counts a 200 whose body cannot be read as a success by status, and says it was unclassified', () => {
    expect(invoke(200, undefined, { bodyProblem: 'too_large' })).toEqual([
      { kind: 'unclassified', reason: 'too_large' },
      { kind: 'tool_call', toolId: 'calc.add', ok: true, durationSeconds: 0.25 },
    ]);
  });

  it('decodes the tool id and accepts server:tool ids', () => {
    const f = classifyRest(obs({ method: 'POST', path: '/api/v1/tools/calc%3Aadd/invoke', body: { success: true } }));
    expect(f.find((x) => x.kind === 'tool_call')).toMatchObject({ toolId: 'calc:add' });
  });
});

describe('REST classification: reads, lifecycle, config', () => {
  it('decodes resource URIs and drops an encoded query', () => {
    const f = classifyRest(obs({ path: '/api/v1/resources/file%3A%2F%2F%2Fdemo%2Freadme.txt%3Ftoken%3Dx', status: 200 }));
    expect(f).toEqual([{ kind: 'resource_read', resourceUri: 'file:///demo/readme.txt', ok: true, durationSeconds: 0.25 }]);
    expect(classifyRest(obs({ path: '/api/v1/resources/path/to/file', status: 404 }))[0]).toMatchObject({ resourceUri: 'path/to/file', ok: false });
  });

  it("classifies start/stop/restart, ignoring unknown servers and the proxy's own failures", () => {
    const op = (path: string, status: number, body?: unknown, proxyFailure?: RestObservation['proxyFailure']) =>
      classifyRest(obs({ method: 'POST', path, status, body, proxyFailure }));
    expect(op('/api/v1/servers/calc/restart', 200, { success: true })).toEqual([{ kind: 'server_lifecycle', op: 'restart', serverId: 'calc', ok: true }]);
    expect(op('/api/v1/servers/calc/start', 400, { detail: 'already running' })).toEqual([
      { kind: 'server_lifecycle', op: 'start', serverId: 'calc', ok: false },
    ]);
    expect(op('/api/v1/servers/calc/stop', 200, { success: false })).toEqual([{ kind: 'server_lifecycle', op: 'stop', serverId: 'calc', ok: false }]);
    expect(op('/api/v1/servers/nope/stop', 404, { detail: 'Server not found' })).toEqual([]);
    expect(op('/api/v1/servers/calc/stop', 502, undefined, 'upstream_unavailable')).toEqual([]);
  });

  it('classifies reloads and validation failures in both shapes', () => {
    expect(classifyRest(obs({ method: 'POST', path: '/api/v1/config/reload', body: { success: true } }))).toEqual([{ kind: 'config_reload', ok: true }]);
    expect(classifyRest(obs({ method: 'POST', path: '/api/v1/config/reload', status: 500 }))).toEqual([{ kind: 'config_reload', ok: false }]);
    expect(classifyRest(obs({ method: 'POST', path: '/api/v1/config/validate', body: { valid: true, errors: [] } }))).toEqual([]);
    expect(
      classifyRest(
        obs({ method: 'POST', path: '/api/v1/config/validate', status: 400, body: { valid: false, errors: ['servers[0].command: field required'] } }),
      ),
    ).toEqual([{ kind: 'config_validation_error', errorType: 'missing_field' }]);
    expect(
      classifyRest(
        obs({
          method: 'PUT',
          path: '/api/v1/config',
          status: 400,
          body: { error: 'configuration_error', message: 'Expecting value: line 1 column 1 (JSON decode)' },
        }),
      ),
    ).toEqual([{ kind: 'config_validation_error', errorType: 'syntax' }]);
    expect(configErrorType(['x must be an integer'])).toBe('invalid_value');
    expect(configErrorType(undefined)).toBe('validation');
  });

  it('maps error statuses', () => {
    expect([404, 400, 422, 499, 504, 502, 503, 500, 418].map(errorTypeOfStatus)).toEqual([
      'not_found',
      'validation',
      'validation',
      'cancelled',
      'timeout',
      'upstream_unavailable',
      'upstream_unavailable',
      'internal',
      'internal',
    ]);
  });
});

describe('REST classification: authentication, authorization, rate limits', () => {
  it('counts a 401 as a failed attempt with the reason from either real body', () => {
    expect(classifyRest(obs({ status: 401, body: { detail: 'Authentication required' } }))).toEqual([
      { kind: 'auth_attempt', scheme: 'none', ok: false },
      { kind: 'auth_failure', scheme: 'none', reason: 'missing' },
    ]);
    const bearer = { authorization: 'Bearer nope' };
    expect(classifyRest(obs({ status: 401, requestHeaders: bearer, body: { error: 'authentication_failed', message: 'Invalid token' } }))[1]).toEqual({
      kind: 'auth_failure',
      scheme: 'bearer',
      reason: 'invalid_token',
    });
    expect(
      classifyRest(obs({ status: 401, requestHeaders: { 'x-api-key': 'k' }, body: { error: 'authentication_failed', message: 'Invalid API key' } }))[1],
    ).toMatchObject({ scheme: 'api_key', reason: 'invalid_api_key' });
    expect(classifyRest(obs({ status: 401, requestHeaders: bearer, body: { error: 'authentication_failed', message: 'Token expired' } }))[1]).toMatchObject({
      reason: 'expired',
    });
    expect(classifyRest(obs({ status: 401, requestHeaders: { authorization: 'Basic eDp5' }, body: undefined }))[1]).toMatchObject({
      scheme: 'basic',
      reason: 'invalid_credentials',
    });
  });

  it("counts authenticated requests as allowed checks and a 403 as a denial with the body's reason", () => {
    const h = { authorization: 'Bearer t' };
    expect(classifyRest(obs({ requestHeaders: h }))).toEqual([
      { kind: 'auth_attempt', scheme: 'bearer', ok: true },
      { kind: 'authz_check', resourceType: 'tools', allowed: true },
    ]);
    expect(
      classifyRest(obs({ method: 'POST', path: '/api/v1/servers/calc/stop', status: 403, requestHeaders: h, body: { error: 'insufficient_permissions' } })),
    ).toEqual([
      { kind: 'auth_attempt', scheme: 'bearer', ok: true },
      { kind: 'authz_check', resourceType: 'servers', allowed: false },
      { kind: 'authz_denial', resourceType: 'servers', reason: 'insufficient_permissions' },
    ]);
    expect(classifyRest(obs({ status: 403, requestHeaders: h, body: { detail: 'Some <html> text' } }))[2]).toMatchObject({ reason: 'forbidden' });
  });

  it("does not invent auth facts for anonymous successes or for the proxy's own failures", () => {
    expect(classifyRest(obs({}))).toEqual([]);
    expect(classifyRest(obs({ status: 502, proxyFailure: 'upstream_unavailable', requestHeaders: { authorization: 'Bearer t' } }))).toEqual([]);
  });

  it('marks 429s for the rate-limit family', () => {
    expect(classifyRest(obs({ status: 429, requestHeaders: { authorization: 'Bearer t' } }))).toEqual([{ kind: 'rate_limited' }]);
  });

  it('names resource types from the REST collection', () => {
    expect(['/api/v1/servers/x', '/api/v1/config/reload', '/api/v1/whatever', '/sse', '/messages/', '/mcp', '/x'].map(resourceTypeOf)).toEqual([
      'servers',
      'config',
      'other',
      'mcp',
      'mcp',
      'mcp',
      'other',
    ]);
  });
});

describe('auth helpers', () => {
  it('reads the scheme and never returns the credential in a label value', () => {
    expect(credentialOf({ authorization: 'Bearer abc' })).toEqual({ scheme: 'bearer', credential: 'abc' });
    expect(credentialOf({ 'x-api-key': 'k' })).toEqual({ scheme: 'api_key', credential: 'k' });
    expect(credentialOf({})).toEqual({ scheme: 'none', credential: undefined });
    expect(authFailureReason('none', 'not an object')).toBe('missing');
  });

  it('derives user ids: JWT sub (unverified), a keyed id of the credential, a header, or anonymous', () => {
    const ids = new SecretIds(Buffer.from('a test key of at least 16 bytes'));
    const token = jwt({ sub: 'alice@example.com', exp: 1 });
    expect(jwtSubject(token)).toBe('alice@example.com');
    expect(jwtSubject(jwt({ sub: 'x'.repeat(100) }))).toBeUndefined();
    expect(jwtSubject('not.a.jwt')).toBeUndefined();
    expect(userIdOf({ authorization: `Bearer ${token}` }, { source: 'auto', ids })).toBe('alice@example.com');
    expect(userIdOf({ authorization: 'Bearer opaque-secret' }, { source: 'auto', ids })).toBe(`h:${ids.of('opaque-secret')}`);
    expect(userIdOf({ authorization: `Bearer ${token}` }, { source: 'credential-hash', ids })).toBe(`h:${ids.of(token)}`);
    expect(userIdOf({ 'x-user-id': 'bob' }, { source: 'header', header: 'x-user-id', ids })).toBe('bob');
    expect(userIdOf({ 'x-user-id': 'not safe as it is' }, { source: 'header', header: 'x-user-id', ids })).toBe(`h:${ids.of('not safe as it is')}`);
    expect(userIdOf({}, { source: 'auto', ids })).toBe('anonymous');
    expect(userIdOf({ authorization: 'Bearer opaque' }, { source: 'jwt-sub', ids })).toBe('unknown');
    expect(ids.of('opaque-secret')).toMatch(/^[0-9a-f]{12}$/);
  });
});
