/**
 * The load generator when `wrk` is not installed: autocannon in its own (pinned) process.
 *
 *   node bench/load/autocannon-run.ts '{"url":…,"connections":64,"seconds":10,"postBody":…}'
 *
 * Prints one JSON {@link LoadResult} line.
 */
import autocannon from 'autocannon';
import type { LoadResult, LoadSpec } from '../lib/load.ts';

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const result = await autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.seconds,
  pipelining: 1,
  ...(spec.postBody !== undefined ? { method: 'POST' as const, body: spec.postBody, headers: { 'content-type': 'application/octet-stream' } } : {}),
});
const out: LoadResult = {
  requests: result.requests.total,
  seconds: result.duration,
  rps: result.requests.total / result.duration,
  p50Ms: result.latency.p50,
  p99Ms: result.latency.p99,
  errors: result.errors + result.timeouts,
  non2xx: result.non2xx,
};
process.stdout.write(`${JSON.stringify(out)}\n`);
