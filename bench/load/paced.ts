/**
 * Open-loop load at a fixed request rate (wrk2 is not packaged; autocannon's rate mode measures in whole
 * milliseconds), for latency: requests are issued on schedule over a pool of `connections` keep-alive
 * connections whatever the answers do, and each latency runs from the moment the request is handed to the
 * pool to the end of its response: a request that waits for a free connection behind a slow one counts
 * its wait (no coordinated omission), but the generator's own timer lateness (Node timers fire at 1 ms
 * granularity, later on a busy core) is not charged to the target.
 *
 *   node bench/load/paced.ts '{"url":…,"rate":1000,"connections":8,"seconds":15,"warmupSeconds":2}'
 *
 * Optionally scrapes `scrapeUrl` (bearer `scrapeToken`, gzip) every `scrapeEveryMs` during the run; the
 * requests whose time in flight overlapped a scrape's (from the scrape's request to the end of its
 * answer, as this process sees them) are also reported on their own (`overlapping`): how many, and their
 * percentiles — what a scrape does to the requests it meets, apart from the rest of the tail.
 * Prints one JSON line: percentiles in ms, the rate reached, errors, and the scrapes made.
 */
import { Pool, request } from 'undici';
import type { PacedSpec } from '../lib/children.ts';
import { nearestRank } from '../lib/stats.ts';

const spec = JSON.parse(process.argv[2] ?? '{}') as PacedSpec;
const target = new URL(spec.url);
const pool = new Pool(target.origin, { connections: spec.connections, pipelining: 1, keepAliveTimeout: 30_000 });
const path = `${target.pathname}${target.search}`;

const latencies: number[] = [];
/** Latencies of the requests in flight at some moment a scrape was. */
const overlapping: number[] = [];
let scrapesInFlight = 0;
/** When the last scrape's answer ended (`performance.now()`), -1 before the first. */
let lastScrapeEnd = -1;
let errors = 0;
let non2xx = 0;
let measuring = false;

function fire(): void {
  const sent = performance.now();
  const sentDuringScrape = scrapesInFlight > 0;
  pool.request({ path, method: 'GET' }).then(
    async (res) => {
      await res.body.dump();
      if (res.statusCode >= 400) non2xx++;
      if (!measuring) return;
      const ms = performance.now() - sent;
      latencies.push(ms);
      // A scrape was in flight when it was sent, is now, or ended (so also began) meanwhile.
      if (sentDuringScrape || scrapesInFlight > 0 || lastScrapeEnd > sent) overlapping.push(ms);
    },
    () => errors++,
  );
}

async function phase(seconds: number): Promise<number> {
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const interval = 1000 / spec.rate;
  let sent = 0;
  while (performance.now() < end) {
    const now = performance.now();
    // Everything due by now goes out now, each with its own due time.
    while (t0 + sent * interval <= now) {
      fire();
      sent++;
    }
    await new Promise<void>((r) => setTimeout(r, 1));
  }
  return sent;
}

let scrapes = 0;
let scrapeTimer: NodeJS.Timeout | undefined;
const scrapeMs: number[] = [];
function startScraping(): void {
  if (spec.scrapeUrl === undefined) return;
  const scrapeUrl = spec.scrapeUrl;
  scrapeTimer = setInterval(() => {
    const t = performance.now();
    scrapesInFlight++;
    request(scrapeUrl, { headers: { authorization: `Bearer ${spec.scrapeToken ?? ''}`, 'accept-encoding': 'gzip' } })
      .then(async (res) => {
        await res.body.dump({ limit: 64 * 1024 * 1024 });
        scrapes++;
        scrapeMs.push(performance.now() - t);
      })
      .catch(() => errors++)
      .finally(() => {
        scrapesInFlight--;
        lastScrapeEnd = performance.now();
      });
  }, spec.scrapeEveryMs ?? 1000);
}

const warmupSent = await phase(spec.warmupSeconds);
measuring = true;
startScraping();
const t0 = performance.now();
const sent = await phase(spec.seconds);
const elapsed = (performance.now() - t0) / 1000;
clearInterval(scrapeTimer);
await new Promise((r) => setTimeout(r, 500));
measuring = false;
await pool.close();

latencies.sort((a, b) => a - b);
overlapping.sort((a, b) => a - b);
const pct = (p: number): number => nearestRank(latencies, p);
process.stdout.write(
  `${JSON.stringify({
    sent,
    /** Including the warm-up: what the target's CPU time over the whole child run is divided by. */
    totalSent: sent + warmupSent,
    answered: latencies.length,
    rate: sent / elapsed,
    p50Ms: pct(50),
    p90Ms: pct(90),
    p99Ms: pct(99),
    p999Ms: pct(99.9),
    maxMs: latencies[latencies.length - 1] ?? NaN,
    errors,
    non2xx,
    scrapes,
    scrapeMedianMs: scrapeMs.sort((a, b) => a - b)[Math.floor(scrapeMs.length / 2)] ?? null,
    overlapping:
      spec.scrapeUrl === undefined
        ? null
        : { count: overlapping.length, p50Ms: nearestRank(overlapping, 50), p90Ms: nearestRank(overlapping, 90), p99Ms: nearestRank(overlapping, 99) },
  })}\n`,
);
