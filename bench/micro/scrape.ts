/**
 * What a scrape of ~10,000 series costs the event loop, in process, without sockets: the sidecar's
 * subscribers wired as src/main.ts wires them (bench/micro/wiring.ts), the state of
 * bench/scenarios/scrape.ts (4 methods × 72 endpoints: ~10,100 series), and between two scrapes
 * `--traffic` more exchanges (1,000: one second at the latency scenario's rate), spread over every series.
 *
 *   npm exec -- node bench/micro/scrape.ts [rounds=30] [--traffic 1000] [--moved N] [--format text|openmetrics] [--gzip [--no-reuse]] [--cpu]
 *
 * `--moved N` sends the traffic between scrapes to N method × endpoint pairs only (as the latency rounds'
 * one endpoint does), so that the other series do not move; `--no-reuse` compresses every gzip slice of the
 * sliced wiring again instead of reusing those the last answer had (admin/gzip-pieces.ts).
 *
 * Two wirings see the same traffic side by side: `unsliced` (the collection, the exposition serialised
 * whole, gzipped whole on the thread pool, written at once: the metrics port before slicing) and `sliced`
 * (what the metrics port does now: the collection, then exposition slices written one by one through a
 * streaming gzip, sliced-answer.ts). For each, the longest synchronous slice of a whole scrape
 * is measured by a `setImmediate` heartbeat (the longest gap between two beats is the longest stretch the
 * event loop could not run anything else), with the scrape's duration and its number of slices.
 *
 * Then the unsliced scrape's phases, each timed around its synchronous code (`--cpu`: the process's CPU
 * time instead of wall time, steadier on a shared machine): `collect` (the reader's collection: the
 * gauges observed by the SDK, the local families copied and their data points built), `text` /
 * `openmetrics` (serialising, whole), `gzip` (`zlib.gzipSync` of the text: what the
 * thread pool spends), `utf8` (the string-to-bytes copy of a write).
 */
import { Writable } from 'node:stream';
import { parseArgs, promisify } from 'node:util';
import { gzip as gzipCb, gzipSync } from 'node:zlib';
import { serializeOpenMetrics } from '../../src/exporters/openmetrics-serializer.ts';
import { serializePrometheus } from '../../src/exporters/prometheus-serializer.ts';
import { PieceReuse } from '../../src/admin/gzip-pieces.ts';
import { writeSliced } from '../../src/admin/sliced-answer.ts';
import { Exchange } from '../../src/observe/exchange.ts';
import { observationPath } from './wiring.ts';

const gzipAsync = promisify(gzipCb);
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    traffic: { type: 'string', default: '1000' },
    cpu: { type: 'boolean', default: false },
    gzip: { type: 'boolean', default: false },
    format: { type: 'string', default: 'text' },
    moved: { type: 'string' },
    'no-reuse': { type: 'boolean', default: false },
  },
});
const rounds = Number(positionals[0] ?? 30);
const traffic = Number(values.traffic);
const useCpu = values.cpu === true;
const gzip = values.gzip === true;
const format = values.format === 'openmetrics' ? 'openmetrics' : 'text';
/** Method × endpoint pairs the traffic between scrapes goes to; all of them unless `--moved`. */
const moved = values.moved === undefined ? undefined : Number(values.moved);
/** The sliced wiring's store of compressed pieces, as the metrics port keeps one per format (none with `--no-reuse`). */
const reuse = values['no-reuse'] === true ? undefined : new PieceReuse();

// Both wirings get every exchange below, each on its own bus.
const unsliced = observationPath({ subscribers: true });
const sliced = observationPath({ subscribers: true });

/** CPU time of the process (the main thread does all the work timed here; gzipSync too). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
const ENDPOINTS = 72;
const a = 'abcdefghijklmnopqrstuvwxyz';
const paths = Array.from({ length: ENDPOINTS }, (_, i) => `/bench/series/s${a[Math.floor(i / 26) % 26]}${a[i % 26]}`);
const requestHeaders = { host: '127.0.0.1:8080', accept: '*/*' };
const responseHeaders = { 'content-type': 'application/json', 'content-length': '1024' };

function one(method: string, path: string): void {
  for (const wiring of [unsliced, sliced]) {
    const ex = new Exchange(method, path, requestHeaders, performance.now());
    wiring.state.exchangeStarted(ex);
    ex.status = 200;
    ex.responseHeaders = responseHeaders;
    ex.headersTime = performance.now();
    wiring.bus.response(ex);
    ex.responseBytes = 1024;
    ex.endTime = performance.now() + Math.random();
    wiring.state.exchangeEnded(ex);
  }
}

/** A socket-like sink: takes every byte, completes each write on the next turn. */
function sink(): Writable & { bytes: number } {
  const w = Object.assign(
    new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, cb) {
        w.bytes += chunk.length;
        setImmediate(cb);
      },
    }),
    { bytes: 0 },
  );
  return w;
}

/** Runs `scrape` with a heartbeat; the longest gap between two beats is the longest synchronous stretch. */
async function heartbeat(scrape: () => Promise<number>): Promise<{ ms: number; longest: number; slices: number }> {
  let longest = 0;
  let last = performance.now();
  let on = true;
  const beat = (): void => {
    const now = performance.now();
    if (now - last > longest) longest = now - last;
    last = now;
    if (on) setImmediate(beat);
  };
  setImmediate(beat);
  const t0 = performance.now();
  const slices = await scrape();
  const ms = performance.now() - t0;
  on = false;
  longest = Math.max(longest, performance.now() - last);
  return { ms, longest, slices };
}

async function unslicedScrape(): Promise<number> {
  const { resourceMetrics } = await unsliced.scraper.reader.collect();
  const text = format === 'openmetrics' ? serializeOpenMetrics(resourceMetrics).text : serializePrometheus(resourceMetrics).text;
  const out = sink();
  out.end(gzip ? await gzipAsync(text) : text);
  await new Promise((resolve) => out.on('finish', resolve));
  return 1;
}

async function slicedScrape(): Promise<number> {
  const { slices } = await sliced.scraper.collect(format);
  return (await writeSliced(sink(), slices, gzip, gzip ? reuse : undefined)).slices;
}

/** The traffic between two scrapes: `traffic` exchanges over every series, or over `--moved` of them. */
function betweenScrapes(): void {
  for (let i = 0; i < traffic; i++) {
    const k = moved === undefined ? i : i % moved;
    one(METHODS[k & 3] as string, paths[moved === undefined ? (k * 7) % ENDPOINTS : (k >> 2) % ENDPOINTS] as string);
  }
}

for (const m of METHODS) for (const p of paths) one(m, p);

const loop: Record<string, { ms: number[]; longest: number[]; slices: number }> = {
  unsliced: { ms: [], longest: [], slices: 0 },
  sliced: { ms: [], longest: [], slices: 0 },
};
const phases: Record<string, number[]> = { collect: [], text: [], openmetrics: [], gzip: [], utf8: [] };
let series = 0;
let bytes = 0;
for (let r = 0; r < rounds + 2; r++) {
  // The loop figures: both wirings after the same traffic, in alternating order.
  betweenScrapes();
  const order = r % 2 === 0 ? (['unsliced', 'sliced'] as const) : (['sliced', 'unsliced'] as const);
  for (const name of order) {
    const x = await heartbeat(name === 'sliced' ? slicedScrape : unslicedScrape);
    if (r < 2) continue;
    loop[name]?.ms.push(x.ms);
    loop[name]?.longest.push(x.longest);
    if (loop[name] !== undefined) loop[name].slices = x.slices;
  }
  // The phases of the unsliced scrape, after the same traffic again.
  betweenScrapes();
  await sliced.scraper.collect(); // keeps the sliced wiring's delta state at one round of traffic, as the unsliced one's
  const now = useCpu ? cpuMs : () => performance.now();
  const t0 = now();
  const { resourceMetrics } = await unsliced.scraper.reader.collect();
  const t1 = now();
  const text = serializePrometheus(resourceMetrics).text;
  const t2 = now();
  serializeOpenMetrics(resourceMetrics);
  const t3 = now();
  const gz = gzipSync(text);
  const t4 = now();
  Buffer.from(text, 'latin1');
  const t5 = now();
  if (r < 2) continue; // warm-up
  phases['collect']?.push(t1 - t0);
  phases['text']?.push(t2 - t1);
  phases['openmetrics']?.push(t3 - t2);
  phases['gzip']?.push(t4 - t3);
  phases['utf8']?.push(t5 - t4);
  series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  bytes = gz.length;
  await new Promise((resolve) => setTimeout(resolve, 10));
}

const stat = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return `median ${(s[Math.floor(s.length / 2)] ?? NaN).toFixed(2)}  max ${(s[s.length - 1] ?? NaN).toFixed(2)}`;
};
console.log(`${series} series (${bytes} bytes gzipped), ${traffic} exchanges between scrapes, ${rounds} scrapes of ${format}${gzip ? ' with gzip' : ''}`);
console.log('longest synchronous stretch of a whole scrape, wall ms (heartbeat):');
for (const [name, x] of Object.entries(loop)) console.log(`  ${name.padEnd(9)} longest ${stat(x.longest)}   scrape ${stat(x.ms)}   ${x.slices} slice(s)`);
console.log(`phases of the unsliced scrape, ${useCpu ? 'CPU' : 'wall'} ms:`);
for (const [name, xs] of Object.entries(phases)) console.log(`  ${name.padEnd(12)} ${stat(xs)}`);
process.exit(0);
