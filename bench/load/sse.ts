/**
 * Holds `streams` concurrent SSE streams (`GET {baseUrl}/sse`) and measures event delivery latency: each
 * event's data carries its send time (`performance.timeOrigin + performance.now()` in the upstream), read
 * here on arrival. Prints `{"open":N}` once every stream has its headers and first event, then measures
 * for `seconds` and prints one JSON line with the result.
 *
 *   node bench/load/sse.ts '{"baseUrl":…,"streams":1000,"seconds":10}'
 */
import { Agent, request } from 'undici';

interface SseSpec {
  readonly baseUrl: string;
  readonly streams: number;
  readonly seconds: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as SseSpec;
const agent = new Agent({ connections: null, pipelining: 1, bodyTimeout: 0, headersTimeout: 30_000 });
const latencies: number[] = [];
let measuring = false;
let opened = 0;
let failed = 0;
const SENT = /"sent":([\d.]+)/g;

async function open(resolveOpen: () => void): Promise<void> {
  const ac = new AbortController();
  closers.push(() => ac.abort());
  try {
    const res = await request(`${spec.baseUrl}/sse`, { dispatcher: agent, headers: { accept: 'text/event-stream' }, signal: ac.signal });
    if (res.statusCode !== 200) {
      failed++;
      resolveOpen();
      return;
    }
    let first = true;
    for await (const chunk of res.body) {
      const at = performance.timeOrigin + performance.now();
      if (first) {
        first = false;
        opened++;
        resolveOpen();
      }
      if (!measuring) continue;
      const text = (chunk as Buffer).toString('utf8');
      for (const m of text.matchAll(SENT)) latencies.push(at - Number(m[1]));
    }
  } catch {
    // Aborted at the end (expected), or failed.
  }
}

const closers: Array<() => void> = [];
const ready: Array<Promise<void>> = [];
const running: Array<Promise<void>> = [];
for (let i = 0; i < spec.streams; i++) {
  let resolveOpen!: () => void;
  ready.push(new Promise<void>((r) => (resolveOpen = r)));
  running.push(open(resolveOpen));
  // Open in small batches so that the accept queue never overflows.
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
}
await Promise.all(ready);
process.stdout.write(`${JSON.stringify({ open: opened, failed })}\n`);
measuring = true;
await new Promise((r) => setTimeout(r, spec.seconds * 1000));
measuring = false;
for (const c of closers) c();
await Promise.allSettled(running);
latencies.sort((a, b) => a - b);
const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] ?? NaN;
process.stdout.write(
  `${JSON.stringify({ opened, failed, events: latencies.length, p50Ms: pct(50), p99Ms: pct(99), maxMs: latencies[latencies.length - 1] ?? NaN })}\n`,
);
await agent.destroy().catch(() => undefined);
process.exit(0);
