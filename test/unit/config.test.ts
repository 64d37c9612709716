import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { renderOptionsMarkdown } from '../../src/config/help.ts';
import { OPTIONS } from '../../src/config/options.ts';
import { parseBoolean, parseDuration, parseHostPort, parseInteger, parseSize, parseToken, parseUpstreamUrl } from '../../src/config/values.ts';
import { ConfigError } from '../../src/errors.ts';
import { readFileSync } from 'node:fs';

describe('value parsers', () => {
  it('reads durations with units, a plain number as seconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('15s')).toBe(15_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('3')).toBe(3000);
    expect(parseDuration('0.5s')).toBe(500);
    expect(parseDuration('0')).toBe(0);
    for (const bad of ['', 'fast', '-1s', '1d', '10 s', '1e3']) expect(() => parseDuration(bad)).toThrow(/is not a duration/);
    expect(() => parseDuration('999999999h')).toThrow(/too long/);
  });

  it('reads sizes with units, a plain number as bytes', () => {
    expect(parseSize('64kb')).toBe(65536);
    expect(parseSize('1mb')).toBe(1048576);
    expect(parseSize('1MiB')).toBe(1048576);
    expect(parseSize('100')).toBe(100);
    for (const bad of ['', 'big', '-1', '1tb']) expect(() => parseSize(bad)).toThrow(/is not a size/);
  });

  it('reads HOST:PORT forms, including IPv6 and a bare :PORT', () => {
    expect(parseHostPort('0.0.0.0:8080')).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(parseHostPort('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(parseHostPort(':0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseHostPort('localhost:1')).toEqual({ host: 'localhost', port: 1 });
    expect(() => parseHostPort('8080')).toThrow(/not HOST:PORT/);
    expect(() => parseHostPort('h:65536')).toThrow(/out of range/);
  });

  it('accepts only http(s) origins as the upstream', () => {
    expect(parseUpstreamUrl('http://composer:8000').host).toBe('composer:8000');
    expect(parseUpstreamUrl('https://composer').origin).toBe('https://composer');
    expect(() => parseUpstreamUrl('http://u:p@composer')).toThrow(/credentials/);
    expect(() => parseUpstreamUrl('http://composer/?x=1')).toThrow(/origin/);
    expect(() => parseUpstreamUrl('ws://composer')).toThrow(/scheme "ws"/);
  });

  it('reads integers in range, booleans and tokens', () => {
    expect(parseInteger('200', 1, 1000)).toBe(200);
    expect(() => parseInteger('2.5', 1, 10)).toThrow(/whole number/);
    expect(parseBoolean('yes')).toBe(true);
    expect(parseBoolean('off')).toBe(false);
    expect(() => parseBoolean('maybe')).toThrow();
    expect(parseToken('  abc\n')).toBe('abc');
    expect(() => parseToken('a b')).toThrow(/spaces/);
  });
});

describe('loadConfig', () => {
  it('uses the documented defaults', () => {
    const c = loadConfig(['--metrics-token', 't'], {});
    expect(c.upstream.href).toBe('http://127.0.0.1:8000/');
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(c.metricsListen).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(c.logLevel).toBe('info');
    expect(c.maxLabelValues).toBe(200);
    expect(c.preserveHost).toBe(false);
    expect(c.metricsAuth).toEqual({ kind: 'inline', token: 't' });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('lets a flag win over its environment variable, and the variable over the default', () => {
    const env = { SIDECAR_UPSTREAM: 'http://from-env:1', SIDECAR_MAX_LABEL_VALUES: '50', SIDECAR_METRICS_AUTH: 'none' };
    const c = loadConfig(['--upstream', 'http://from-flag:2'], env);
    expect(c.upstream.host).toBe('from-flag:2');
    expect(c.maxLabelValues).toBe(50);
    expect(c.metricsAuth).toEqual({ kind: 'none' });
  });

  it('names the field in every error', () => {
    try {
      loadConfig(['--metrics-token', 't'], { SIDECAR_UPSTREAM_HEADERS_TIMEOUT: 'soon' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).field).toBe('--upstream-headers-timeout / SIDECAR_UPSTREAM_HEADERS_TIMEOUT');
      expect((err as Error).message).toBe('SIDECAR_UPSTREAM_HEADERS_TIMEOUT: "soon" is not a duration (write 500ms, 15s, 2m or a number of seconds)');
    }
  });

  it('refuses --no-metrics-auth together with a token, and two token sources at once', () => {
    expect(() => loadConfig(['--no-metrics-auth', '--metrics-token', 't'], {})).toThrow(/cannot be combined/);
    expect(() => loadConfig(['--metrics-token', 't'], { SIDECAR_METRICS_TOKEN_FILE: '/dev/null' })).toThrow(/not both/);
  });

  it('documents every option in the README table', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(renderOptionsMarkdown());
    expect(OPTIONS.length).toBeGreaterThan(10);
  });
});
