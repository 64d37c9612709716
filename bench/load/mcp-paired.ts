/**
 * MCP `tools/call` load against two or more proxies of one upstream at once, interleaved finely: every
 * target keeps `clients` connected sessions, and the targets take turns of `windowSeconds` (each turn a
 * closed loop on that target's sessions alone, drained before the next turn starts) for `windows` turns
 * each, the order rotated every turn. On a VM whose core speed drifts by a third over tens of seconds, runs
 * of several seconds one after the other compare different machines; turns of half a second, summed,
 * compare the same one. Each target's calls, busy seconds and CPU time (the sum of its threads' run time
 * from /proc/<pid>/task/<tid>/schedstat, in nanoseconds, read at each turn's edges) are summed over its
 * turns: calls per second is Σcalls ÷ Σseconds, CPU per call Σcpu ÷ Σcalls.
 *
 *   node bench/load/mcp-paired.ts '{"targets":[{"name":"bare-undici","baseUrl":…,"pid":…},…],"kind":"streamable_http","clients":8,
 *     "windows":20,"windowSeconds":0.5,"warmupSeconds":1,"tool":"calc_blob","args":{"bytes":64000}}'
 *
 * Prints one JSON line: per target its totals, the per-turn calls per second and the latency percentiles.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectMcp } from './mcp-session.ts';
import { nearestRank } from '../lib/stats.ts';

interface PairedTarget {
  readonly name: string;
  readonly baseUrl: string;
  /** The proxy process whose CPU time is read. */
  readonly pid: number;
}

export interface PairedSpec {
  readonly targets: readonly PairedTarget[];
  readonly kind: 'streamable_http' | 'sse';
  readonly clients: number;
  readonly windows: number;
  readonly windowSeconds: number;
  readonly warmupSeconds: number;
  /** @default 'calc_add' */
  readonly tool?: string;
  readonly args?: Record<string, unknown>;
}

export interface PairedTargetResult {
  readonly name: string;
  readonly calls: number;
  readonly seconds: number;
  readonly callsPerSecond: number;
  readonly cpuUsPerCall: number;
  /** Calls per second of each turn, in turn order. */
  readonly windowCallsPerSecond: number[];
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failed: number;
  readonly resultBytes: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as PairedSpec;
const tool = spec.tool ?? 'calc_add';

/** Nanoseconds every thread of `pid` has run so far. */
function runNanos(pid: number): number {
  let sum = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      sum += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended meanwhile; its time is lost to both edges alike (threads here live as long as the process).
    }
  }
  return sum;
}

class Side {
  readonly target: PairedTarget;
  readonly clients: Client[];
  calls = 0;
  seconds = 0;
  cpuNanos = 0;
  failed = 0;
  resultBytes = 0;
  readonly latencies: number[] = [];
  readonly windowRates: number[] = [];
  #n = 0;

  constructor(target: PairedTarget, clients: Client[]) {
    this.target = target;
    this.clients = clients;
  }

  /** One turn: every session in a closed loop for `seconds`, then drained; measured unless warming up. */
  async turn(seconds: number, measure: boolean): Promise<void> {
    let stop = false;
    let calls = 0;
    const cpu0 = runNanos(this.target.pid);
    const t0 = performance.now();
    const loop = async (client: Client, i: number): Promise<void> => {
      while (!stop) {
        const t = performance.now();
        try {
          const r = await client.callTool({ name: tool, arguments: spec.args ?? { a: i, b: this.#n++ } });
          if (r.isError === true) this.failed++;
          else if (this.resultBytes === 0) this.resultBytes = Buffer.byteLength(JSON.stringify(r));
        } catch {
          this.failed++;
        }
        calls++;
        if (measure) this.latencies.push(performance.now() - t);
      }
    };
    const timer = setTimeout(() => (stop = true), seconds * 1000);
    await Promise.all(this.clients.map((c, i) => loop(c, i)));
    clearTimeout(timer);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = runNanos(this.target.pid) - cpu0;
    if (!measure) return;
    this.calls += calls;
    this.seconds += elapsed;
    this.cpuNanos += cpu;
    this.windowRates.push(calls / elapsed);
  }

  result(): PairedTargetResult {
    const l = [...this.latencies].sort((a, b) => a - b);
    return {
      name: this.target.name,
      calls: this.calls,
      seconds: this.seconds,
      callsPerSecond: this.calls / this.seconds,
      cpuUsPerCall: this.cpuNanos / 1000 / this.calls,
      windowCallsPerSecond: this.windowRates,
      p50Ms: nearestRank(l, 50),
      p99Ms: nearestRank(l, 99),
      failed: this.failed,
      resultBytes: this.resultBytes,
    };
  }
}

const sides: Side[] = [];
for (const t of spec.targets) sides.push(new Side(t, await Promise.all(Array.from({ length: spec.clients }, () => connectMcp(t.baseUrl, spec.kind)))));
for (const s of sides) await s.turn(spec.warmupSeconds, false);
for (let w = 0; w < spec.windows; w++) {
  for (let k = 0; k < sides.length; k++) await (sides[(w + k) % sides.length] as Side).turn(spec.windowSeconds, true);
}
for (const s of sides) await Promise.all(s.clients.map((c) => c.close().catch(() => undefined)));
process.stdout.write(`${JSON.stringify({ targets: sides.map((s) => s.result()) })}\n`);
process.exit(0);
