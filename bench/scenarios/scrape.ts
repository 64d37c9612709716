/**
 * Scrape cost with about 10,000 series: traffic over 4 methods × 72 distinct endpoints fills the four
 * HTTP families (35 series per method and endpoint), then `/metrics` is scraped with and without gzip
 * (time to the last byte, bytes, series). Then proxied latency at 1,000 GET/s with and without a scrape
 * every second, in interleaved rounds.
 */
import { request } from 'undici';
import { BUSY_SHARE, measured, startUpstream, type BenchContext } from '../lib/context.ts';
import { runPaced, type PacedResult } from '../lib/children.ts';
import { cpuMicros } from '../lib/proc.ts';
import { spread, type Spread } from '../lib/stats.ts';
import { startSidecar, type Target } from '../lib/targets.ts';
import { LATENCY_CONNECTIONS, RATE } from './latency.ts';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
export const ENDPOINTS = 72;
const SCRAPES = 10;

export interface ScrapeResult {
  readonly series: number;
  readonly plain: { ms: Spread; bytes: number; sidecarCpuMs: Spread };
  readonly gzip: { ms: Spread; bytes: number; sidecarCpuMs: Spread };
  /** Proxied latency at the fixed rate, without and with a scrape every second. */
  readonly proxied: { quiet: { p50Ms: Spread; p99Ms: Spread }; scraping: { p50Ms: Spread; p99Ms: Spread }; p99AddedMs: Spread };
  readonly samples: Array<PacedResult & { scraping: boolean; round: number; foreignShare: number; load1: number }>;
  readonly busyRuns: number;
}

/** Letters only, so that the endpoint heuristics keep each one as its own label value. */
function word(i: number): string {
  const a = 'abcdefghijklmnopqrstuvwxyz';
  return `s${a[Math.floor(i / 26) % 26]}${a[i % 26]}`;
}

async function scrapeOnce(t: Target, gzip: boolean): Promise<{ ms: number; bytes: number; text: string | undefined; cpuMs: number }> {
  const cpu0 = cpuMicros(t.pid) ?? 0;
  const t0 = performance.now();
  const res = await request(t.metricsUrl ?? '', { headers: { authorization: `Bearer ${t.token ?? ''}`, 'accept-encoding': gzip ? 'gzip' : 'identity' } });
  const body = Buffer.from(await res.body.arrayBuffer());
  const ms = performance.now() - t0;
  if (res.statusCode !== 200) throw new Error(`scrape answered ${res.statusCode}`);
  return { ms, bytes: body.length, text: gzip ? undefined : body.toString('utf8'), cpuMs: ((cpuMicros(t.pid) ?? 0) - cpu0) / 1000 };
}

export async function scrapeScenario(ctx: BenchContext): Promise<ScrapeResult> {
  const upstream = await startUpstream(ctx);
  let sidecar: Target | undefined;
  try {
    sidecar = await startSidecar({ entry: ctx.sidecarEntry, upstream: upstream.url, cpus: ctx.serverCpus, nodeFlags: ctx.sidecarNodeFlags });
    const s = sidecar;
    for (const method of METHODS) {
      for (let i = 0; i < ENDPOINTS; i++) {
        const res = await request(`${s.url}/bench/series/${word(i)}`, { method });
        await res.body.dump();
      }
    }
    const first = await scrapeOnce(s, false);
    const series = (first.text ?? '').split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    ctx.log(`  ${series} series, ${first.bytes} bytes uncompressed`);
    const plain: Array<{ ms: number; bytes: number; cpuMs: number }> = [];
    const gz: Array<{ ms: number; bytes: number; cpuMs: number }> = [];
    for (let i = 0; i < SCRAPES; i++) {
      plain.push(await scrapeOnce(s, false));
      gz.push(await scrapeOnce(s, true));
    }
    ctx.log(`  scrape: ${spread(plain.map((x) => x.ms)).median.toFixed(1)} ms plain, ${spread(gz.map((x) => x.ms)).median.toFixed(1)} ms gzip (${gz[0]?.bytes} bytes)`);

    const seconds = ctx.quick ? 5 : 15;
    const samples: ScrapeResult['samples'] = [];
    for (let round = 0; round < ctx.repeats; round++) {
      for (const scraping of round % 2 === 0 ? [false, true] : [true, false]) {
        const m = await measured(ctx, [s.pid], () =>
          runPaced(ctx.loadCpus, {
            url: `${s.url}/api/v1/tools/bench`,
            rate: RATE,
            connections: LATENCY_CONNECTIONS,
            seconds,
            warmupSeconds: 2,
            ...(scraping ? { scrapeUrl: s.metricsUrl ?? '', scrapeToken: s.token ?? '', scrapeEveryMs: 1000 } : {}),
          }),
        );
        samples.push({ ...m.result, scraping, round, foreignShare: m.foreignShare, load1: m.load1 });
        ctx.log(
          `  round ${round + 1}/${ctx.repeats} ${scraping ? 'scraping' : 'quiet   '} p50 ${m.result.p50Ms.toFixed(3)} ms  p99 ${m.result.p99Ms.toFixed(3)} ms  scrapes ${m.result.scrapes}` +
            `${m.result.scrapeMedianMs === null ? '' : ` (${m.result.scrapeMedianMs.toFixed(1)} ms)`}  load ${m.load1.toFixed(2)}${m.foreignShare > BUSY_SHARE ? `  BUSY ${(m.foreignShare * 100).toFixed(0)}%` : ''}`,
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
      plain: { ms: spread(plain.map((x) => x.ms)), bytes: plain[0]?.bytes ?? NaN, sidecarCpuMs: spread(plain.map((x) => x.cpuMs)) },
      gzip: { ms: spread(gz.map((x) => x.ms)), bytes: gz[0]?.bytes ?? NaN, sidecarCpuMs: spread(gz.map((x) => x.cpuMs)) },
      proxied: {
        quiet: { p50Ms: spread(of(false).map((x) => x.p50Ms)), p99Ms: spread(of(false).map((x) => x.p99Ms)) },
        scraping: { p50Ms: spread(of(true).map((x) => x.p50Ms)), p99Ms: spread(of(true).map((x) => x.p99Ms)) },
        p99AddedMs: spread(added),
      },
      samples,
      busyRuns: samples.filter((x) => x.foreignShare > BUSY_SHARE).length,
    };
  } finally {
    await sidecar?.stop();
    await upstream.stop();
  }
}
