/**
 * What the container image runs, without a Docker daemon: the final stage's layout — `npm run build`'s
 * dist/, bin/, package*.json and the production dependencies only — assembled in a temporary folder and
 * started with Node 24. It answers --version, proxies, serves its metrics port with a token file, writes
 * nothing into its own folder, and exits 0 on SIGTERM.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scrapeText } from '../fixtures/scrape.ts';
import { ROOT, spawnSidecar } from '../fixtures/sidecar.ts';
import { startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

const TOKEN = 'image-layout-token-0123456789';

/** The top-level packages `npm ci --omit=dev` installs, from the lockfile. */
function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  return Object.entries(lock.packages)
    .filter(
      ([path, p]) =>
        path.startsWith('node_modules/') && !path.slice('node_modules/'.length).includes('node_modules/') && p.dev !== true && p.devOptional !== true,
    )
    .map(([path]) => path);
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !relative(dir, e.parentPath).startsWith('node_modules'))
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('the image layout (deploy/docker/Dockerfile final stage)', () => {
  let tmp: string;
  let app: string;
  let upstream: TestUpstream;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'sidecar-image-'));
    app = join(tmp, 'app');
    const tsc = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/typescript/bin/tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        join(app, 'dist'),
        '--sourceMap',
        'false',
        '--declaration',
        'false',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    if (tsc.status !== 0) throw new Error(`npm run build failed: ${tsc.stdout}${tsc.stderr}`);
    // As `npm run build` does: the status page's files are not TypeScript, tsc does not emit them.
    cpSync(join(ROOT, 'src/admin/status'), join(app, 'dist/admin/status'), { recursive: true });
    cpSync(join(ROOT, 'bin'), join(app, 'bin'), { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) cpSync(join(ROOT, f), join(app, f));
    // Hard links: as fast as symlinks, but resolution cannot wander back into the checkout's node_modules.
    mkdirSync(join(app, 'node_modules'));
    const cp = spawnSync('cp', ['-al', '--parents', ...productionPackages(), app], { cwd: ROOT, encoding: 'utf8' });
    if (cp.status !== 0) throw new Error(`copying node_modules failed: ${cp.stderr}`);
    writeFileSync(join(tmp, 'token'), `${TOKEN}\n`, { mode: 0o600 });
    upstream = await startUpstream((_req, res) => res.end('from the composer'));
  }, 60_000);

  afterAll(async () => {
    await upstream?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('holds production dependencies only', () => {
    const installed = readdirSync(join(app, 'node_modules'));
    for (const dev of ['typescript', 'vitest', 'node', 'yaml', 'kubernetes-models', 'fast-check']) expect(installed).not.toContain(dev);
    expect(installed).toContain('undici');
  });

  it('prints the package version with --version', () => {
    const r = spawnSync(process.execPath, [join(app, 'bin/mcp-composer-sidecar.js'), '--version'], {
      cwd: app,
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('proxies, serves /healthz and a token-protected /metrics, writes nothing into its folder, and exits 0 on SIGTERM', async () => {
    const before = files(app);
    const args = [
      '--upstream',
      upstream.url,
      '--listen',
      '127.0.0.1:0',
      '--metrics-listen',
      '127.0.0.1:0',
      '--metrics-token-file',
      join(tmp, 'token'),
      '--no-events',
    ];
    const sidecar = await spawnSidecar(args, {}, true, join(app, 'bin/mcp-composer-sidecar.js'));
    try {
      expect(await (await fetch(`${sidecar.proxyUrl}/api/v1/health`)).text()).toBe('from the composer');
      expect((await fetch(new URL('/healthz', sidecar.metricsUrl))).status).toBe(200);
      expect((await fetch(sidecar.metricsUrl)).status).toBe(401);
      expect((await fetch(new URL('/status/app.js', sidecar.metricsUrl))).status).toBe(200);
      expect(await scrapeText(sidecar.metricsUrl, TOKEN)).toContain('mcp_http_requests_total{method="GET",endpoint="/api/v1/health",status_code="200"} 1');
    } finally {
      expect(await sidecar.stop()).toBe(0);
    }
    expect(files(app)).toEqual(before);
  });
});
