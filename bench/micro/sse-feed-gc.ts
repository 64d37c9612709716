/**
 * What reading large SSE answers costs in garbage collection, in process: one new feed per answer (as a
 * streamable-HTTP `tools/call` answer is a stream of its own), a 64 KB event delivered in 16 KiB reads,
 * each read a fresh buffer (as a socket gives them). Reports CPU µs per answer and the collections by kind
 * (a full collection marks the whole heap: in a live sidecar, tens of MB), and checks every event was read.
 *
 *   npm exec -- node bench/micro/sse-feed-gc.ts [answers=20000]
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { SseFeed } from '../../src/sources/mcp/sse-feed.ts';

const answers = Number(process.argv[2] ?? 20_000);
const data = `{"result":{"content":[{"type":"text","text":"${'x'.repeat(64_000)}"}]},"jsonrpc":"2.0","id":1}`;
const bytes = Buffer.from(`event: message\ndata: ${data}\n\n`);
const READ = 16 * 1024;

const kinds = { minor: 0, major: 0, other: 0 };
let gcMs = 0;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration;
    const detail: unknown = 'detail' in entry ? entry.detail : undefined;
    const kind = typeof detail === 'object' && detail !== null && 'kind' in detail ? detail.kind : undefined;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) kinds.major++;
    else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) kinds.minor++;
    else kinds.other++;
  }
});
observer.observe({ entryTypes: ['gc'] });

let read = 0;
const sink = { onEvent: (_event: string | undefined, d: Buffer) => void (read += d.length === data.length ? 1 : 0), onProblem: () => {} };
const t0 = process.cpuUsage();
for (let i = 0; i < answers; i++) {
  const feed = new SseFeed(64 * 1024 + 1024, sink);
  for (let at = 0; at < bytes.length; at += READ) feed.push(Buffer.from(bytes.subarray(at, Math.min(bytes.length, at + READ))));
  feed.end();
}
const cpu = process.cpuUsage(t0);
await new Promise((resolve) => setTimeout(resolve, 100));
observer.disconnect();
console.log(
  `${answers} answers of ${data.length} B: ${((cpu.user + cpu.system) / answers).toFixed(1)} µs CPU each; ` +
    `collections: ${kinds.major} full, ${kinds.minor} minor, ${kinds.other} other (${gcMs.toFixed(0)} ms); read ${read} of ${answers}`,
);
