// The demo composer's command line as a real process: the listening line, --help, bad flags (exit 2,
// one line naming the flag), an invalid --config (exit 1), and a config file of one's own.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHILD_SCRIPT } from '../../demo/config.ts';
import { DEMO_CLI, requestJson, startDemoComposer } from '../fixtures/demo-composer.ts';

const run = (args: string[]) => spawnSync(process.execPath, [DEMO_CLI, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('demo composer command line', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'demo-cli-test-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('--help lists the flags and exits 0', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    for (const flag of ['--port', '--profile', '--api-shape', '--auth-token', '--rate-limit', '--test-control', '--keepalive-interval'])
      expect(r.stdout).toContain(flag);
  });

  it('bad flags exit 2 with one line on stderr that names the flag', () => {
    for (const [args, flag] of [
      [['--port', 'x'], '--port'],
      [['--nope'], '--nope'],
      [['--profile', 'x'], '--profile'],
    ] as const) {
      const r = run([...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(flag);
      expect(r.stdout).toBe('');
    }
  });

  it('an invalid --config file exits 1 with the problems', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, '{"servers": [{"id": "x"}]}');
    const r = run(['--port', '0', '--config', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('servers.0.command');
  });

  it('runs the servers of a --config file and prints the listening line on stdout', async () => {
    const file = join(dir, 'one.json');
    await writeFile(file, JSON.stringify({ servers: [{ id: 'solo', command: process.execPath, args: [CHILD_SCRIPT, '--role', 'clock'] }] }));
    const composer = await startDemoComposer(['--config', file]);
    try {
      const listening = JSON.parse(composer.stdoutLines[0] ?? '{}') as Record<string, unknown>;
      expect(listening).toEqual({ event: 'listening', url: composer.url, pid: composer.pid });
      expect(composer.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const r = await requestJson(`${composer.url}/api/v1/servers`);
      expect((r.body as { servers: { id: string }[] }).servers.map((s) => s.id)).toEqual(['solo']);
    } finally {
      await composer.close();
    }
  });
});
