/**
 * What observing one proxied request costs, in process, without sockets: the sidecar's subscribers wired
 * as src/main.ts wires them (HTTP families, REST observer, MCP tap, on a MeterProvider with the
 * Prometheus reader, registered on the observation bus), fed synthetic exchanges exactly as the proxy
 * reports them (`start`, `response`, `end`), with a scrape every `scrapeEvery` exchanges. Reports CPU ns per exchange (median of rounds),
 * which is steady on a shared machine where end-to-end figures are not.
 *
 *   npm exec -- node bench/micro/observe.ts [exchanges=300000] [rounds=7] [--endpoints N] [--no-subscribers] [--span-map | --exemplars] [--no-status]
 *
 * `--endpoints N` spreads the traffic over N distinct paths (default 4); `--no-subscribers` measures the
 * proxy's own reporting cost with no observer. `--span-map` gives every exchange a sampled span
 * context in a WeakMap, as tracing's SERVER spans are kept (without making spans); `--exemplars` does the
 * same and wires exemplars (trace_based) to it, as main.ts does with tracing on: the difference of the two
 * is what exemplars cost per exchange (the OpenMetrics scrapes then write them). `--no-status` leaves the status
 * page's ring out (run both, side by side, for its cost as a ratio).
 */
import { TraceFlags, type SpanContext } from '@opentelemetry/api';
import { parseArgs } from 'node:util';
import { Exchange } from '../../src/observe/exchange.ts';
import { Exemplars } from '../../src/telemetry/exemplars.ts';
import { observationPath } from './wiring.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    endpoints: { type: 'string', default: '4' },
    'no-subscribers': { type: 'boolean', default: false },
    'scrape-every': { type: 'string', default: '100000' },
    'span-map': { type: 'boolean', default: false },
    exemplars: { type: 'boolean', default: false },
    'no-status': { type: 'boolean', default: false },
  },
});
const exchanges = Number(positionals[0] ?? 300_000);
const rounds = Number(positionals[1] ?? 7);
const endpoints = Number(values.endpoints);
const scrapeEvery = Number(values['scrape-every']);

const withExemplars = values.exemplars === true;
const spanMap = withExemplars || values['span-map'] === true;
const spans = new WeakMap<object, SpanContext>();
const exemplars = withExemplars ? new Exemplars({ filter: 'trace_based', contextOf: (origin) => spans.get(origin) }) : undefined;
const { state, bus, scraper } = observationPath({ subscribers: values['no-subscribers'] !== true, exemplars, status: values['no-status'] !== true });
const traceIds = Array.from({ length: 64 }, (_, i) => ({
  traceId: (i + 1).toString(16).padStart(32, '4'),
  spanId: (i + 1).toString(16).padStart(16, '0'),
  traceFlags: TraceFlags.SAMPLED,
}));

const paths = Array.from({ length: endpoints }, (_, i) => (i === 0 ? '/api/v1/tools/bench' : `/api/v1/servers/s${String.fromCharCode(97 + (i % 26))}/logs`));
const methods = ['GET', 'GET', 'GET', 'POST'];
const requestHeaders = { host: '127.0.0.1:8080', 'user-agent': 'wrk', accept: '*/*' };
const responseHeaders = { 'content-type': 'application/json', 'content-length': '1024', server: 'nginx' };

function one(i: number): void {
  const method = methods[i & 3] as string;
  const ex = new Exchange(method, paths[i % endpoints] as string, requestHeaders, performance.now());
  if (spanMap) spans.set(ex, traceIds[i & 63] as SpanContext);
  state.exchangeStarted(ex);
  ex.status = 200;
  ex.responseHeaders = responseHeaders;
  ex.headersTime = performance.now();
  bus.response(ex);
  ex.requestBytes = method === 'POST' ? 64 : 0;
  ex.responseBytes = 1024;
  ex.endTime = performance.now();
  state.exchangeEnded(ex);
}

const results: number[] = [];
for (let r = 0; r < rounds + 1; r++) {
  const c0 = process.cpuUsage();
  for (let i = 0; i < exchanges; i++) {
    one(i);
    if (i % scrapeEvery === scrapeEvery - 1) await scraper.scrape(withExemplars ? 'openmetrics' : 'text');
  }
  const c1 = process.cpuUsage(c0);
  if (r > 0) results.push(((c1.user + c1.system) * 1000) / exchanges);
}
results.sort((a, b) => a - b);
const text = await scraper.scrape();
// Exactness check: every exchange counted once in mcp_http_requests_total.
let counted = 0;
for (const m of text.matchAll(/^mcp_http_requests_total\{.*\} (\d+)$/gm)) counted += Number(m[1]);
console.log(
  `${values['no-subscribers'] === true ? 'no observers' : values['no-status'] === true ? 'all observers but the status ring' : 'all observers'}${withExemplars ? ', exemplars' : spanMap ? ', span map' : ''}, ${endpoints} endpoint(s): ` +
    `${results[Math.floor(results.length / 2)]?.toFixed(0)} ns per exchange (median of ${rounds}; range ${results[0]?.toFixed(0)}–${results[results.length - 1]?.toFixed(0)})` +
    `; mcp_http_requests_total ${counted} of ${exchanges * (rounds + 1)} exchanges`,
);
process.exit(0);
