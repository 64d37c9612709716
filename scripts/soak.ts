/**
 * The soak: the sidecar (a real process) in front of a demo composer under mixed traffic — random paths, SSE
 * and WebSocket churn, MCP sessions opened and abandoned with calls pending — for `--minutes N`, reporting
 * its memory and series counts every minute, then checking that its state returns to rest.
 *
 *   npm run soak -- --minutes 10 [--concurrency 8] [--interval 60] [--max-label-values 200] [--memory-limit 256Mi|none]
 *
 * The sidecar runs as deployed: compiled to JavaScript (into .soak-build/, rebuilt at every start) and with
 * the V8 heap flags its memory budget gives for the memory limit of deploy/kubernetes/base/deployment.yaml
 * (`--memory-limit` measures another limit; `none` runs V8's defaults, as before the budget existed).
 *
 * Each report line: elapsed time, actions done, proxied requests counted, RSS, heap (and heap after a full
 * collection, where a leak shows), series in the scrape and the largest per family, open streams, MCP
 * sessions and pending requests. RSS is also sampled every 5 s; at the end the peak (and the kernel's
 * high-water mark, VmHWM) is printed against the manifest's limit. After the traffic stops: open streams,
 * sessions and pending requests must return to 0, no label may exceed its bound, and the peak RSS must stay
 * under 80 % of the limit; a JSON summary line follows, and the exit code is 1 if a check failed. The
 * sidecar's log is kept in a temporary file (its path is printed).
 */
import { fork, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { budgetRuntimeFlags, deriveBudget, formatMiB, heapFlags, parseMemoryLimit, type MemoryBudget } from '../src/config/memory.ts';
import { startDemoComposer } from '../test/fixtures/demo-composer.ts';
import { scrapeText } from '../test/fixtures/scrape.ts';
import { manifestMemory } from './lib/manifest.ts';
import { runMixedTraffic } from './lib/mixed-traffic.ts';
import { knownLabelValues, seriesReport, type SeriesReport } from './lib/series.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '8' },
    interval: { type: 'string', default: '60' },
    'max-label-values': { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
    'memory-limit': { type: 'string' },
  },
  strict: true,
});
const minutes = Number(values.minutes);
const intervalMs = Number(values.interval) * 1000;
const maxLabelValues = Number(values['max-label-values']);
if (!(minutes > 0) || !(intervalMs > 0)) throw new Error('--minutes and --interval must be positive');
const manifest = manifestMemory();
const limitSetting = values['memory-limit'] === undefined ? { kind: 'bytes' as const, bytes: manifest.limitBytes } : parseMemoryLimit(values['memory-limit']);
if (limitSetting.kind === 'auto') throw new Error('--memory-limit: give a size or none');
const budget: MemoryBudget | undefined =
  limitSetting.kind === 'none'
    ? undefined
    : deriveBudget(limitSetting.bytes, values['memory-limit'] === undefined ? `the manifest's ${manifest.limit}` : '--memory-limit');

/** The sidecar compiled as the image runs it; its own folder at the top, so that ../package.json resolves. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILD_DIR = join(ROOT, '.soak-build');
rmSync(BUILD_DIR, { recursive: true, force: true });
const build = spawnSync(
  join(ROOT, 'node_modules/.bin/tsc'),
  ['-p', join(ROOT, 'tsconfig.build.json'), '--outDir', BUILD_DIR, '--declaration', 'false', '--sourceMap', 'false'],
  { cwd: ROOT, encoding: 'utf8' },
);
if (build.status !== 0) throw new Error(`building the sidecar failed: ${build.stdout}${build.stderr}`);

const TOKEN = 'soak-composer-token';
const METRICS_TOKEN = 'soak-metrics-token';
const dir = mkdtempSync(join(tmpdir(), 'sidecar-soak-'));
const tokenFile = join(dir, 'upstream-token');
writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
const logFile = join(dir, 'sidecar.log');

interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly heapAfterGc: number;
  readonly rssAfterGc: number;
}

const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
/** RSS and its high-water mark (the kernel's own peak) of a process, bytes. */
function procMemory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
const clock = (ms: number): string => `${String(Math.floor(ms / 60_000)).padStart(2, '0')}:${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}`;

// The flags the CLI would start the sidecar with for this budget, and the one it sets at run time (the
// child is not the CLI; on the command line the growing factor has the same effect).
const v8Flags = budget === undefined ? [] : [...heapFlags(budget), ...budgetRuntimeFlags({ action: 'applied', budget, flags: heapFlags(budget) })];
const composer = await startDemoComposer(['--servers', '3', '--auth-token', TOKEN, '--keepalive-interval', '5s']);
const child = fork(
  fileURLToPath(new URL('./lib/sidecar-child.js', import.meta.url)),
  [
    BUILD_DIR,
    '--upstream',
    composer.url,
    '--listen',
    '127.0.0.1:0',
    '--metrics-listen',
    '127.0.0.1:0',
    '--metrics-token',
    METRICS_TOKEN,
    '--upstream-token-file',
    tokenFile,
    '--max-label-values',
    String(maxLabelValues),
    '--mcp-pending-timeout',
    '20s',
    '--mcp-session-idle-timeout',
    '20s',
    '--log-level',
    'info',
  ],
  { execArgv: ['--expose-gc', ...v8Flags], stdio: ['ignore', openSync(logFile, 'a'), 'inherit', 'ipc'] },
);
const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
const ready = await new Promise<{ proxyUrl: string; metricsUrl: string; heapSizeLimit: number }>((resolve, reject) => {
  child.on('message', (m: { type?: string; proxyUrl?: string; metricsUrl?: string; heapSizeLimit?: number }) => {
    if (m.type === 'ready') resolve({ proxyUrl: m.proxyUrl as string, metricsUrl: m.metricsUrl as string, heapSizeLimit: m.heapSizeLimit as number });
  });
  void exited.then((code) => reject(new Error(`the sidecar exited (${code}) before listening; see ${logFile}`)));
});

function memory(): Promise<Memory> {
  return new Promise((resolve) => {
    const on = (m: { type?: string } & Partial<Memory>): void => {
      if (m.type !== 'memory') return;
      child.off('message', on);
      resolve(m as Memory);
    };
    child.on('message', on);
    child.send({ type: 'memory' });
  });
}

async function sample(): Promise<{ memory: Memory; series: SeriesReport }> {
  return { memory: await memory(), series: seriesReport(await scrapeText(ready.metricsUrl, METRICS_TOKEN)) };
}

function line(label: string, s: { memory: Memory; series: SeriesReport }, actions: number): string {
  const biggest = Object.entries(s.series.perFamily).sort((a, b) => b[1] - a[1])[0];
  return [
    label.padEnd(8),
    `actions ${String(actions).padStart(7)}`,
    `requests ${String(s.series.requests).padStart(8)}`,
    `rss ${mb(s.memory.rss).padStart(6)} MiB`,
    `heap ${mb(s.memory.heapUsed).padStart(6)} MiB`,
    `heap after gc ${mb(s.memory.heapAfterGc).padStart(6)} MiB`,
    `series ${String(s.series.total).padStart(5)} (max ${biggest?.[1] ?? 0} ${biggest?.[0] ?? ''})`,
    `open streams ${s.series.openStreams}`,
    `sessions ${s.series.sessionsActive}`,
    `pending ${s.series.pendingRequests}`,
  ].join('  ');
}

const pid = child.pid as number;
console.log(`soak: ${minutes} min, ${values.concurrency} workers, sidecar pid ${pid}, log ${logFile}`);
console.log(
  budget === undefined
    ? `memory: V8's defaults (--memory-limit none); heap_size_limit ${mb(ready.heapSizeLimit)} MiB; the manifest's limit is ${manifest.limit}`
    : `memory: limit ${formatMiB(budget.limitBytes)} (${budget.source}) → V8 ${v8Flags.join(' ')}; heap_size_limit ${mb(ready.heapSizeLimit)} MiB (expected ${budget.heapLimitMiB})`,
);
let peakRss = 0;
const start = await sample();
console.log(line('start', start, 0));
const stop = new AbortController();
const stats = { actions: {} as Record<string, number>, failures: {} as Record<string, number> };
const actionsDone = (): number => Object.values(stats.actions).reduce((a, b) => a + b, 0);
const traffic = runMixedTraffic(
  { proxyUrl: ready.proxyUrl, token: TOKEN, concurrency: Number(values.concurrency), signal: stop.signal, seed: Number(values.seed) },
  stats,
);
const began = Date.now();
const samples: Array<{ at: number; memory: Memory; series: SeriesReport }> = [];
let peak = { openStreams: 0, sessionsActive: 0, pendingRequests: 0 };
for (let next = intervalMs; next <= minutes * 60_000; next += intervalMs) {
  // Check the gauges every few seconds, report every interval.
  while (Date.now() - began < next) {
    await new Promise((r) => setTimeout(r, Math.min(5000, next - (Date.now() - began))));
    peakRss = Math.max(peakRss, procMemory(pid).rss);
    const s = seriesReport(await scrapeText(ready.metricsUrl, METRICS_TOKEN));
    peak = {
      openStreams: Math.max(peak.openStreams, s.openStreams),
      sessionsActive: Math.max(peak.sessionsActive, s.sessionsActive),
      pendingRequests: Math.max(peak.pendingRequests, s.pendingRequests),
    };
  }
  const s = await sample();
  samples.push({ at: Date.now() - began, ...s });
  console.log(line(clock(Date.now() - began), s, actionsDone()));
}
stop.abort();
await traffic;
const stoppedAt = Date.now();
// The sidecar reads the composer's inventory (it has the token): those values are known, outside the bound.
const known = await knownLabelValues(composer.url, TOKEN);
let rest = seriesReport(await scrapeText(ready.metricsUrl, METRICS_TOKEN), known);
while (Date.now() - stoppedAt < 120_000 && (rest.openStreams !== 0 || rest.sessionsActive !== 0 || rest.pendingRequests !== 0)) {
  await new Promise((r) => setTimeout(r, 1000));
  rest = seriesReport(await scrapeText(ready.metricsUrl, METRICS_TOKEN), known);
}
const end = await sample();
console.log(line('at rest', end, actionsDone()));
const finalMemory = procMemory(pid);
peakRss = Math.max(peakRss, finalMemory.rss, start.memory.rss, end.memory.rss, ...samples.map((x) => x.memory.rss));
const limitBytes = budget?.limitBytes ?? manifest.limitBytes;
const share = (n: number): string => `${((n / limitBytes) * 100).toFixed(0)} %`;
console.log(
  `peak RSS ${mb(peakRss)} MiB (${share(peakRss)} of ${formatMiB(limitBytes)}); VmHWM ${mb(finalMemory.hwm)} MiB (${share(finalMemory.hwm)}); manifest: request ${manifest.request}, limit ${manifest.limit}`,
);

const overBound = Object.entries(rest.maxLabelValues).filter(([, v]) => v.values > maxLabelValues + 1);
const checks = {
  sidecarAlive: child.exitCode === null,
  openStreamsAtRest: rest.openStreams === 0,
  sessionsAtRest: rest.sessionsActive === 0,
  pendingAtRest: rest.pendingRequests === 0,
  labelsWithinBound: overBound.length === 0,
  rssPeakUnder80PercentOfLimit: Math.max(peakRss, finalMemory.hwm) < 0.8 * limitBytes,
};
const first = samples[0];
const last = samples.at(-1);
console.log(
  JSON.stringify({
    event: 'soak_summary',
    minutes,
    actions: stats.actions,
    actionFailures: stats.failures,
    requests: end.series.requests,
    peak,
    memoryLimit: {
      manifest: manifest.limit,
      manifestRequest: manifest.request,
      measuredAgainst: formatMiB(limitBytes),
      v8Flags,
      heapSizeLimitMiB: mb(ready.heapSizeLimit),
    },
    peakRssMiB: mb(peakRss),
    vmHwmMiB: mb(finalMemory.hwm),
    peakShareOfLimit: Number((Math.max(peakRss, finalMemory.hwm) / limitBytes).toFixed(3)),
    memoryMB: {
      start: { rss: mb(start.memory.rss), heap: mb(start.memory.heapUsed), heapAfterGc: mb(start.memory.heapAfterGc) },
      afterFirstInterval:
        first === undefined ? undefined : { rss: mb(first.memory.rss), heap: mb(first.memory.heapUsed), heapAfterGc: mb(first.memory.heapAfterGc) },
      lastInterval: last === undefined ? undefined : { rss: mb(last.memory.rss), heap: mb(last.memory.heapUsed), heapAfterGc: mb(last.memory.heapAfterGc) },
      atRest: { rss: mb(end.memory.rss), heap: mb(end.memory.heapUsed), heapAfterGc: mb(end.memory.heapAfterGc) },
    },
    series: { total: end.series.total, perFamily: end.series.perFamily, labelOverflows: end.series.labelOverflows, overBound },
    checks,
  }),
);
child.send({ type: 'stop' });
const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 20_000))]);
if (code === 'timeout') child.kill('SIGKILL');
await composer.close();
process.exitCode = Object.values(checks).every(Boolean) ? 0 : 1;
