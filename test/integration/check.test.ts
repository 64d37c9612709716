/**
 * `mcp-composer-sidecar check` as a real child process against the demo composer's three profiles, a REST
 * API that needs a token, a composer listening on 0.0.0.0, and an upstream that is down: the table and
 * --json say what each serves and what the sidecar will and will not see; exit 0 without a problem, 1
 * with one, 2 for a bad flag. The composer is left as it was: no MCP session, nothing started or invoked.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { otherAddresses } from '../../src/check/probe.ts';
import type { CheckReport } from '../../src/check/report.ts';
import { demoState, startDemoComposer, type DemoComposer } from '../fixtures/demo-composer.ts';
import { CLI, ROOT } from '../fixtures/sidecar.ts';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function check(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'check', ...args], { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`check did not finish in 30 s: ${stdout}${stderr}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const json = (r: Run): CheckReport => JSON.parse(r.stdout) as CheckReport;
const surface = (r: CheckReport, source: string) => r.surfaces.find((s) => s.source === source);
const fed = (r: CheckReport, family: string) => r.families.find((f) => f.family === family);
const codes = (r: CheckReport) => r.findings.map((f) => `${f.level}:${f.code}`);

let dir: string;
let tokenFile: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sidecar-check-'));
  tokenFile = join(dir, 'metrics-token');
  writeFileSync(tokenFile, 'check-metrics-token-0123456789\n', { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let composer: DemoComposer | undefined;
afterEach(async () => {
  await composer?.close();
  composer = undefined;
});

describe('check against the demo composer', () => {
  it('released: legacy SSE and GET /tools only, DNS-rebinding protection noted, 18 families absent, exit 0', async () => {
    composer = await startDemoComposer(['--servers', '2', '--profile', 'released', '--test-control']);
    const before = await demoState(composer.url);
    const r = await check(['--upstream', composer.url, '--metrics-token-file', tokenFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = json(r);
    expect(report.reachable).toBe(true);
    expect(report.surfaces.filter((s) => s.served).map((s) => s.source)).toEqual(['sse', 'tools_list']);
    expect(surface(report, 'sse')).toMatchObject({ foreignHost: 'refused (421)', foreignOrigin: 'refused (403)', auth: 'open' });
    expect(report.families.filter((f) => !f.fed)).toHaveLength(18);
    expect(fed(report, 'mcp_tool_invocations_total')).toMatchObject({ fed: true, from: ['mcp_traffic'] });
    expect(fed(report, 'mcp_server_crashes_total')).toMatchObject({ fed: false, missing: ['poll_differences', 'event_stream'] });
    expect(report.blind.join('; ')).toContain('server lifecycle');
    expect(codes(report)).toEqual(expect.arrayContaining(['note:dns_rebinding_protection', 'note:lifecycle_blind']));
    expect(codes(report).filter((c) => c.startsWith('problem'))).toEqual([]);
    // Nothing left behind on the composer: no MCP session, no server touched.
    const after = await demoState(composer.url);
    expect(after.mcp_sessions).toEqual(before.mcp_sessions);
    expect(after.servers.map((s) => [s.id, s.state, s.pid])).toEqual(before.servers.map((s) => [s.id, s.state, s.pid]));

    const text = await check(['--upstream', composer.url, '--metrics-token-file', tokenFile]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ {2}MCP legacy SSE +\/sse +yes +open +refused \(421\) +refused \(403\)$/m);
    expect(text.stdout).toMatch(/^ {2}REST API +\/api\/v1 +no/m);
    expect(text.stdout).toContain("The composer's 33 catalog families: 15 fed, 18 absent from the scrape:");
    expect(text.stdout).toMatch(/^ {2}mcp_server_crashes_total +no +\(would need: poll_differences, event_stream\)$/m);
    expect(text.stdout).toContain('It will be blind to:');
  });

  it('rest: REST and both MCP transports, no event stream; crashes only from poll differences', async () => {
    composer = await startDemoComposer(['--servers', '2', '--profile', 'rest']);
    const r = await check(['--upstream', composer.url, '--metrics-token-file', tokenFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = json(r);
    expect(report.surfaces.filter((s) => s.served).map((s) => s.source)).toEqual(['rest', 'sse', 'streamable_http', 'tools_list']);
    expect(surface(report, 'rest')?.auth).toBe('open');
    expect(surface(report, 'streamable_http')?.foreignHost).toMatch(/^accepted/);
    expect(report.families.every((f) => f.fed)).toBe(true);
    expect(fed(report, 'mcp_server_crashes_total')?.from).toEqual(['poll_differences']);
    expect(report.blind).toEqual(['supervisor restarts between polls and stdio tool calls']);
  });

  it('full: every surface, all 33 families, lifecycle from events; --no-events says what it gives up', async () => {
    composer = await startDemoComposer(['--servers', '2']);
    const r = await check(['--upstream', composer.url, '--metrics-token-file', tokenFile, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = json(r);
    expect(report.surfaces.every((s) => s.served)).toBe(true);
    expect(report.families.every((f) => f.fed)).toBe(true);
    expect(fed(report, 'mcp_server_crashes_total')?.from).toEqual(['poll_differences', 'event_stream']);
    expect(report.blind).toEqual([]);
    const off = json(await check(['--upstream', composer.url, '--metrics-token-file', tokenFile, '--no-events', '--json']));
    expect(codes(off)).toContain('note:events_disabled');
    expect(fed(off, 'mcp_server_crashes_total')?.from).toEqual(['poll_differences']);
  });

  it('a REST API that needs a token the sidecar lacks is a problem (exit 1); with the right upstream token it is not', async () => {
    composer = await startDemoComposer(['--servers', '1', '--auth-token', 'composer-secret-token']);
    const without = await check(['--upstream', composer.url, '--metrics-token-file', tokenFile, '--json']);
    expect(without.code).toBe(1);
    expect(surface(json(without), 'rest')?.auth).toBe('token needed (401)');
    expect(codes(json(without))).toEqual(expect.arrayContaining(['problem:rest_needs_token', 'problem:events_refused']));
    const upstreamToken = join(dir, 'upstream-token');
    writeFileSync(upstreamToken, 'composer-secret-token\n', { mode: 0o600 });
    const withToken = await check(['--upstream', composer.url, '--metrics-token-file', tokenFile, '--upstream-token-file', upstreamToken, '--json']);
    expect(withToken.code, withToken.stdout).toBe(0);
    expect(surface(json(withToken), 'rest')?.auth).toBe('token accepted');
    // The token is never printed.
    expect(withToken.stdout + without.stdout).not.toContain('composer-secret-token');
  });

  it('no metrics token configured is a problem: the sidecar would not start', async () => {
    composer = await startDemoComposer(['--servers', '1']);
    const r = await check(['--upstream', composer.url]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/problem +metrics_token_missing: no metrics token configured/);
  });

  it.skipIf(otherAddresses().length === 0)('a composer listening on 0.0.0.0 is reachable around the sidecar: a problem naming the address', async () => {
    composer = await startDemoComposer(['--servers', '1', '--host', '0.0.0.0']);
    const port = new URL(composer.url).port;
    const r = await check(['--upstream', `http://127.0.0.1:${port}`, '--metrics-token-file', tokenFile, '--json']);
    expect(r.code).toBe(1);
    const finding = json(r).findings.find((f) => f.code === 'reachable_around_sidecar');
    expect(finding?.level).toBe('problem');
    expect(finding?.message).toContain(`:${port}`);
    // The same composer on loopback only: not reachable around the sidecar.
    await composer.close();
    composer = await startDemoComposer(['--servers', '1']);
    const local = json(await check(['--upstream', composer.url, '--metrics-token-file', tokenFile, '--json']));
    expect(codes(local)).toContain('note:loopback_only');
  });
});

describe('check without a composer', () => {
  it('an upstream that is down: nothing served, nothing fed, exit 1', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const r = await check(['--upstream', `http://127.0.0.1:${port}`, '--metrics-token-file', tokenFile, '--json', '--timeout', '2s']);
    expect(r.code).toBe(1);
    const report = json(r);
    expect(report.reachable).toBe(false);
    expect(report.surfaces.every((s) => s.served === null)).toBe(true);
    expect(report.families.every((f) => !f.fed)).toBe(true);
    expect(report.findings[0]).toMatchObject({ level: 'problem', code: 'upstream_unreachable' });
    expect(report.findings[0]?.message).toContain('ECONNREFUSED');
    const text = await check(['--upstream', `http://127.0.0.1:${port}`, '--metrics-token-file', tokenFile, '--timeout', '2s']);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('(not reachable)');
  });

  it.each([
    [['--upstream', 'http://127.0.0.1:1', '--no-such-flag'], /SIDECAR_E_CONFIG: Unknown option '--no-such-flag' \(see check --help\)/],
    [['--upstream', 'ftp://x'], /SIDECAR_E_CONFIG: --upstream:/],
    [['--upstream', 'http://127.0.0.1:1', '--timeout', 'soon'], /SIDECAR_E_CONFIG: --timeout:/],
    [['--upstream', 'http://127.0.0.1:1', '--timeout'], /SIDECAR_E_CONFIG: .*--timeout/],
  ])('a bad flag exits 2 with one line naming it: %j', async (args, message) => {
    const r = await check(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^mcp-composer-sidecar check: /);
    expect(r.stderr).toMatch(message);
  });

  it('--help prints the usage and exits 0', async () => {
    const r = await check(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: mcp-composer-sidecar check --upstream URL [flags]');
  });
});
