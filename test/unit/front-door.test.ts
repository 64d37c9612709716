/**
 * The front door's pure checks (request-policy.ts): `--allowed-hosts` and `--allowed-origins`, their list
 * parsers and the normalisation both sides are compared in. The same rules on real sockets are in
 * test/integration/front-door.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { parseHostHeader, parseHostList, parseOriginList, serializeOrigin, type HostPolicy, type OriginPolicy } from '../../src/config/front-door.ts';
import { HOST_NOT_ALLOWED, ORIGIN_NOT_ALLOWED, refuseFrontDoor } from '../../src/proxy/request-policy.ts';

const ANY_HOST: HostPolicy = { any: true };
const ANY_ORIGIN: OriginPolicy = { any: true };
const NO_ORIGIN = parseOriginList('none');

describe('origin serialisation (RFC 6454)', () => {
  it('lower-cases scheme and host, drops default ports and leading zeros, IDNA-encodes the host', () => {
    expect(serializeOrigin('HTTPS://App.Example')).toBe('https://app.example');
    expect(serializeOrigin('http://app.example:80')).toBe('http://app.example');
    expect(serializeOrigin('https://app.example:443/')).toBe('https://app.example');
    expect(serializeOrigin('http://app.example:443')).toBe('http://app.example:443');
    expect(serializeOrigin('http://localhost:06274')).toBe('http://localhost:6274');
    expect(serializeOrigin('http://[::1]:8080')).toBe('http://[::1]:8080');
    expect(serializeOrigin('http://bücher.example')).toBe('http://xn--bcher-kva.example');
    expect(serializeOrigin('chrome-extension://abcdefghijklmnop')).toBe('chrome-extension://abcdefghijklmnop');
  });

  it('is undefined for what is not an origin: a path, a query, credentials, null, a bad port, garbage', () => {
    for (const bad of [
      'http://app.example/path',
      'http://app.example?x',
      'http://u:p@app.example',
      'null',
      'http://app.example:65536',
      'app.example',
      'http://',
      'http://[zz]',
      'http://a b',
      'http://a.example, http://b.example',
    ]) {
      expect(serializeOrigin(bad), bad).toBeUndefined();
    }
  });
});

describe('Host parsing', () => {
  it('splits host and port, normalised (case, IDNA, trailing dot, leading zeros)', () => {
    expect(parseHostHeader('MCP.Example.com:0080')).toEqual({ host: 'mcp.example.com', port: '80' });
    expect(parseHostHeader('mcp.example.com.')).toEqual({ host: 'mcp.example.com', port: '' });
    expect(parseHostHeader('[::1]:8080')).toEqual({ host: '[::1]', port: '8080' });
    expect(parseHostHeader('127.0.0.1')).toEqual({ host: '127.0.0.1', port: '' });
  });

  it('is undefined for what is not host[:port]', () => {
    for (const bad of ['a b', 'a:b', 'a/b', 'u@a', '[::1', '[zz]:80', 'a:99999', '']) expect(parseHostHeader(bad), bad).toBeUndefined();
  });
});

describe('--allowed-origins', () => {
  it('DNS rebinding from a browser (Origin: http://evil.example) is refused with 403 origin_not_allowed by default', () => {
    expect(refuseFrontDoor('127.0.0.1:8080', 'http://evil.example', ANY_HOST, NO_ORIGIN)).toBe(ORIGIN_NOT_ALLOWED);
    expect(ORIGIN_NOT_ALLOWED).toMatchObject({ status: 403, error: 'origin_not_allowed', code: 'SIDECAR_E_ORIGIN_NOT_ALLOWED' });
  });

  it('a request without Origin (a non-browser client) passes whatever the list', () => {
    expect(refuseFrontDoor('a', undefined, ANY_HOST, NO_ORIGIN)).toBeUndefined();
    expect(refuseFrontDoor('a', undefined, ANY_HOST, parseOriginList('https://app.example'))).toBeUndefined();
  });

  it('an allowed origin passes, in its canonical form and in equivalent spellings', () => {
    const list = parseOriginList('https://app.example, http://localhost:6274');
    for (const o of ['https://app.example', 'https://APP.example:443', 'http://localhost:6274', 'http://localhost:6274/'])
      expect(refuseFrontDoor('a', o, ANY_HOST, list), o).toBeUndefined();
  });

  it('cross-origin look-alikes are refused: another scheme, port, subdomain, suffix, null, two Origin fields', () => {
    const list = parseOriginList('https://app.example');
    for (const o of [
      'http://app.example',
      'https://app.example:8443',
      'https://evil.app.example',
      'https://app.example.evil',
      'https://appexample',
      'null',
      '',
      'https://app.example, https://evil.example',
      'https://app.example/x',
    ]) {
      expect(refuseFrontDoor('a', o, ANY_HOST, list), o).toBe(ORIGIN_NOT_ALLOWED);
    }
  });

  it('* accepts any Origin (the check is off)', () => {
    expect(parseOriginList('*')).toEqual({ any: true });
    expect(refuseFrontDoor('a', 'http://evil.example', ANY_HOST, ANY_ORIGIN)).toBeUndefined();
  });

  it('refuses lists that would not mean what they say: null, wildcards, * or none mixed with origins, paths, empty', () => {
    expect(() => parseOriginList('null')).toThrow(/sandboxed/);
    expect(() => parseOriginList('https://*.example')).toThrow(/wildcards/);
    expect(() => parseOriginList('*, https://app.example')).toThrow(/stands alone/);
    expect(() => parseOriginList('none,https://app.example')).toThrow(/stands alone/);
    expect(() => parseOriginList('https://app.example/path')).toThrow(/not an origin/);
    expect(() => parseOriginList(' , ')).toThrow(/empty/);
  });
});

describe('--allowed-hosts', () => {
  const list = parseHostList('mcp.example.com, 127.0.0.1:8080, [::1]');

  it("DNS rebinding with a foreign Host (the attacker's domain resolved to the pod) is refused with 421 host_not_allowed", () => {
    for (const h of ['evil.example', 'evil.example:8080', 'mcp.example.com.evil', '127.0.0.1', '127.0.0.1:9090', '[::2]', 'a b', undefined]) {
      expect(refuseFrontDoor(h, undefined, list, NO_ORIGIN), String(h)).toBe(HOST_NOT_ALLOWED);
    }
    expect(HOST_NOT_ALLOWED).toMatchObject({ status: 421, error: 'host_not_allowed', code: 'SIDECAR_E_HOST_NOT_ALLOWED' });
  });

  it('an allowed Host passes: a name on any port, host:port on that port only, IPv6, any case', () => {
    for (const h of ['mcp.example.com', 'MCP.example.com:443', 'mcp.example.com.:8080', '127.0.0.1:8080', '127.0.0.1:08080', '[::1]', '[::1]:80']) {
      expect(refuseFrontDoor(h, undefined, list, NO_ORIGIN), h).toBeUndefined();
    }
  });

  it('the Host check comes first, then the Origin check', () => {
    expect(refuseFrontDoor('evil.example', 'http://evil.example', list, NO_ORIGIN)).toBe(HOST_NOT_ALLOWED);
    expect(refuseFrontDoor('mcp.example.com', 'http://evil.example', list, NO_ORIGIN)).toBe(ORIGIN_NOT_ALLOWED);
  });

  it('* (the default) accepts any Host; lists with wildcards, * mixed in, or bad entries are refused', () => {
    expect(parseHostList('*')).toEqual({ any: true });
    expect(refuseFrontDoor('anything', undefined, ANY_HOST, NO_ORIGIN)).toBeUndefined();
    expect(() => parseHostList('*.example.com')).toThrow(/wildcards/);
    expect(() => parseHostList('*,a')).toThrow(/stands alone/);
    expect(() => parseHostList('http://a')).toThrow(/not a host/);
    expect(() => parseHostList('')).toThrow(/empty/);
  });
});

describe('front-door options', () => {
  const base = ['--no-metrics-auth'];

  it('defaults: no Origin accepted, any Host', () => {
    const c = loadConfig(base, {});
    expect(c.allowedOrigins).toEqual({ any: false, origins: new Set() });
    expect(c.allowedHosts).toEqual({ any: true });
  });

  it('reads the flags and the environment; a bad list is a configuration error naming the field', () => {
    const c = loadConfig([...base, '--allowed-origins', 'https://App.example'], { SIDECAR_ALLOWED_HOSTS: 'mcp.example.com:8080' });
    expect(c.allowedOrigins).toEqual({ any: false, origins: new Set(['https://app.example']) });
    expect(c.allowedHosts).toEqual({ any: false, names: new Set(), hostPorts: new Set(['mcp.example.com:8080']) });
    expect(() => loadConfig([...base, '--allowed-origins', 'null'], {})).toThrow(ConfigError);
    expect(() => loadConfig(base, { SIDECAR_ALLOWED_HOSTS: 'http://x' })).toThrow(/SIDECAR_ALLOWED_HOSTS/);
  });
});
