/**
 * What the status page's ring costs per record, as a ratio: the ledger's tool-call records handed to the
 * catalog recorder alone (on a MeterProvider with the Prometheus reader, as src/main.ts builds it), to the
 * recorder and the ring through the tee (src/admin/status-feed.ts), and to the ring alone. Rounds of the
 * three alternate, so that they share the machine's state; CPU ns per record, median of rounds.
 *
 *   npm exec -- node bench/micro/status-ring.ts [records=500000] [rounds=7]
 */
import { StatusFeed } from '../../src/admin/status-feed.ts';
import { PrometheusScraper } from '../../src/exporters/prometheus.ts';
import type { ToolCallFact } from '../../src/ledger/facts.ts';
import type { CatalogSink } from '../../src/ledger/ledger.ts';
import { CatalogRecorder } from '../../src/telemetry/catalog-recorder.ts';
import { Instruments } from '../../src/telemetry/instruments.ts';
import { createMeterProvider } from '../../src/telemetry/provider.ts';

const records = Number(process.argv[2] ?? 500_000);
const rounds = Number(process.argv[3] ?? 7);

const scraper = new PrometheusScraper();
const { meter } = createMeterProvider({ readers: [scraper.reader], version: 'bench' });
const instruments = new Instruments(meter, { maxLabelValues: 200 });
const recorder = new CatalogRecorder(instruments);
const feed = new StatusFeed({ maxLabelValues: 200 });
const teed = feed.tee(recorder);
const ringOnly: Pick<CatalogSink, 'toolCall'> = { toolCall: (f) => feed.toolCall(f) };

const facts: ToolCallFact[] = Array.from({ length: 64 }, (_, i) => ({
  source: 'mcp',
  toolId: `server${i % 8}_tool`,
  ok: i % 16 !== 0,
  ...(i % 16 === 0 ? { errorType: 'tool_error' as const } : {}),
  durationSeconds: 0.0005 * (1 + (i % 13)) * (1 + (i % 5)),
}));

function run(sink: Pick<CatalogSink, 'toolCall'>): number {
  const c0 = process.cpuUsage();
  for (let i = 0; i < records; i++) sink.toolCall(facts[i & 63] as ToolCallFact);
  const c1 = process.cpuUsage(c0);
  return ((c1.user + c1.system) * 1000) / records;
}

const variants = { recorder, teed, ringOnly } as const;
const results: Record<keyof typeof variants, number[]> = { recorder: [], teed: [], ringOnly: [] };
for (let r = 0; r < rounds + 1; r++) {
  for (const name of Object.keys(variants) as (keyof typeof variants)[]) {
    const ns = run(variants[name]);
    if (r > 0) results[name].push(ns);
  }
  await scraper.scrape();
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const base = median(results.recorder);
const ring = median(results.ringOnly);
const both = median(results.teed);
const ringTotal = feed.tools.all().reduce((a, s) => a + s.total, 0);
console.log(
  `tool-call record, median of ${rounds} rounds of ${records}: catalog recorder ${base.toFixed(0)} ns; recorder + ring (tee) ${both.toFixed(0)} ns ` +
    `(×${(both / base).toFixed(3)}); ring alone ${ring.toFixed(0)} ns (${((100 * ring) / base).toFixed(1)} % of the recorder); ring counted ${ringTotal} of ${2 * records * (rounds + 1)}`,
);
process.exit(0);
