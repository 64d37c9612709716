/**
 * Scrape cost with about 10,000 series: traffic over 4 methods × 72 distinct endpoints fills the four
 * HTTP families (35 series per method and endpoint), then `/metrics` is scraped as 0.0.4 text without and
 * with gzip and as OpenMetrics with gzip (what Prometheus asks for), each scrape after 576 more requests
 * spread over every series (so each collection has batched cells to hand to the SDK, as under traffic):
 * time to the last byte, bytes, the sidecar's CPU, and — measured inside the sidecar, which runs with
 * `--debug-scrape-timing` — the answer's duration there, its slices and the longest turn of its event loop
 * while the answer was collected and written (src/admin/scrape-timing.ts: a heartbeat, microsecond
 * resolution; the longest time a request arriving then could have waited for the process).
 *
 * Then, on a second sidecar without the debugging option (its heartbeat spins during every scrape), the
 * same series, ten warm-up scrapes, and proxied latency at 1,000 GET/s with and without a scrape every
 * second, in interleaved rounds: the difference of p99 in each round is what scraping adds; the requests
 * in flight while a scrape was are also reported on their own (their share and percentiles).
 */
import { request } from 'undici';
import { BUSY_SHARE, measured, startUpstream, type BenchContext } from '../lib/context.ts';
import { runPaced, type PacedResult } from '../lib/children.ts';
import { cpuMicros, sleep } from '../lib/proc.ts';
import { fmt, spread, type Spread } from '../lib/stats.ts';
import { startSidecar, type Target } from '../lib/targets.ts';
import { LATENCY_CONNECTIONS, RATE } from './latency.ts';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
export const ENDPOINTS = 72;
const SCRAPES = 10;
/** Prometheus's own `Accept` (OpenMetrics preferred). */
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** One way of scraping: time to the last byte (client), bytes, CPU, and what the sidecar measured itself. */
export interface ScrapeVariant {
  readonly ms: Spread;
  readonly bytes: number;
  readonly sidecarCpuMs: Spread;
  /** The answer's duration inside the sidecar (collection included), from its `scrape_timing` line. */
  readonly sidecarMs: Spread;
  /** Longest turn of the sidecar's event loop while the answer was collected and written (its heartbeat). */
  readonly longestTurnMs: Spread;
  /** Slices the answer was written in. */
  readonly slices: number;
}

export interface ScrapeResult {
  readonly series: number;
  readonly plain: ScrapeVariant;
  readonly gzip: ScrapeVariant;
  /** OpenMetrics with gzip, as Prometheus asks. */
  readonly openmetrics?: ScrapeVariant;
  /** Proxied latency at the fixed rate, without and with a scrape every second. */
  readonly proxied: {
    quiet: { p50Ms: Spread; p90Ms?: Spread; p99Ms: Spread };
    scraping: { p50Ms: Spread; p99Ms: Spread };
    p99AddedMs: Spread;
    /**
     * The scraping rounds' requests in flight at some moment a scrape was: their share of the requests
     * answered (over 1 % of them, and slower than the rest, they alone set the p99) and their percentiles.
     */
    overlapping?: { share: Spread; p50Ms: Spread; p90Ms: Spread };
  };
  readonly samples: Array<PacedResult & { scraping: boolean; round: number; foreignShare: number; load1: number }>;
  readonly busyRuns: number;
}

/** Letters only, so that the endpoint heuristics keep each one as its own label value. */
function word(i: number): string {
  const a = 'abcdefghijklmnopqrstuvwxyz';
  return `s${a[Math.floor(i / 26) % 26]}${a[i % 26]}`;
}

interface OneScrape {
  readonly ms: number;
  readonly bytes: number;
  readonly text: string | undefined;
  readonly cpuMs: number;
  readonly sidecarMs: number;
  readonly longestTurnMs: number;
  readonly slices: number;
}

async function scrapeOnce(t: Target, gzip: boolean, accept?: string): Promise<OneScrape> {
  const timings = t.scrapeTimings ?? [];
  const logged = timings.length;
  const cpu0 = cpuMicros(t.pid) ?? 0;
  const t0 = performance.now();
  const res = await request(t.metricsUrl ?? '', {
    headers: { authorization: `Bearer ${t.token ?? ''}`, 'accept-encoding': gzip ? 'gzip' : 'identity', ...(accept === undefined ? {} : { accept }) },
  });
  const body = Buffer.from(await res.body.arrayBuffer());
  const ms = performance.now() - t0;
  if (res.statusCode !== 200) throw new Error(`scrape answered ${res.statusCode}`);
  const cpuMs = ((cpuMicros(t.pid) ?? 0) - cpu0) / 1000;
  // The sidecar logs the answer once it has ended: its line follows the last byte closely.
  for (let i = 0; i < 200 && timings.length === logged; i++) await sleep(5);
  const line = timings[timings.length - 1];
  const own = timings.length > logged && line !== undefined ? line : undefined;
  return {
    ms,
    bytes: body.length,
    text: gzip ? undefined : body.toString('utf8'),
    cpuMs,
    sidecarMs: own?.durationMs ?? NaN,
    longestTurnMs: own?.longestTurnMs ?? NaN,
    slices: own?.slices ?? NaN,
  };
}

/** Scrapes of the latency rounds' sidecar before its first round. */
const WARM_SCRAPES = 10;

/** One scrape as the paced load makes them (gzip), read to the end. */
async function warmScrape(t: Target): Promise<void> {
  const res = await request(t.metricsUrl ?? '', { headers: { authorization: `Bearer ${t.token ?? ''}`, 'accept-encoding': 'gzip' } });
  await res.body.dump({ limit: 64 * 1024 * 1024 });
  if (res.statusCode !== 200) throw new Error(`scrape answered ${res.statusCode}`);
}

/** The scraping rounds' overlapping requests (load/paced.ts), one value per round. */
function overlappingOf(rounds: readonly PacedResult[]): NonNullable<ScrapeResult['proxied']['overlapping']> {
  const with_ = rounds.flatMap((r) => (r.overlapping === null || r.overlapping.count === 0 ? [] : [{ answered: r.answered, ...r.overlapping }]));
  return {
    share: spread(with_.map((r) => r.count / r.answered)),
    p50Ms: spread(with_.map((r) => r.p50Ms)),
    p90Ms: spread(with_.map((r) => r.p90Ms)),
  };
}

/** `times` requests to every method × endpoint (one series each in the four HTTP families), 16 at a time. */
async function fillSeries(t: Target, times = 1): Promise<void> {
  const all: Array<[string, string]> = [];
  for (let k = 0; k < times; k++) for (const method of METHODS) for (let i = 0; i < ENDPOINTS; i++) all.push([method, `${t.url}/bench/series/${word(i)}`]);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let job = all[next++]; job !== undefined; job = all[next++]) {
      const res = await request(job[1], { method: job[0] });
      await res.body.dump();
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

function variant(xs: readonly OneScrape[]): ScrapeVariant {
  return {
    ms: spread(xs.map((x) => x.ms)),
    bytes: xs[0]?.bytes ?? NaN,
    sidecarCpuMs: spread(xs.map((x) => x.cpuMs)),
    sidecarMs: spread(xs.map((x) => x.sidecarMs)),
    longestTurnMs: spread(xs.map((x) => x.longestTurnMs)),
    slices: xs[0]?.slices ?? NaN,
  };
}

export async function scrapeScenario(ctx: BenchContext): Promise<ScrapeResult> {
  const upstream = await startUpstream(ctx);
  let sidecar: Target | undefined;
  try {
    sidecar = await startSidecar({
      entry: ctx.sidecarEntry,
      upstream: upstream.url,
      cpus: ctx.serverCpus,
      nodeFlags: ctx.sidecarNodeFlags,
      debugScrapeTiming: true,
    });
    const s = sidecar;
    await fillSeries(s);
    const first = await scrapeOnce(s, false);
    const series = (first.text ?? '').split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    ctx.log(`  ${series} series, ${first.bytes} bytes uncompressed`);
    const plain: OneScrape[] = [];
    const gz: OneScrape[] = [];
    const om: OneScrape[] = [];
    for (let i = 0; i < SCRAPES; i++) {
      for (const [list, gzip, accept] of [
        [plain, false, undefined],
        [gz, true, undefined],
        [om, true, PROMETHEUS_ACCEPT],
      ] as const) {
        await fillSeries(s, 2);
        await sleep(20);
        list.push(await scrapeOnce(s, gzip, accept));
      }
    }
    for (const [name, xs] of [
      ['plain', plain],
      ['gzip', gz],
      ['openmetrics gzip', om],
    ] as const) {
      const v = variant(xs);
      ctx.log(
        `  scrape ${name}: ${fmt(v.ms)} ms, ${v.bytes} bytes, in the sidecar ${fmt(v.sidecarMs)} ms in ${v.slices} slices, longest event-loop turn ${fmt(v.longestTurnMs, 2)} ms`,
      );
    }

    await s.stop();
    sidecar = undefined;

    // The latency rounds: a sidecar as shipped (no debugging heartbeat), with the same series.
    sidecar = await startSidecar({ entry: ctx.sidecarEntry, upstream: upstream.url, cpus: ctx.serverCpus, nodeFlags: ctx.sidecarNodeFlags });
    const p = sidecar;
    await fillSeries(p);
    // As the debugging sidecar's measured scrapes follow a warm-up, so do these rounds: a process's first
    // scrapes run code V8 has not optimised yet (2–5 times slower), once in its life, not every second.
    for (let i = 0; i < WARM_SCRAPES; i++) await warmScrape(p);
    const seconds = ctx.quick ? 5 : 15;
    const samples: ScrapeResult['samples'] = [];
    for (let round = 0; round < ctx.repeats; round++) {
      for (const scraping of round % 2 === 0 ? [false, true] : [true, false]) {
        const m = await measured(ctx, [p.pid], () =>
          runPaced(ctx.loadCpus, {
            url: `${p.url}/api/v1/tools/bench`,
            rate: RATE,
            connections: LATENCY_CONNECTIONS,
            seconds,
            warmupSeconds: 2,
            ...(scraping ? { scrapeUrl: p.metricsUrl ?? '', scrapeToken: p.token ?? '', scrapeEveryMs: 1000 } : {}),
          }),
        );
        samples.push({ ...m.result, scraping, round, foreignShare: m.foreignShare, load1: m.load1 });
        const o = m.result.overlapping;
        ctx.log(
          `  round ${round + 1}/${ctx.repeats} ${scraping ? 'scraping' : 'quiet   '} p50 ${m.result.p50Ms.toFixed(3)} ms  p99 ${m.result.p99Ms.toFixed(3)} ms  scrapes ${m.result.scrapes}` +
            `${m.result.scrapeMedianMs === null ? '' : ` (${m.result.scrapeMedianMs.toFixed(1)} ms)`}` +
            `${o === null ? '' : `  overlapping ${o.count} (p50 ${o.p50Ms.toFixed(3)} ms, p90 ${o.p90Ms.toFixed(3)} ms)`}` +
            `  load ${m.load1.toFixed(2)}${m.foreignShare > BUSY_SHARE ? `  BUSY ${(m.foreignShare * 100).toFixed(0)}%` : ''}`,
        );
      }
    }
    const of = (scraping: boolean) => samples.filter((x) => x.scraping === scraping);
    const added: number[] = [];
    for (const x of of(true)) {
      const q = of(false).find((y) => y.round === x.round);
      if (q !== undefined) added.push(x.p99Ms - q.p99Ms);
    }
    return {
      series,
      plain: variant(plain),
      gzip: variant(gz),
      openmetrics: variant(om),
      proxied: {
        quiet: { p50Ms: spread(of(false).map((x) => x.p50Ms)), p90Ms: spread(of(false).map((x) => x.p90Ms)), p99Ms: spread(of(false).map((x) => x.p99Ms)) },
        scraping: { p50Ms: spread(of(true).map((x) => x.p50Ms)), p99Ms: spread(of(true).map((x) => x.p99Ms)) },
        p99AddedMs: spread(added),
        overlapping: overlappingOf(of(true)),
      },
      samples,
      busyRuns: samples.filter((x) => x.foreignShare > BUSY_SHARE).length,
    };
  } finally {
    await sidecar?.stop();
    await upstream.stop();
  }
}
