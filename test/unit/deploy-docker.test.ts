/**
 * deploy/docker/Dockerfile and .dockerignore, checked for structure (no daemon here to build with): a
 * multi-stage build on node:24-slim whose final stage has production dependencies only, runs as a numeric
 * non-root user, stops on SIGTERM, exposes the sidecar's two default ports and carries no secret.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type OptionKey, optionByKey } from '../../src/config/options.ts';
import { parseHostPort } from '../../src/config/values.ts';
import { DEPLOY_PATHS } from '../../scripts/deploy/paths.ts';
import { isIgnored, parseDockerfile, parseDockerignore, type Instruction } from '../fixtures/dockerfile.ts';
import { ROOT } from '../fixtures/sidecar.ts';

const { globalArgs, stages } = parseDockerfile(readFileSync(DEPLOY_PATHS.dockerfile, 'utf8'));
const final = stages.at(-1)!;
const all = (keyword: string, instructions: readonly Instruction[] = final.instructions) =>
  instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
const defaultPort = (key: OptionKey) => parseHostPort(optionByKey(key)?.default ?? '').port;

/** Sources of a COPY without --from (relative to the build context). */
function contextSources(args: string): string[] {
  const words = args.split(/\s+/).filter((w) => !w.startsWith('--'));
  return words.slice(0, -1);
}

describe('deploy/docker/Dockerfile', () => {
  it('builds in stages, every one on node:24-slim, and names the build stage the final one copies from', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.image).toBe('node:24-slim');
    expect(globalArgs['NODE_IMAGE']).toBe('node:24-slim');
    const build = stages.find((s) => s.name === 'build');
    expect(build).toBeDefined();
    expect(all('RUN', build!.instructions).join('\n')).toMatch(/npm ci\b/);
    expect(all('RUN', build!.instructions).join('\n')).toMatch(/npm run build\b/);
    expect(
      all('COPY')
        .filter((a) => a.startsWith('--from=build'))
        .join('\n'),
    ).toMatch(/\/app\/dist \.\/dist$/);
  });

  it('installs production dependencies only in the final stage, and copies dist/, bin/ and package*.json, not the sources', () => {
    const runs = all('RUN');
    expect(runs.length).toBeGreaterThan(0);
    for (const r of runs) {
      if (!/\bnpm\b/.test(r)) continue;
      expect(r).toMatch(/npm ci (?:.* )?--omit=dev\b/);
      expect(r).not.toMatch(/npm (install|i)\b/);
    }
    const sources = all('COPY')
      .filter((a) => !a.startsWith('--from'))
      .flatMap(contextSources);
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'bin']));
    expect(sources).not.toContain('.');
    expect(sources).not.toContain('src');
    expect(sources).not.toContain('node_modules');
  });

  it('runs as a numeric non-root user, stops on SIGTERM, exposes the default proxy and metrics ports and starts the bin', () => {
    const users = all('USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
    expect(final.instructions.findIndex((i) => i.keyword === 'USER')).toBeGreaterThan(final.instructions.findLastIndex((i) => i.keyword === 'RUN'));
    expect(all('STOPSIGNAL')).toEqual(['SIGTERM']);
    const exposed = all('EXPOSE')
      .flatMap((a) => a.split(/\s+/))
      .map((p) => Number(p.split('/')[0]));
    expect(exposed.sort()).toEqual([defaultPort('listen'), defaultPort('metricsListen')].sort());
    const entrypoint = all('ENTRYPOINT');
    expect(entrypoint).toHaveLength(1);
    const argv = JSON.parse(entrypoint[0]!) as string[];
    expect(argv).toEqual(['node', 'bin/mcp-composer-sidecar.js']);
    expect(existsSync(join(ROOT, argv[1]!))).toBe(true);
  });

  it('carries no secret and fetches nothing by URL', () => {
    for (const s of stages) {
      expect(all('ADD', s.instructions)).toEqual([]);
      for (const kv of [...all('ENV', s.instructions), ...all('ARG', s.instructions)]) expect(kv).not.toMatch(/TOKEN|SECRET|PASSW|API_?KEY|CREDENTIAL/i);
      for (const r of all('RUN', s.instructions)) expect(r).not.toMatch(/\b(curl|wget)\b|https?:\/\//);
    }
    expect([...all('ENTRYPOINT'), ...all('CMD')].join(' ')).not.toMatch(/--metrics-token\b|--no-metrics-auth/);
  });
});

describe('.dockerignore', () => {
  const rules = parseDockerignore(readFileSync(DEPLOY_PATHS.dockerignore, 'utf8'));

  it('leaves node_modules, .git, tests, build output and local files out of the build context', () => {
    for (const path of [
      'node_modules/undici/index.js',
      '.git/HEAD',
      'test/unit/config.test.ts',
      'test/fixtures/sidecar.ts',
      'dist/cli.js',
      'demo/cli.ts',
      'bench/otel/sidecar-under-test.ts',
      'docs/metrics.md',
      'deploy/docker/Dockerfile',
      'token',
      '.env',
      'coverage/index.html',
      'src/config/x.test.ts',
    ]) {
      expect(isIgnored(rules, path), path).toBe(true);
    }
  });

  it('keeps everything the Dockerfile copies from the context', () => {
    const sources = stages.flatMap((s) =>
      all('COPY', s.instructions)
        .filter((a) => !a.startsWith('--from'))
        .flatMap(contextSources),
    );
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) expect(isIgnored(rules, src), src).toBe(false);
    for (const path of ['src/cli.ts', 'src/telemetry/catalog.ts', 'bin/mcp-composer-sidecar.js']) expect(isIgnored(rules, path), path).toBe(false);
  });
});
