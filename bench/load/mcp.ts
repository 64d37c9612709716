/**
 * MCP `tools/call` load with the official SDK clients: `clients` sessions over one transport, each calling
 * `calc_add` (or `tool` with `args`) in a closed loop (the next call when the previous answered) for
 * `seconds`, after a warm-up.
 *
 *   node bench/load/mcp.ts '{"baseUrl":…,"kind":"streamable_http"|"sse","clients":8,"seconds":10,"warmupSeconds":2}'
 *   node bench/load/mcp.ts '{…,"tool":"calc_blob","args":{"bytes":57000}}'
 *
 * Prints one JSON line: calls per second, latency percentiles (ms), failed calls and the UTF-8 bytes of
 * the first successful result's JSON.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectMcp } from './mcp-session.ts';
import { nearestRank } from '../lib/stats.ts';

interface McpSpec {
  readonly baseUrl: string;
  readonly kind: 'streamable_http' | 'sse';
  readonly clients: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** The tool called. @default 'calc_add' */
  readonly tool?: string;
  /** Its arguments; `calc_add` gets `{ a, b }`. */
  readonly args?: Record<string, unknown>;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as McpSpec;

const clients = await Promise.all(Array.from({ length: spec.clients }, () => connectMcp(spec.baseUrl, spec.kind)));
let measuring = false;
let stop = false;
let calls = 0;
/** Including the warm-up: what the processes' CPU time over the whole child run is divided by. */
let totalCalls = 0;
let failed = 0;
let resultBytes = 0;
const latencies: number[] = [];
const tool = spec.tool ?? 'calc_add';

async function loop(client: Client, i: number): Promise<void> {
  let n = 0;
  while (!stop) {
    const t = performance.now();
    try {
      const r = await client.callTool({ name: tool, arguments: spec.args ?? { a: i, b: n++ } });
      if (r.isError === true) failed++;
      else if (resultBytes === 0) resultBytes = Buffer.byteLength(JSON.stringify(r));
    } catch {
      failed++;
    }
    totalCalls++;
    if (measuring) {
      calls++;
      latencies.push(performance.now() - t);
    }
  }
}

const loops = clients.map((c, i) => loop(c, i));
await new Promise((r) => setTimeout(r, spec.warmupSeconds * 1000));
measuring = true;
const t0 = performance.now();
await new Promise((r) => setTimeout(r, spec.seconds * 1000));
measuring = false;
const elapsed = (performance.now() - t0) / 1000;
stop = true;
await Promise.all(loops);
await Promise.all(clients.map((c) => c.close().catch(() => undefined)));

latencies.sort((a, b) => a - b);
const pct = (p: number): number => nearestRank(latencies, p);
process.stdout.write(`${JSON.stringify({ calls, totalCalls, callsPerSecond: calls / elapsed, p50Ms: pct(50), p99Ms: pct(99), failed, resultBytes })}\n`);
process.exit(0);
