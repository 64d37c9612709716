// `npm run demo -- --duration 5`: the whole demo (composer, its children, the sidecar, the traffic) runs,
// prints what a newcomer needs — the status page's URL with the token in its fragment, and at the end what
// the sidecar measured — exits 0 and leaves no process behind.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../fixtures/demo-composer.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function runNpmDemo(args: readonly string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'demo', '--', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
      } catch {
        // already gone
      }
      reject(new Error(`npm run demo did not finish within ${timeoutMs} ms; stdout: ${stdout.slice(-500)}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text.split('\n').flatMap((l) => {
    try {
      const v: unknown = JSON.parse(l);
      return typeof v === 'object' && v !== null ? [v as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

describe('npm run demo', () => {
  it('runs for --duration 5, prints URLs, token, curl line and status page, ends with what the sidecar measured, exits 0 and leaves no process behind', async () => {
    const { code, stdout, stderr } = await runNpmDemo(['--duration', '5'], 45_000);
    expect(code, stderr).toBe(0);
    const lines = jsonLines(stdout);
    const ready = lines.find((l) => l.event === 'demo.ready');
    const stopped = lines.find((l) => l.event === 'demo.stopped') as { pids: number[]; alive: number[]; requests: number; crashes: number } | undefined;
    expect(ready).toBeDefined();
    expect(stdout).toMatch(/^proxy +http:\/\/127\.0\.0\.1:\d+/m);
    expect(stdout).toMatch(/^metrics +http:\/\/127\.0\.0\.1:\d+\/metrics/m);
    expect(stdout).toMatch(/^scrape with +curl -H 'Authorization: Bearer [\w-]+' http:\/\/127\.0\.0\.1:\d+\/metrics$/m);
    expect(stdout).toMatch(/^requests \d+ {2}errors \d+ {2}crashes \d+/m);
    const token = /^token +([\w-]+) /m.exec(stdout)?.[1];
    expect(stdout).toMatch(new RegExp(`^status page +http://127\\.0\\.0\\.1:\\d+/status#token=${token} `, 'm'));
    expect(ready?.status).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/status$/);
    // The summary, from the sidecar's own /status.json: the top tools with p95 and error %, the crashes seen.
    expect(stdout).toMatch(/^what the sidecar measured \(from its \/status\.json\):$/m);
    expect(stdout).toMatch(/^ {2}tool +calls +errors +p95 \(5 min\)$/m);
    expect(stdout).toMatch(/^ {2}crashes seen: \d+/m);
    const summary = lines.find((l) => l.event === 'demo.summary') as
      | { tools: { name: string; calls: number; errorPct: number; p95Seconds: number | null }[]; crashes: number; crashesByServer: Record<string, number> }
      | undefined;
    expect(summary?.tools.length).toBeGreaterThan(0);
    expect(summary?.tools.length).toBeLessThanOrEqual(5);
    for (const t of summary?.tools ?? []) {
      expect(t.calls, t.name).toBeGreaterThan(0);
      expect(t.p95Seconds, t.name).toBeGreaterThan(0);
      expect(stdout).toMatch(new RegExp(`^ {2}${t.name.replace(/[.]/g, '\\.')} +${t.calls} +${t.errorPct.toFixed(1)} % +[\\d.]+ m?s$`, 'm'));
    }
    expect(summary?.crashes).toBe(Object.values(summary?.crashesByServer ?? {}).reduce((a, b) => a + b, 0));
    expect(existsSync(String(ready?.token_file))).toBe(false);
    expect(stopped?.requests).toBeGreaterThan(0);
    expect(stopped?.alive).toEqual([]);
    // composer, sidecar and at least the composer's three children
    expect(stopped?.pids.length).toBeGreaterThanOrEqual(5);
    for (const pid of stopped?.pids ?? []) expect(isAlive(pid), `pid ${pid}`).toBe(false);
  });
});
