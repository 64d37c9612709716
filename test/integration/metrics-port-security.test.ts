/**
 * The metrics port's defences: TLS and client certificates (like Prometheus's web config), credentials
 * rotated by a Kubernetes Secret update without a restart, and auth failures logged without the token.
 */
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { makePki, type CertPair, type Pki } from '../fixtures/certs.ts';
import { k8sSecret, type K8sSecret } from '../fixtures/k8s-secret.ts';
import { startSidecar, TEST_TOKEN, type TestSidecar } from '../fixtures/sidecar.ts';
import { startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

let upstream: TestUpstream | undefined;
let sidecar: TestSidecar | undefined;
let pki: Pki | undefined;
let secret: K8sSecret | undefined;
afterEach(async () => {
  await sidecar?.close();
  await upstream?.close();
  pki?.remove();
  secret?.remove();
  sidecar = undefined;
  upstream = undefined;
  pki = undefined;
  secret = undefined;
});

interface TlsAnswer {
  readonly status: number;
  readonly body: string;
  /** SHA-256 fingerprint of the certificate the server presented. */
  readonly fingerprint: string;
}

/** One HTTPS request on a fresh connection (so a rotated certificate is seen), trusting `ca`. */
function tlsGet(url: string, opts: { ca: string; client?: CertPair; token?: string }): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        agent: false,
        ca: readFileSync(opts.ca),
        ...(opts.client !== undefined ? { cert: readFileSync(opts.client.cert), key: readFileSync(opts.client.key) } : {}),
        headers: opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {},
      },
      (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function fingerprintOf(certPath: string): string {
  return new X509Certificate(readFileSync(certPath)).fingerprint256;
}

async function waitFor(cond: () => Promise<boolean>, what: string, ms = 8000): Promise<void> {
  for (let waited = 0; !(await cond()); waited += 100) {
    if (waited >= ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const base = (s: TestSidecar): string => s.metricsUrl.replace(/\/metrics$/, '');

describe('TLS on the metrics port', () => {
  it('serves /metrics over HTTPS only with --metrics-tls-cert/--metrics-tls-key; a plain-HTTP request gets no metrics', async () => {
    pki = makePki();
    const server = pki.server();
    upstream = await startUpstream((_req, res) => res.end('ok'));
    sidecar = await startSidecar(upstream.url, ['--metrics-tls-cert', server.cert, '--metrics-tls-key', server.key]);
    expect(sidecar.metricsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(sidecar.logs.find((l) => l.event === 'listening')?.['metricsTls']).toBe('on');
    const ok = await tlsGet(sidecar.metricsUrl, { ca: pki.ca, token: TEST_TOKEN });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('# TYPE sidecar_upstream_up gauge');
    expect(ok.fingerprint).toBe(fingerprintOf(server.cert));
    expect((await tlsGet(sidecar.metricsUrl, { ca: pki.ca })).status).toBe(401);
    const plain = await new Promise<string>((resolve) => {
      const req = httpRequest(sidecar!.metricsUrl.replace('https:', 'http:'), { headers: { authorization: `Bearer ${TEST_TOKEN}` } }, (res) =>
        resolve(`status ${res.statusCode}`),
      );
      req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code ?? e.message}`));
      req.end();
    });
    expect(plain).toMatch(/^error /);
  });

  it('with --metrics-client-ca, /metrics refuses clients without a certificate from that CA (403, logged), while /healthz and /readyz stay open for probes', async () => {
    pki = makePki();
    const server = pki.server();
    upstream = await startUpstream((_req, res) => res.end('ok'));
    sidecar = await startSidecar(upstream.url, ['--metrics-tls-cert', server.cert, '--metrics-tls-key', server.key, '--metrics-client-ca', pki.ca]);
    expect(sidecar.logs.find((l) => l.event === 'listening')?.['metricsTls']).toBe('client_certificates');
    const none = await tlsGet(sidecar.metricsUrl, { ca: pki.ca, token: TEST_TOKEN });
    expect(none.status).toBe(403);
    expect(none.body).not.toContain('sidecar_');
    expect((await tlsGet(sidecar.metricsUrl, { ca: pki.ca, client: pki.rogueClient, token: TEST_TOKEN })).status).toBe(403);
    expect((await tlsGet(sidecar.metricsUrl, { ca: pki.ca, client: pki.client })).status).toBe(401);
    const ok = await tlsGet(sidecar.metricsUrl, { ca: pki.ca, client: pki.client, token: TEST_TOKEN });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('sidecar_upstream_up');
    expect((await tlsGet(`${base(sidecar)}/healthz`, { ca: pki.ca })).status).toBe(200);
    await waitFor(async () => (await tlsGet(`${base(sidecar!)}/readyz`, { ca: pki!.ca })).status === 200, '/readyz 200 without a client certificate');
    const logged = sidecar.logs.find((l) => l.event === 'metrics_auth_failed');
    expect(logged?.['reason']).toBe('client_certificate');
    expect(sidecar.rawLogs.join('')).not.toContain(TEST_TOKEN);
  });

  it('picks up certificates and a token rotated by a Kubernetes Secret update (..data symlink swap) without a restart', async () => {
    pki = makePki();
    const first = pki.server('first');
    const second = pki.server('second');
    secret = k8sSecret({ 'tls.crt': { copyFrom: first.cert }, 'tls.key': { copyFrom: first.key }, token: 'first-token\n' });
    upstream = await startUpstream((_req, res) => res.end('ok'));
    sidecar = await startSidecar(upstream.url, [
      '--metrics-tls-cert',
      secret.path('tls.crt'),
      '--metrics-tls-key',
      secret.path('tls.key'),
      '--metrics-token-file',
      secret.path('token'),
    ]);
    const url = sidecar.metricsUrl;
    const before = await tlsGet(url, { ca: pki.ca, token: 'first-token' });
    expect(before.status).toBe(200);
    expect(before.fingerprint).toBe(fingerprintOf(first.cert));

    secret.update({ 'tls.crt': { copyFrom: second.cert }, 'tls.key': { copyFrom: second.key }, token: 'second-token\n' });
    await waitFor(async () => (await tlsGet(url, { ca: pki!.ca, token: 'second-token' })).fingerprint === fingerprintOf(second.cert), 'the new certificate');
    await waitFor(async () => (await tlsGet(url, { ca: pki!.ca, token: 'second-token' })).status === 200, 'the new token');
    expect((await tlsGet(url, { ca: pki.ca, token: 'first-token' })).status).toBe(401);
    expect(sidecar.logs.some((l) => l.event === 'metrics_tls_reloaded')).toBe(true);
    expect(sidecar.logs.some((l) => l.event === 'metrics_token_reloaded')).toBe(true);
    expect(sidecar.rawLogs.join('')).not.toMatch(/first-token|second-token|PRIVATE KEY/);
  });

  it('keeps the previous certificate when a rotation is broken (key not matching the certificate), logs it once, and recovers when it is fixed', async () => {
    pki = makePki();
    const first = pki.server('first');
    const second = pki.server('second');
    secret = k8sSecret({ 'tls.crt': { copyFrom: first.cert }, 'tls.key': { copyFrom: first.key } });
    upstream = await startUpstream((_req, res) => res.end('ok'));
    sidecar = await startSidecar(upstream.url, ['--metrics-tls-cert', secret.path('tls.crt'), '--metrics-tls-key', secret.path('tls.key')]);
    const url = sidecar.metricsUrl;
    secret.update({ 'tls.crt': { copyFrom: second.cert }, 'tls.key': { copyFrom: first.key } });
    await waitFor(async () => {
      await tlsGet(url, { ca: pki!.ca, token: TEST_TOKEN });
      return sidecar!.logs.some((l) => l.event === 'metrics_tls_invalid');
    }, 'the invalid rotation to be noticed');
    expect((await tlsGet(url, { ca: pki.ca, token: TEST_TOKEN })).fingerprint).toBe(fingerprintOf(first.cert));
    await new Promise((r) => setTimeout(r, 1100));
    await tlsGet(url, { ca: pki.ca, token: TEST_TOKEN });
    expect(sidecar.logs.filter((l) => l.event === 'metrics_tls_invalid')).toHaveLength(1);
    secret.update({ 'tls.crt': { copyFrom: second.cert }, 'tls.key': { copyFrom: second.key } });
    await waitFor(async () => (await tlsGet(url, { ca: pki!.ca, token: TEST_TOKEN })).fingerprint === fingerprintOf(second.cert), 'the fixed rotation');
  });

  it('refuses at start-up: a certificate without its key, a client CA without TLS, unreadable or invalid files (SIDECAR_E_CONFIG naming the flag)', () => {
    pki = makePki();
    const server = pki.server();
    const argv = (...extra: string[]) => ['--metrics-token', 'x', ...extra];
    const fails = (args: string[], re: RegExp) => {
      let err: unknown;
      try {
        loadConfig(args, {});
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(re);
      expect((err as ConfigError).message).not.toMatch(/PRIVATE KEY|BEGIN/);
    };
    fails(argv('--metrics-tls-cert', server.cert), /go together/);
    fails(argv('--metrics-client-ca', pki.ca), /--metrics-client-ca needs TLS/);
    fails(
      argv('--metrics-tls-cert', '/nonexistent/cert.pem', '--metrics-tls-key', server.key),
      /--metrics-tls-cert: cannot read \/nonexistent\/cert.pem \(ENOENT\)/,
    );
    fails(argv('--metrics-tls-cert', server.cert, '--metrics-tls-key', pki.client.key), /not a valid certificate and key/);
    fails(argv('--metrics-tls-cert', server.key, '--metrics-tls-key', server.key), /not a valid certificate and key/);
    const ok = loadConfig(argv('--metrics-tls-cert', server.cert, '--metrics-tls-key', server.key, '--metrics-client-ca', pki.ca), {});
    expect(ok.metricsTls).toEqual({ cert: server.cert, key: server.key, clientCa: pki.ca });
  });
});

describe('auth failures on the metrics port', () => {
  it('repeated auth failures (token guessing) are logged once per interval with a count, never with the presented tokens', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    sidecar = await startSidecar(upstream.url);
    const guesses = Array.from({ length: 30 }, (_, i) => `guess-${i}-${'x'.repeat(i)}`);
    for (const g of guesses) expect((await fetch(sidecar.metricsUrl, { headers: { authorization: `Bearer ${g}` } })).status).toBe(401);
    expect((await fetch(sidecar.metricsUrl)).status).toBe(401);
    const lines = sidecar.logs.filter((l) => l.event === 'metrics_auth_failed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', reason: 'invalid', remoteAddress: '127.0.0.1' });
    await sidecar.close();
    // At shutdown the failures not yet reported are summed in one more line.
    const after = sidecar.logs.filter((l) => l.event === 'metrics_auth_failed');
    expect(after).toHaveLength(2);
    expect(after[1]?.['suppressedSinceLastLine']).toBe(30);
    const text = sidecar.rawLogs.join('');
    for (const g of guesses) expect(text).not.toContain(g);
    sidecar = undefined;
  });
});
