import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OPTIONS } from '../../src/config/options.ts';
import { VERSION } from '../../src/version.ts';
import { LOCAL_PORTS, spawnSidecar, TEST_TOKEN, type SpawnedSidecar } from '../fixtures/sidecar.ts';
import { startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sidecar-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let running: SpawnedSidecar | undefined;
let upstream: TestUpstream | undefined;
afterEach(async () => {
  await running?.stop();
  await upstream?.close();
  running = undefined;
  upstream = undefined;
});

const LOCAL = LOCAL_PORTS;

async function runToExit(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | string; stderr: string; stdout: string }> {
  const s = await spawnSidecar(args, env, false);
  const code = await s.exited;
  return { code, stderr: s.stderr.join(''), stdout: s.stdout.join('\n') };
}

describe('configuration errors exit 2 with a one-line message naming the field', () => {
  const emptyFile = () => {
    const f = join(dir, 'empty-token');
    writeFileSync(f, '  \n');
    return f;
  };
  const cases: Array<[string, () => string[], NodeJS.ProcessEnv, RegExp]> = [
    ['no token and no opt-out', () => [...LOCAL], {}, /--metrics-token-file.*--no-metrics-auth/],
    [
      'a non-http upstream scheme',
      () => ['--upstream', 'ftp://composer:21', '--metrics-token', 'x', ...LOCAL],
      {},
      /--upstream: scheme "ftp" is not supported/,
    ],
    ['an upstream that is not a URL', () => ['--upstream', 'not a url', '--metrics-token', 'x', ...LOCAL], {}, /--upstream: "not a url" is not a URL/],
    ['an upstream with a path', () => ['--upstream', 'http://composer:8000/api', '--metrics-token', 'x', ...LOCAL], {}, /--upstream: must be an origin/],
    ['a port out of range', () => ['--listen', '127.0.0.1:70000', '--metrics-token', 'x'], {}, /--listen: port 70000 is out of range/],
    ['an address without a port', () => ['--listen', 'localhost', '--metrics-token', 'x'], {}, /--listen: "localhost" is not HOST:PORT/],
    [
      'an unreadable token file',
      () => ['--metrics-token-file', join(dir, 'missing'), ...LOCAL],
      {},
      /--metrics-token-file: cannot read token file .*missing \(ENOENT\)/,
    ],
    ['an empty token file', () => ['--metrics-token-file', emptyFile(), ...LOCAL], {}, /--metrics-token-file: token file .* the token is empty/],
    ['an empty inline token', () => ['--metrics-token', '', ...LOCAL], {}, /--metrics-token: the token is empty/],
    ['a bad duration', () => ['--shutdown-grace', '5x', '--metrics-token', 'x', ...LOCAL], {}, /--shutdown-grace: "5x" is not a duration/],
    ['a label bound of zero', () => ['--max-label-values', '0', '--metrics-token', 'x', ...LOCAL], {}, /--max-label-values: 0 is out of range/],
    ['an unknown flag', () => ['--bogus', '--metrics-token', 'x'], {}, /Unknown option '--bogus'/],
    ['an invalid environment variable', () => ['--metrics-token', 'x'], { SIDECAR_LISTEN: 'nonsense' }, /SIDECAR_LISTEN: "nonsense" is not HOST:PORT/],
    ['an invalid log level', () => ['--metrics-token', 'x', ...LOCAL], { LOG_LEVEL: 'loud' }, /LOG_LEVEL: "loud" is not one of/],
    [
      'metrics and proxy on the same port',
      () => ['--listen', '127.0.0.1:9999', '--metrics-listen', '127.0.0.1:9999', '--metrics-token', 'x'],
      {},
      /--metrics-listen: port 9999 is also the proxy's --listen port/,
    ],
  ];
  for (const [what, args, env, message] of cases) {
    it(`rejects ${what}`, async () => {
      const { code, stderr } = await runToExit(args(), env);
      expect(code).toBe(2);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/^mcp-composer-sidecar: SIDECAR_E_/);
      expect(stderr).toMatch(message);
    });
  }

  it('never echoes a token value in an error', async () => {
    const { code, stderr } = await runToExit(['--metrics-token', 'has space secret', ...LOCAL]);
    expect(code).toBe(2);
    expect(stderr).not.toContain('secret');
  });
});

describe('the command line', () => {
  it('--help lists every flag with its environment variable and default', async () => {
    const { code, stdout } = await runToExit(['--help']);
    expect(code).toBe(0);
    for (const o of OPTIONS) {
      expect(stdout).toContain(`--${o.flag}`);
      expect(stdout).toContain(o.env);
    }
    expect(stdout).toContain('default http://127.0.0.1:8000');
  });

  it('--version prints the version', async () => {
    const { code, stdout } = await runToExit(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(VERSION);
  });

  it('exits 1 with a clear message when the proxy port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stderr } = await runToExit(['--listen', `127.0.0.1:${port}`, '--metrics-listen', '127.0.0.1:0', '--metrics-token', 'x']);
      expect(code).toBe(1);
      expect(stderr).toContain(`SIDECAR_E_LISTEN: cannot listen on 127.0.0.1:${port} for the proxy (EADDRINUSE)`);
    } finally {
      blocker.close();
    }
  });

  it('logs JSON lines with the real bound ports when given port 0', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    running = await spawnSidecar(['--upstream', upstream.url, '--metrics-token', TEST_TOKEN, ...LOCAL]);
    expect(running.proxyUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.proxyUrl).not.toMatch(/:0$/);
    expect(running.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    for (const line of running.stdout) expect(() => JSON.parse(line)).not.toThrow();
    expect((await fetch(`${running.proxyUrl}/`)).status).toBe(200);
  });

  it('--no-metrics-auth serves /metrics without a token and logs a warning', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    running = await spawnSidecar(['--upstream', upstream.url, '--no-metrics-auth', ...LOCAL]);
    expect((await fetch(running.metricsUrl)).status).toBe(200);
    const warning = running.stdout.map((l) => JSON.parse(l) as { level: string; event?: string }).find((l) => l.event === 'metrics_auth_disabled');
    expect(warning?.level).toBe('warn');
  });

  it('on SIGTERM finishes the request in flight, turns /readyz 503, and exits 0', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let arrived!: () => void;
    const inFlight = new Promise<void>((r) => (arrived = r));
    upstream = await startUpstream((req, res) => {
      if (req.url !== '/slow') return void res.end('ok');
      arrived();
      void released.then(() => res.end('finished'));
    });
    running = await spawnSidecar(['--upstream', upstream.url, '--metrics-token', TEST_TOKEN, '--probe-interval', '100ms', ...LOCAL]);
    const readyz = running.metricsUrl.replace(/\/metrics$/, '/readyz');
    for (let i = 0; i < 100 && (await fetch(readyz)).status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
    const pending = fetch(`${running.proxyUrl}/slow`).then(async (r) => ({ status: r.status, body: await r.text() }));
    await inFlight;
    running.child.kill('SIGTERM');
    let draining = 0;
    for (let i = 0; i < 100 && draining !== 503; i++) {
      draining = (await fetch(readyz)).status;
      if (draining !== 503) await new Promise((r) => setTimeout(r, 20));
    }
    expect(draining).toBe(503);
    release();
    expect(await pending).toEqual({ status: 200, body: 'finished' });
    expect(await running.exited).toBe(0);
  });
});
