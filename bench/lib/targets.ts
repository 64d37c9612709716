/**
 * The things measured, each started as its own process on the server core: the upstream itself
 * ("direct"), nginx as a proxy, the bare undici proxy, http-proxy, and the sidecar started as the real
 * CLI with a metrics token (all its metrics and sources on).
 */
import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTimingLine, type ScrapeTimingLine } from '../../src/admin/scrape-timing.ts';
import { startNginx, type NginxInstance } from './nginx.ts';
import { jsonLine, spawnPinned, stopChild, waitForLine } from './proc.ts';

export type TargetName = 'direct' | 'nginx' | 'bare-undici' | 'http-proxy' | 'sidecar' | 'sidecar-traced' | 'sidecar-exemplars' | 'otlp-sink';

/**
 * The sidecar variants beside the default one (no tracing): tracing on (every request and MCP call
 * sampled, spans pushed to an OTLP sink) with exemplars off, and the same with exemplars on
 * (`trace_based`, the default filter). Their difference is what exemplars cost.
 */
export const TRACED_VARIANTS = {
  'sidecar-traced': { OTEL_METRICS_EXEMPLAR_FILTER: 'always_off' },
  'sidecar-exemplars': { OTEL_METRICS_EXEMPLAR_FILTER: 'trace_based' },
} as const satisfies Partial<Record<TargetName, Record<string, string>>>;
export type TracedVariant = keyof typeof TRACED_VARIANTS;

export interface Target {
  readonly name: TargetName;
  /** Base URL clients use. */
  readonly url: string;
  /** Process whose CPU time and memory are measured (nginx: its worker). */
  readonly pid: number;
  /** Sidecar only: its metrics URL and bearer token. */
  readonly metricsUrl?: string;
  readonly token?: string;
  /** Sidecar started with `debugScrapeTiming`: its `scrape_timing` log lines so far, one per /metrics answer. */
  readonly scrapeTimings?: readonly ScrapeTimingLine[];
  stop(): Promise<void>;
}

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Where the bench builds the sidecar: what an installed package runs is the compiled `dist/cli.js`, not the
 * TypeScript sources (type stripping keeps its compiler in memory: about 30 MB more RSS, same CPU). The
 * build goes to its own folder at the repository's top (so `../package.json` resolves as from dist/) and is
 * redone at every bench start, so it never runs stale code.
 */
export const BUILD_DIR = join(ROOT, '.bench-build');

/** Compiles src/ into {@link BUILD_DIR}; returns the CLI to run. `fromSource` runs src/cli.ts instead. */
export function sidecarEntry(fromSource: boolean): string {
  if (fromSource) return join(ROOT, 'src/cli.ts');
  rmSync(BUILD_DIR, { recursive: true, force: true });
  const tsc = join(ROOT, 'node_modules/.bin/tsc');
  const r = spawnSync(tsc, ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', BUILD_DIR, '--declaration', 'false', '--sourceMap', 'false'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`building the sidecar failed: ${r.stdout}${r.stderr}`);
  return join(BUILD_DIR, 'cli.js');
}

/** Starts a Node script of bench/targets that prints `{"listening":url}`. */
export async function startNodeTarget(
  name: TargetName,
  script: string,
  args: readonly string[],
  cpus: string | undefined,
  nodeFlags: readonly string[] = [],
): Promise<Target> {
  const child = spawnPinned(cpus, process.execPath, [...nodeFlags, fileURLToPath(new URL(`../targets/${script}`, import.meta.url)), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await waitForLine(child, (l) => jsonLine(l)?.['listening'] as string | undefined, name);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name} did not spawn`);
  return { name, url, pid, stop: () => stopChild(child) };
}

export function fromNginx(name: TargetName, n: NginxInstance): Target {
  return { name, url: n.url, pid: n.workerPid, stop: () => n.stop() };
}

export async function startNginxProxy(bin: string, upstreamPort: number, cpus: string | undefined): Promise<Target> {
  return fromNginx('nginx', await startNginx(bin, { role: 'proxy', cpus, upstreamPort }));
}

export interface SidecarSpec {
  /** The CLI to run ({@link sidecarEntry}). */
  readonly entry: string;
  readonly upstream: string;
  readonly cpus: string | undefined;
  /** Extra CLI flags. */
  readonly args?: readonly string[];
  /** Node flags, e.g. `--cpu-prof --cpu-prof-dir DIR`. */
  readonly nodeFlags?: readonly string[];
  /** A traced variant, pushing spans to `otlpSink` (the default sidecar has no tracing). */
  readonly variant?: TracedVariant;
  readonly otlpSink?: string;
  /** Run with `--debug-scrape-timing` and collect its log lines ({@link Target.scrapeTimings}). */
  readonly debugScrapeTiming?: boolean;
}

/** Environment of a traced variant: OTLP traces to the sink, the default sampler (parent-based, always on). */
function variantEnv(spec: SidecarSpec): NodeJS.ProcessEnv {
  if (spec.variant === undefined) return process.env;
  if (spec.otlpSink === undefined) throw new Error(`${spec.variant} needs an OTLP sink`);
  return {
    ...process.env,
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: spec.otlpSink,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    ...TRACED_VARIANTS[spec.variant],
  };
}

/** The OTLP sink of the traced variants, on the load CPUs. */
export function startOtlpSink(cpus: string | undefined): Promise<Target> {
  return startNodeTarget('otlp-sink', 'otlp-sink.ts', [], cpus);
}

/**
 * The sidecar as users run it: the built CLI with a metrics token file. Every source is on (REST
 * observer, MCP tap, inventory poller, event stream client, source detection, probe); the upstream
 * answers the sidecar's own requests cheaply (see nginx.ts).
 */
export async function startSidecar(spec: SidecarSpec): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-sidecar-'));
  const token = `bench-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const args = [
    spec.entry,
    '--upstream',
    spec.upstream,
    '--listen',
    '127.0.0.1:0',
    '--metrics-listen',
    '127.0.0.1:0',
    '--metrics-token-file',
    tokenFile,
    '--log-level',
    'info',
    ...(spec.debugScrapeTiming === true ? ['--debug-scrape-timing'] : []),
    ...(spec.args ?? []),
  ];
  const child = spawnPinned(spec.cpus, process.execPath, [...(spec.nodeFlags ?? []), ...args], {
    cwd: ROOT,
    env: variantEnv(spec),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const listening = await waitForLine(
    child,
    (l) => {
      const j = jsonLine(l);
      return j?.['event'] === 'listening' ? { proxy: String(j['proxy']), metrics: String(j['metrics']) } : undefined;
    },
    'sidecar',
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error('sidecar did not spawn');
  const scrapeTimings: ScrapeTimingLine[] = [];
  if (spec.debugScrapeTiming === true && child.stdout !== null) {
    createInterface({ input: child.stdout }).on('line', (l) => {
      const line = readTimingLine(jsonLine(l));
      if (line !== undefined) scrapeTimings.push(line);
    });
  }
  return {
    name: spec.variant ?? 'sidecar',
    url: listening.proxy,
    pid,
    metricsUrl: listening.metrics,
    token,
    ...(spec.debugScrapeTiming === true ? { scrapeTimings } : {}),
    async stop() {
      await stopChild(child, 15_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
