/**
 * `npm run bench`: the sidecar side by side with nginx, a bare undici proxy and http-proxy, in one run.
 *
 *   npm run bench                      # everything (about 15 minutes)
 *   npm run bench -- --quick           # short runs, one round: for development, not for the record
 *   npm run bench -- --only get,latency
 *   npm run bench -- --only get --profile   # the sidecar writes a --cpu-prof profile to bench/results/profiles/
 *   npm run bench -- --only get --targets sidecar,bare-undici --repeats 5   # an A/B while optimising
 *   npm run bench -- --only mcp --targets sidecar,bare-undici --quick       # MCP without nginx and the traced variants
 *   npm run bench -- --from-source     # run src/cli.ts (type stripping) instead of a fresh build
 *
 * Scenarios: get, post, latency, mcp, sse, scrape (docs/performance.md describes each and the method).
 * The report ends with issue #21's Measure table for the run (bench/lib/summary.ts).
 * Results are printed as tables with ratios and written to bench/results/ as JSON (`latest.json` for a
 * complete run of every scenario, `quick-latest.json` for --quick, a timestamped file for every run).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BUSY_SHARE, type BenchContext } from './lib/context.ts';
import { LOAD_TOOL } from './lib/load.ts';
import { load1, machineInfo } from './lib/machine.ts';
import { nginxBinary } from './lib/nginx.ts';
import { HAS_TASKSET, pinProcess } from './lib/proc.ts';
import { printReport, writeResults, type BenchResults } from './lib/report.ts';
import { ROOT, sidecarEntry } from './lib/targets.ts';
import { latencyScenario } from './scenarios/latency.ts';
import { mcpScenario } from './scenarios/mcp.ts';
import { scrapeScenario } from './scenarios/scrape.ts';
import { sseScenario } from './scenarios/sse.ts';
import { throughputScenario } from './scenarios/throughput.ts';

const SCENARIOS = ['get', 'post', 'latency', 'mcp', 'sse', 'scrape'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'from-source': { type: 'boolean', default: false },
    seconds: { type: 'string' },
    repeats: { type: 'string' },
    targets: { type: 'string' },
  },
});
const quick = values.quick === true;
const only = (values.only?.split(',').map((s) => s.trim()) ?? [...SCENARIOS]) as Scenario[];
for (const s of only) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}; one of ${SCENARIOS.join(', ')}`);

const cores = (await import('node:os')).cpus().length;
const pin = HAS_TASKSET && cores >= 2;
const loadCpus = pin ? '0' : undefined;
const serverCpus = pin ? '1' : undefined;
if (loadCpus !== undefined) pinProcess(process.pid, loadCpus);
const nginxBin = nginxBinary();
const profileDir = join(ROOT, 'bench/results/profiles');
if (values.profile === true) mkdirSync(profileDir, { recursive: true });

const ctx: BenchContext = {
  quick,
  loadCpus,
  serverCpus,
  serverCores: serverCpus === undefined ? [] : [serverCpus],
  nginxBin,
  sidecarEntry: sidecarEntry(values['from-source'] === true),
  sidecarNodeFlags: values.profile === true ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [],
  seconds: Number(values.seconds ?? (quick ? 3 : 10)),
  warmupSeconds: quick ? 1 : 3,
  targets: values.targets === undefined ? undefined : new Set(values.targets.split(',').map((t) => t.trim())),
  repeats: Number(values.repeats ?? (quick ? 1 : 3)),
  log: (line) => process.stderr.write(`${line}\n`),
};

const machine = machineInfo(nginxBin);
ctx.log(`mcp-composer-sidecar bench: node ${machine.node}, ${machine.cores} × ${machine.cpuModel}, load average ${load1().toFixed(2)}`);
ctx.log(
  pin
    ? `layout: load generators on CPU ${loadCpus}; upstream and proxy under test on CPU ${serverCpus} (taskset)`
    : `layout: not pinned (${HAS_TASKSET ? `${cores} core(s)` : 'taskset missing'})`,
);
ctx.log(
  `load generator: ${LOAD_TOOL}${LOAD_TOOL === 'wrk' ? '' : ' (wrk is not installed)'}; nginx: ${nginxBin === undefined ? 'NOT INSTALLED (no nginx baseline; Node upstream)' : machine.nginx}`,
);
ctx.log(
  `sidecar: ${ctx.sidecarEntry.slice(ROOT.length)}${values['from-source'] === true ? ' (type stripping: about 30 MB more RSS than the build)' : ' (built from src/ for this run, as the package ships it)'}`,
);
if (quick) ctx.log('--quick: short runs, one round; figures are indicative only');

const results: BenchResults = {
  date: new Date().toISOString(),
  quick,
  machine,
  layout: { loadCpus: loadCpus ?? null, serverCpus: serverCpus ?? null, loadTool: LOAD_TOOL, sidecar: ctx.sidecarEntry.slice(ROOT.length) },
  method: { seconds: ctx.seconds, warmupSeconds: ctx.warmupSeconds, repeats: ctx.repeats, busyShare: BUSY_SHARE },
  load: { start: load1(), end: NaN },
  scenarios: {},
};

for (const s of only) {
  ctx.log(`\n== ${s} ==`);
  const t0 = performance.now();
  switch (s) {
    case 'get':
      results.scenarios.get = await throughputScenario(ctx, 'GET');
      break;
    case 'post':
      results.scenarios.post = await throughputScenario(ctx, 'POST');
      break;
    case 'latency':
      results.scenarios.latency = await latencyScenario(ctx);
      break;
    case 'mcp':
      results.scenarios.mcp = await mcpScenario(ctx);
      break;
    case 'sse':
      results.scenarios.sse = await sseScenario(ctx);
      break;
    case 'scrape':
      results.scenarios.scrape = await scrapeScenario(ctx);
      break;
  }
  ctx.log(`  (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}
results.load.end = load1();
process.stdout.write(printReport(results));
const file = writeResults(
  results,
  SCENARIOS.every((x) => only.includes(x)),
);
ctx.log(`\nresults: ${file}`);
