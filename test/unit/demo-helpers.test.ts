// Pure helpers of the demo composer: config validation, Python repr for the log stream, auth answers,
// REST id splitting, conflicts, argument checks and the two invoke body shapes.
import { describe, expect, it } from 'vitest';
import { conflicts, splitRestId } from '../../demo/composition.ts';
import { defaultConfig, parseConfigText, validateConfig } from '../../demo/config.ts';
import { isExpiredJwt, RateLimiter } from '../../demo/http/auth.ts';
import { pyRepr } from '../../demo/http/py-repr.ts';
import { naiveIso } from '../../demo/http/respond.ts';
import { Router } from '../../demo/http/router.ts';
import { checkArguments, invokeArguments } from '../../demo/http/validation.ts';
import { EMPTY_INVENTORY } from '../../demo/supervisor/inventory.ts';

describe('demo composer helpers', () => {
  it('generates configs cycling through the calc, clock and files roles', () => {
    expect(defaultConfig(5).servers.map((s) => s.id)).toEqual(['calc', 'clock', 'files', 'calc2', 'clock2']);
    expect(defaultConfig(1).servers[0]?.args.slice(-4)).toEqual(['--role', 'calc', '--id', 'calc']);
  });

  it('validates configs and lists every problem', () => {
    expect(validateConfig({ servers: [{ id: 'a', command: 'x' }] })).toMatchObject({ ok: true, config: { servers: [{ id: 'a', command: 'x', args: [] }] } });
    expect(
      validateConfig({
        servers: [
          { id: 'a.b', command: 'x' },
          { id: 'c', args: [1] },
          { id: 'c', command: 'y' },
        ],
      }),
    ).toEqual({
      ok: false,
      errorType: 'validation_error',
      errors: [
        'servers.0.id: "a.b" must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$',
        'servers.1.command: field required (a non-empty string)',
        'servers.1.args: must be a list of strings',
      ],
    });
    expect(parseConfigText('{')).toMatchObject({ ok: false, errorType: 'parse_error' });
    expect(validateConfig([])).toMatchObject({ ok: false, errors: ['config: must be a JSON object'] });
  });

  it('writes Python dict text and naive ISO timestamps', () => {
    expect(pyRepr({ a: "it's", b: 'say "hi"', c: null, d: true, e: [1, 2.5], f: 'x\ny' })).toBe(
      `{'a': "it's", 'b': 'say "hi"', 'c': None, 'd': True, 'e': [1, 2.5], 'f': 'x\\ny'}`,
    );
    expect(naiveIso(new Date('2026-01-02T03:04:05.678Z'))).toBe('2026-01-02T03:04:05.678000');
  });

  it('recognises expired JWTs only', () => {
    const jwt = (p: object) => `e30.${Buffer.from(JSON.stringify(p)).toString('base64url')}.sig`;
    expect(isExpiredJwt(jwt({ exp: 100 }), 200_000)).toBe(true);
    expect(isExpiredJwt(jwt({ exp: 300 }), 200_000)).toBe(false);
    expect(isExpiredJwt('not-a-jwt')).toBe(false);
    expect(isExpiredJwt(jwt({ sub: 'x' }))).toBe(false);
  });

  it('rate-limits per client in one-second windows', () => {
    const limiter = new RateLimiter(2);
    const at = (ms: number, key = 'a') => limiter.check(key, ms)?.status;
    expect([at(1000), at(1100), at(1200), at(1300, 'b'), at(2000)]).toEqual([undefined, undefined, 429, undefined, undefined]);
    expect(new RateLimiter(0).check('a', 0)).toBeUndefined();
  });

  it('splits REST ids on the first . or :', () => {
    expect(splitRestId('calc.add')).toEqual({ server: 'calc', name: 'add' });
    expect(splitRestId('calc:add.v2')).toEqual({ server: 'calc', name: 'add.v2' });
    expect(splitRestId('calc')).toBeUndefined();
    expect(splitRestId('.add')).toBeUndefined();
  });

  it('reports a name offered by several servers as a conflict', () => {
    const inv = (...tools: string[]) => ({ ...EMPTY_INVENTORY, tools: tools.map((name) => ({ name, inputSchema: { type: 'object' as const } })) });
    expect(
      conflicts([
        { id: 'a', inventory: inv('echo', 'x') },
        { id: 'b', inventory: inv('echo') },
        { id: 'c', inventory: inv('y') },
      ]),
    ).toEqual([{ type: 'tool', name: 'echo', servers: ['a', 'b'], resolution: 'prefix' }]);
  });

  it('checks tool arguments with jsonschema wording, and reads both invoke body shapes', () => {
    const schema = { type: 'object', properties: { a: { type: 'number' }, n: { type: 'integer', minimum: 0 } }, required: ['a'] };
    expect(checkArguments(schema, {})).toBe("'a' is a required property");
    expect(checkArguments(schema, { a: 'x' })).toBe("'x' is not of type 'number'");
    expect(checkArguments(schema, { a: 1, n: -1 })).toBe('-1 is less than the minimum of 0');
    expect(checkArguments(schema, { a: 1 })).toBeUndefined();
    expect(invokeArguments({ arguments: { a: 1 } })).toEqual({ a: 1 });
    expect(invokeArguments({ arguments: null, timeout: 5 })).toEqual({});
    expect(invokeArguments({ a: 1, b: 2 })).toEqual({ a: 1, b: 2 });
    expect(invokeArguments({ arguments: 'x', other: 1 })).toEqual({ arguments: 'x', other: 1 });
  });

  it('routes Starlette-like patterns, with 405 for a known path and another method', () => {
    const r = new Router().add('GET', '/x/{id}', () => undefined).add('GET', '/r/{uri:path}', () => undefined);
    expect(r.match('GET', '/x/a%2Eb')).toMatchObject({ kind: 'found', params: { id: 'a.b' } });
    expect(r.match('GET', '/r/file:///a/b')).toMatchObject({ kind: 'found', params: { uri: 'file:///a/b' } });
    expect(r.match('POST', '/x/1')).toEqual({ kind: 'method', allowed: ['GET'] });
    expect(r.match('GET', '/y')).toEqual({ kind: 'none' });
  });
});
