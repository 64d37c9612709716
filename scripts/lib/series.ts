/**
 * What the soak watches in a scrape: series per family, distinct values per label, and the gauges that
 * must return to 0 once traffic stops (open streams, MCP sessions, pending MCP requests).
 */
import { parseExposition, value, type Family } from '../../test/fixtures/scrape.ts';

export interface SeriesReport {
  /** Series (label sets) per family; a histogram series counts once. */
  readonly perFamily: Record<string, number>;
  readonly total: number;
  /** The largest number of distinct values any one label of a family has. */
  readonly maxLabelValues: Record<string, { label: string; values: number }>;
  readonly openStreams: number;
  readonly sessionsActive: number;
  readonly pendingRequests: number;
  readonly labelOverflows: number;
  readonly requests: number;
}

function labelSets(f: Family): Array<Record<string, string>> {
  return f.type === 'HISTOGRAM' ? f.histograms.map((h) => h.labels) : f.samples.map((s) => s.labels);
}

export function seriesReport(text: string): SeriesReport {
  const families = parseExposition(text);
  const perFamily: Record<string, number> = {};
  const maxLabelValues: Record<string, { label: string; values: number }> = {};
  let total = 0;
  for (const [name, f] of families) {
    const sets = labelSets(f);
    perFamily[name] = sets.length;
    total += sets.length;
    const distinct = new Map<string, Set<string>>();
    for (const labels of sets) for (const [k, v] of Object.entries(labels)) (distinct.get(k) ?? distinct.set(k, new Set()).get(k))?.add(v);
    for (const [label, values] of distinct) if ((maxLabelValues[name]?.values ?? 0) < values.size) maxLabelValues[name] = { label, values: values.size };
  }
  return {
    perFamily,
    total,
    maxLabelValues,
    openStreams: value(families, 'sidecar_proxy_open_streams'),
    sessionsActive: value(families, 'sidecar_mcp_sessions_active'),
    pendingRequests: value(families, 'sidecar_mcp_pending_requests'),
    labelOverflows: value(families, 'sidecar_label_overflow_total'),
    requests: value(families, 'mcp_http_requests_total'),
  };
}
