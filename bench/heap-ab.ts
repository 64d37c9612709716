/**
 * What a heap budget costs: the real sidecar (compiled, as in the bench) under the same closed-loop load
 * with different `--memory-limit` settings, side by side in interleaved rounds. For each setting: requests
 * per second, CPU per request, GC pauses (`--trace-gc`: scavenges and mark-compacts, their total pause per
 * 1,000 requests) and the peak RSS (VmHWM); ratios are taken within each round against the first setting.
 *
 *   node bench/heap-ab.ts [--limits none,256Mi] [--methods post,get] [--rounds 4] [--seconds 10]
 *
 * A setting is a `--memory-limit` value, or `node:FLAGS` (e.g. `node:--max-old-space-size=104
 * --max-semi-space-size=16`) to try heap flags directly: the sidecar keeps an operator's heap flags.
 *
 * Load on CPU 0, upstream (the small Node upstream: it echoes POST bodies) and sidecar on CPU 1, as in
 * `npm run bench`. docs/performance.md ("Memory budget") has the figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { load1 } from './lib/machine.ts';
import { runLoad } from './lib/load.ts';
import { cpuMicros, HAS_TASKSET, pinProcess, sleep, stopChild } from './lib/proc.ts';
import { fmt, spread } from './lib/stats.ts';
import { sidecarEntry, startNodeTarget } from './lib/targets.ts';

const { values } = parseArgs({
  options: {
    limits: { type: 'string', default: 'none,256Mi' },
    methods: { type: 'string', default: 'post,get' },
    rounds: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '10' },
  },
  strict: true,
});
const limits = values.limits
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '');
const methods = values.methods.split(',').map((s) => s.trim().toUpperCase()) as Array<'GET' | 'POST'>;
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const pin = HAS_TASKSET;
if (pin) pinProcess(process.pid, '0');

/** One GC line of `--trace-gc`: its kind and pause (ms). */
const GC_LINE = / ms: (Scavenge|Minor Mark-Sweep|Mark-Compact|Mark-Sweep)\b.*? ([\d.]+) \/ [\d.]+ ms/;

interface Running {
  readonly child: ChildProcess;
  readonly url: string;
  readonly gc: { minor: number; minorMs: number; major: number; majorMs: number };
}

async function startSidecar(entry: string, upstream: string, limit: string): Promise<Running> {
  const nodeFlags = limit.startsWith('node:') ? limit.slice(5).trim().split(/\s+/) : [];
  const memoryLimit = limit.startsWith('node:') ? 'none' : limit;
  const args = [
    '--trace-gc',
    ...nodeFlags,
    entry,
    '--upstream',
    upstream,
    '--listen',
    '127.0.0.1:0',
    '--metrics-listen',
    '127.0.0.1:0',
    '--no-metrics-auth',
    '--log-level',
    'info',
    '--memory-limit',
    memoryLimit,
  ];
  const child = pin
    ? spawn('taskset', ['-c', '1', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const gc = { minor: 0, minorMs: 0, major: 0, majorMs: 0 };
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the sidecar exited (${code})`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      const m = GC_LINE.exec(l);
      if (m !== null) {
        if (m[1] === 'Scavenge' || m[1] === 'Minor Mark-Sweep') {
          gc.minor++;
          gc.minorMs += Number(m[2]);
        } else {
          gc.major++;
          gc.majorMs += Number(m[2]);
        }
      } else if (l.includes('"event":"listening"')) resolve(String((JSON.parse(l) as { proxy: string }).proxy));
    });
  });
  return { child, url, gc };
}

function vmHwmMiB(pid: number): number {
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
}

interface Row {
  readonly rps: number;
  readonly cpuUsPerRequest: number;
  readonly minorPer1k: number;
  readonly majorPer1k: number;
  readonly gcMsPer1k: number;
  readonly hwmMiB: number;
}

const entry = sidecarEntry(false);
const upstream = await startNodeTarget('direct', 'upstream.ts', [], pin ? '1' : undefined);
const body = 'p'.repeat(4096);
const rows = new Map<string, Row[]>();
process.stderr.write(`heap A/B: ${limits.join(' vs ')}; ${methods.join(', ')}; ${rounds} rounds of ${seconds} s; load average ${load1().toFixed(2)}\n`);
try {
  for (const method of methods) {
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? limits : [...limits].reverse();
      for (const limit of order) {
        const s = await startSidecar(entry, upstream.url, limit);
        try {
          const url = `${s.url}${method === 'POST' ? '/bench/echo' : '/api/v1/tools/bench'}`;
          const spec = { url, connections: 64, cpus: pin ? '0' : undefined, ...(method === 'POST' ? { postBody: body } : {}) };
          await runLoad({ ...spec, seconds: 2 });
          const gc0 = { ...s.gc };
          const cpu0 = cpuMicros(s.child.pid as number) ?? NaN;
          const r = await runLoad({ ...spec, seconds });
          const cpu = (cpuMicros(s.child.pid as number) ?? NaN) - cpu0;
          const per1k = (n: number): number => (n / r.requests) * 1000;
          const row: Row = {
            rps: r.rps,
            cpuUsPerRequest: cpu / r.requests,
            minorPer1k: per1k(s.gc.minor - gc0.minor),
            majorPer1k: per1k(s.gc.major - gc0.major),
            gcMsPer1k: per1k(s.gc.minorMs - gc0.minorMs + s.gc.majorMs - gc0.majorMs),
            hwmMiB: vmHwmMiB(s.child.pid as number),
          };
          const key = `${method} ${limit}`;
          rows.set(key, [...(rows.get(key) ?? []), row]);
          process.stderr.write(
            `  ${method} round ${round + 1}/${rounds} --memory-limit ${limit.padEnd(6)} ${r.rps.toFixed(0).padStart(6)} req/s  ${row.cpuUsPerRequest.toFixed(1)} µs/req  ` +
              `GC ${row.gcMsPer1k.toFixed(2)} ms/1k req (${row.minorPer1k.toFixed(2)} minor, ${row.majorPer1k.toFixed(3)} major per 1k)  VmHWM ${row.hwmMiB.toFixed(0)} MiB  load ${load1().toFixed(2)}\n`,
          );
        } finally {
          await stopChild(s.child);
        }
        await sleep(300);
      }
    }
  }
} finally {
  await upstream.stop();
}

const base = limits[0] as string;
console.log(
  '| method | --memory-limit | req/s | ÷ first (per round) | CPU µs/req | ÷ first | GC ms per 1k req | minor GCs per 1k | major GCs per 1k | VmHWM MiB |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const method of methods) {
  const first = rows.get(`${method} ${base}`) ?? [];
  for (const limit of limits) {
    const xs = rows.get(`${method} ${limit}`) ?? [];
    const ratio = (f: (r: Row) => number) => spread(xs.map((x, i) => f(x) / f(first[i] as Row)));
    const col = (f: (r: Row) => number, d = 1) => fmt(spread(xs.map(f)), d);
    console.log(
      `| ${method} | ${limit} | ${col((r) => r.rps, 0)} | ${
        limit === base
          ? '—'
          : fmt(
              ratio((r) => r.rps),
              2,
            )
      } | ${col((r) => r.cpuUsPerRequest)} | ${
        limit === base
          ? '—'
          : fmt(
              ratio((r) => r.cpuUsPerRequest),
              2,
            )
      } | ${col((r) => r.gcMsPer1k, 2)} | ${col((r) => r.minorPer1k, 2)} | ${col((r) => r.majorPer1k, 3)} | ${col((r) => r.hwmMiB, 0)} |`,
    );
  }
}
