/**
 * The bin on a Node that is too old (this machine's /usr/bin/node is Node 20) prints one line naming the
 * Node needed and how to get it, and exits 1 — not an ERR_UNKNOWN_FILE_EXTENSION stack trace.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../fixtures/sidecar.ts';

const BIN = join(ROOT, 'bin/mcp-composer-sidecar.js');
const ENGINES = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;

/** A `node` older than 22 on PATH, outside any node_modules/.bin (npm puts the bundled Node 24 there). */
function oldNode(): { path: string; version: string } | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '' || dir.includes('node_modules')) continue;
    const path = join(dir, 'node');
    try {
      accessSync(path, constants.X_OK);
    } catch {
      continue;
    }
    const version = spawnSync(path, ['--version'], { encoding: 'utf8' }).stdout.trim();
    const major = Number(/^v(\d+)\./.exec(version)?.[1]);
    if (major < 22) return { path, version };
  }
  return undefined;
}

const old = oldNode();
const title = old === undefined ? 'on a Node older than 22 (skipped: no Node < 22 on PATH outside node_modules/.bin)' : `on ${old.version} (${old.path})`;

describe.skipIf(old === undefined)(`the bin ${title}`, () => {
  it.each([['--help'], ['--version'], ['--upstream', 'http://127.0.0.1:1', '--no-metrics-auth'], ['check', '--upstream', 'http://127.0.0.1:1']])(
    'prints one line naming the Node needed and exits 1: %j',
    (...args) => {
      const r = spawnSync(old?.path ?? 'node', [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 20_000 });
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toBe(
        `mcp-composer-sidecar: needs Node.js ${ENGINES}, this is ${old?.version}; in a source checkout \`npm start -- [flags]\` runs the Node 24 that \`npm ci\` installs, elsewhere install Node.js 24 (https://nodejs.org)`,
      );
      expect(r.stderr).not.toContain('ERR_UNKNOWN_FILE_EXTENSION');
    },
  );
});

describe('the bin on the Node that runs the tests', () => {
  it('starts as usual', () => {
    const r = spawnSync(process.execPath, [BIN, '--version'], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH }, timeout: 20_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
