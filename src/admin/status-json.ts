/**
 * Builds `/status.json`: what the sidecar sees now, for the status page. Windows (calls/s, error %,
 * p50/p95/p99 over the last 1 and 5 minutes, sparklines) come from the ring (status-ring.ts); totals of the
 * sidecar's own families (proxy errors, label overflow, event-stream reconnects and gaps) from one
 * in-process collection of the same instruments the scrape reads, so every count on the page is the
 * scrape's. Nothing here holds a token, a query string or a tool argument: names are the label values the
 * scrape shows.
 */
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Feed, SourceName } from '../sources/source.ts';
import { describeSources, type SurfaceSet } from '../sources/surfaces.ts';
import type { ReadonlyInventory } from '../ledger/inventory.ts';
import { familyCoverage } from '../telemetry/family-sources.ts';
import type { StatusFeed } from './status-feed.ts';
import { BUCKET_MS, BUCKETS, sparkOf, windowOf, type Series, type WindowView } from './status-ring.ts';

/** Version of the JSON's shape; bumped when a field changes meaning. */
export const STATUS_SCHEMA = 1;

/** The event stream as the subscriber sees it (`off`: --no-events; `connecting`: no attempt has ended yet). */
export type StreamState = 'connected' | 'disconnected' | 'unavailable' | 'off' | 'connecting';

export interface SourcesView {
  /** Surfaces found by the last detection; `undefined` until one completed. */
  readonly detected: SurfaceSet | undefined;
  readonly stream: StreamState;
  /** The sources running now (sources/selector.ts). */
  readonly running: readonly SourceName[];
  /** The feeds that reach the ledger now: the running sources' that the surfaces allow (sources/source.ts `feedsSeen`). */
  readonly feeds: readonly Feed[];
}

export interface StatusInputs {
  readonly version: string;
  readonly upstream: string;
  readonly feed: StatusFeed;
  /** The upstream's state: the last probe or proxied request (`undefined` before any). */
  readonly upstreamUp: () => boolean | undefined;
  readonly ready: () => boolean;
  readonly sources: () => SourcesView;
  readonly inventory: ReadonlyInventory;
  /** One collection of the sidecar's instruments (the Prometheus reader's). */
  readonly collect: () => Promise<ResourceMetrics>;
}

const WINDOW_1M = 6;

const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

interface Point {
  readonly attributes: Record<string, string>;
  readonly value: number;
}

/** Data points of the named sum and gauge families of a collection. */
export function pointsOf(rm: ResourceMetrics, names: ReadonlySet<string>): Map<string, Point[]> {
  const out = new Map<string, Point[]>();
  for (const scope of rm.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (!names.has(metric.descriptor.name)) continue;
      const list = out.get(metric.descriptor.name) ?? [];
      for (const dp of metric.dataPoints) {
        if (typeof dp.value !== 'number') continue;
        const attributes: Record<string, string> = {};
        for (const [k, v] of Object.entries(dp.attributes)) attributes[k] = String(v);
        list.push({ attributes, value: dp.value });
      }
      out.set(metric.descriptor.name, list);
    }
  }
  return out;
}

const COLLECTED = new Set([
  'sidecar_proxy_errors_total',
  'sidecar_label_overflow_total',
  'sidecar_event_stream_reconnects_total',
  'sidecar_event_gaps_total',
  'sidecar_events_received_total',
  'sidecar_events_invalid_total',
  'sidecar_proxy_open_streams',
  'sidecar_mcp_sessions_active',
  'sidecar_inventory_poll_up',
  'mcp_composer_info',
]);

function view(w: WindowView) {
  const ms = (s: number | undefined) => (s === undefined ? null : round(s, 6));
  return {
    calls: w.calls,
    errors: w.errors,
    rate: round(w.rate, 3),
    errorPct: w.calls === 0 ? null : round((100 * w.errors) / w.calls, 2),
    p50: ms(w.p50),
    p95: ms(w.p95),
    p99: ms(w.p99),
  };
}

function row(s: Series, now: number, since: number) {
  const spark = sparkOf(s, now, since);
  return {
    name: s.name,
    calls: s.total,
    errors: s.totalErrors,
    lastErrorType: s.lastErrorType ?? null,
    lastErrorAgoSeconds: s.lastErrorAt < 0 ? null : round((now - s.lastErrorAt) / 1000, 1),
    w1m: view(windowOf(s, now, WINDOW_1M, since)),
    w5m: view(windowOf(s, now, BUCKETS, since)),
    spark: { rate: spark.rate.map((r) => round(r, 3)), p95: spark.p95.map((p) => (p === null ? null : round(p, 6))) },
  };
}

const sum = (points: readonly Point[] | undefined): number => (points ?? []).reduce((a, p) => a + p.value, 0);

/** The snapshot `/status.json` answers. */
export async function buildStatus(inputs: StatusInputs) {
  const { feed, inventory } = inputs;
  const now = feed.now();
  const since = feed.startedAt;
  const collected = pointsOf(await inputs.collect(), COLLECTED);
  const { detected, stream, running, feeds } = inputs.sources();
  const described = detected === undefined ? undefined : describeSources(detected);
  // A feed whose source does not run (--no-events, --mcp-inventory off) feeds nothing, whatever the composer serves.
  const live = new Set<Feed>(feeds);
  const coverage = detected === undefined ? undefined : familyCoverage(detected).map((c) => ({ ...c, fedBy: c.fedBy.filter((f) => live.has(f)) }));
  const byAttr = (name: string, attr: string) =>
    (collected.get(name) ?? []).map((p) => ({ [attr]: p.attributes[attr] ?? '', count: p.value })).sort((a, b) => b.count - a.count);
  const info = collected.get('mcp_composer_info')?.[0]?.attributes;
  const pollUp = collected.get('sidecar_inventory_poll_up')?.[0]?.value;
  return {
    schema: STATUS_SCHEMA,
    generatedAt: new Date().toISOString(),
    window: { bucketSeconds: BUCKET_MS / 1000, buckets: BUCKETS, oneMinuteBuckets: WINDOW_1M },
    sidecar: {
      version: inputs.version,
      uptimeSeconds: round(process.uptime(), 1),
      upstream: inputs.upstream,
      upstreamUp: inputs.upstreamUp() ?? null,
      ready: inputs.ready(),
      statusFailures: feed.failures,
    },
    sources:
      described === undefined
        ? { detected: false, found: [], missing: [], sees: [], blind: [], running: [...running] }
        : { detected: true, found: described.found, missing: described.missing, sees: described.sees, blind: described.blind, running: [...running] },
    families:
      coverage === undefined
        ? null
        : {
            fed: coverage.filter((c) => c.fedBy.length > 0).map((c) => ({ family: c.family, from: c.fedBy })),
            notFed: coverage.filter((c) => c.fedBy.length === 0).map((c) => c.family),
          },
    eventStream: {
      state: stream,
      reconnects: sum(collected.get('sidecar_event_stream_reconnects_total')),
      gaps: sum(collected.get('sidecar_event_gaps_total')),
      received: sum(collected.get('sidecar_events_received_total')),
      invalid: sum(collected.get('sidecar_events_invalid_total')),
    },
    composer: {
      version: info?.['version'] ?? null,
      uptimeSeconds: ((u) => (u === undefined ? null : round(u, 0)))(inventory.uptimeSeconds(Date.now())),
      servers: inventory.servers ?? null,
      capabilities: inventory.capabilities ?? null,
      conflicts: inventory.conflicts ?? null,
      inventoryPollUp: pollUp === undefined ? null : pollUp === 1,
    },
    servers: serverRows(inputs, now),
    config: { ...feed.config },
    tools: feed.tools.all().map((s) => row(s, now, since)),
    resources: feed.resources.all().map((s) => row(s, now, since)),
    prompts: feed.prompts.all().map((s) => row(s, now, since)),
    http: feed.http.all().map((s) => ({
      ...row(s, now, since),
      method: s.variant,
      classes: { '1xx': s.classes[0] ?? 0, '2xx': s.classes[1] ?? 0, '3xx': s.classes[2] ?? 0, '4xx': s.classes[3] ?? 0, '5xx': s.classes[4] ?? 0 },
    })),
    openStreams: byAttr('sidecar_proxy_open_streams', 'kind'),
    mcpSessions: byAttr('sidecar_mcp_sessions_active', 'transport'),
    proxyErrors: byAttr('sidecar_proxy_errors_total', 'kind'),
    labelOverflow: (collected.get('sidecar_label_overflow_total') ?? [])
      .map((p) => ({ family: p.attributes['family'] ?? '', label: p.attributes['label'] ?? '', count: p.value }))
      .sort((a, b) => b.count - a.count),
  };
}

/** Servers: the inventory's view (state, pid, restart count) joined with the lifecycle facts the ledger counted. */
function serverRows(inputs: StatusInputs, now: number) {
  const facts = inputs.feed.servers;
  const known = inputs.inventory.knownServers();
  const ids = [...new Set([...known.map((s) => s.id), ...facts.keys()])].sort();
  return ids.map((id) => {
    const k = known.find((s) => s.id === id);
    const f = facts.get(id);
    return {
      id,
      state: k?.state ?? null,
      pid: k?.pid ?? null,
      restartCount: k?.restartCount ?? null,
      starts: f?.starts ?? 0,
      startFailures: f?.startFailures ?? 0,
      stops: f?.stops ?? 0,
      restarts: f?.restarts ?? 0,
      crashes: f?.crashes ?? 0,
      lastCrashAgoSeconds: f === undefined || f.lastCrashAt < 0 ? null : round((now - f.lastCrashAt) / 1000, 1),
    };
  });
}

export type StatusSnapshot = Awaited<ReturnType<typeof buildStatus>>;
