/**
 * Measures what `http.server.request.duration` and SERVER spans cost per proxied request when recorded
 * by hand from the proxy's diagnostics channels versus by @opentelemetry/instrumentation-http
 * (docs/telemetry.md quotes the result). Usage:
 *
 *   npm exec -- node bench/otel/http-instrumentation.ts [requests=20000] [connections=32] [rounds=5]
 *
 * This process runs the upstream (a tiny node:http server) and the load (an undici Pool); each mode of
 * ./sidecar-under-test.ts runs in its own child process, modes interleaved round by round. Reported per
 * mode: median throughput, median p99 latency, and median sidecar CPU time per request (the steadiest
 * figure on a shared machine).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';

const MODES = ['catalog', 'semconv-by-hand', 'semconv-instrumentation-http', 'traces-by-hand', 'traces-instrumentation-http'] as const;
const requests = Number(process.argv[2] ?? 20_000);
const connections = Number(process.argv[3] ?? 32);
const rounds = Number(process.argv[4] ?? 5);
const WARMUP = 2000;

interface Mark {
  cpuMicros: number;
  spansEnded: number;
  semconvRecorded: boolean;
}

const upstream = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': '22' });
  res.end('{"tools":[],"total":0}');
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

function startChild(mode: string): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(fileURLToPath(new URL('./sidecar-under-test.ts', import.meta.url)), [mode, upstreamUrl], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString('utf8');
      const nl = buffered.indexOf('\n');
      if (nl !== -1) resolve({ child, url: (JSON.parse(buffered.slice(0, nl)) as { listening: string }).listening });
    });
    child.on('exit', (code) => reject(new Error(`${mode} exited with ${code}`)));
  });
}

function mark(child: ChildProcess): Promise<Mark> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as Mark));
    child.send('mark');
  });
}

async function load(url: string, count: number): Promise<{ seconds: number; p99Ms: number }> {
  const pool = new Pool(url, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < count) {
        next++;
        const start = performance.now();
        const res = await pool.request({
          path: '/api/v1/tools',
          method: 'GET',
          headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
        });
        await res.body.dump();
        latencies.push(performance.now() - start);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { seconds, p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const results = new Map<string, { rps: number[]; p99: number[]; cpuPerRequest: number[]; check: string }>();
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < MODES.length; i++) {
    const mode = MODES[(i + round) % MODES.length] as string;
    const { child, url } = await startChild(mode);
    await load(url, WARMUP);
    const before = await mark(child);
    const run = await load(url, requests);
    const after = await mark(child);
    child.kill();
    const r = results.get(mode) ?? { rps: [], p99: [], cpuPerRequest: [], check: '' };
    r.rps.push(requests / run.seconds);
    r.p99.push(run.p99Ms);
    r.cpuPerRequest.push((after.cpuMicros - before.cpuMicros) / requests);
    r.check = `semconv histogram: ${after.semconvRecorded}; spans exported so far: ${after.spansEnded}`;
    results.set(mode, r);
    process.stderr.write(`round ${round + 1} ${mode}: ${Math.round(requests / run.seconds)} req/s\n`);
  }
}
upstream.close();

const baseline = median(results.get('catalog')?.cpuPerRequest ?? []);
console.log(`\n${requests} requests x ${rounds} rounds, ${connections} connections, node ${process.version}\n`);
console.log('| mode | req/s (median) | p99 ms (median) | sidecar CPU µs/request (median) | vs catalog | check |');
console.log('| --- | ---: | ---: | ---: | ---: | --- |');
for (const mode of MODES) {
  const r = results.get(mode);
  if (r === undefined) continue;
  const cpu = median(r.cpuPerRequest);
  console.log(`| ${mode} | ${Math.round(median(r.rps))} | ${median(r.p99).toFixed(2)} | ${cpu.toFixed(1)} | +${(cpu - baseline).toFixed(1)} | ${r.check} |`);
}
