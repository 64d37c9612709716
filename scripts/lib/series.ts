/**
 * What the soak watches in a scrape: series per family, distinct values per bounded label (those taken from
 * traffic, not counting the values known in advance), and the gauges that must return to 0 once traffic
 * stops (open streams, MCP sessions, pending MCP requests).
 */
import { parseListPage, parseServers } from '../../src/sources/poll/inventory-parse.ts';
import { expositionName, type PromType } from '../../src/exporters/prometheus-serializer.ts';
import { ROUTE_TEMPLATES } from '../../src/ledger/endpoint.ts';
import { ALL_FAMILIES } from '../../src/telemetry/catalog.ts';
import { MCP_METHODS } from '../../src/telemetry/known-values.ts';
import { parseExposition, value, type Family } from '../../test/fixtures/scrape.ts';

/** Whether the sidecar knows a label value in advance (it does not count against `--max-label-values`). */
export type KnownLabelValue = (label: string, value: string) => boolean;

const sanitize = (label: string): string => label.replace(/[^a-zA-Z0-9_]/g, '_');

/** The bounded labels of each family, by exposition name and label name as a scrape spells them. */
const BOUNDED = new Map<string, ReadonlySet<string>>(
  ALL_FAMILIES.filter((f) => f.bounded !== undefined).map((f) => {
    const type: PromType = f.kind === 'counter' ? 'counter' : f.kind === 'histogram' ? 'histogram' : 'gauge';
    return [expositionName(f.name, f.unit ?? '', type), new Set((f.bounded ?? []).map(sanitize))];
  }),
);

/**
 * The label values the sidecar knows in front of the composer at `composerUrl`: route templates, MCP
 * methods, and — when the sidecar reads the composer's inventory, i.e. has its `token` — the tools,
 * prompts, resource URIs and servers the composer lists.
 */
export async function knownLabelValues(composerUrl: string, token?: string): Promise<KnownLabelValue> {
  const names = { tools: new Set<string>(), prompts: new Set<string>(), resources: new Set<string>(), servers: new Set<string>() };
  if (token !== undefined) {
    const get = async (path: string): Promise<unknown> =>
      (await fetch(new URL(path, composerUrl), { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) })).json();
    for (const kind of ['tools', 'prompts', 'resources'] as const)
      for (const n of parseListPage(await get(`/api/v1/${kind}?limit=1000`), kind)?.names ?? []) names[kind].add(n);
    for (const s of parseServers(await get('/api/v1/servers')) ?? []) names.servers.add(s.id);
  }
  const endpoints = new Set(ROUTE_TEMPLATES);
  const methods = new Set(MCP_METHODS);
  return (label, v) => {
    switch (label) {
      case 'endpoint':
      case 'http_route':
        return endpoints.has(v);
      case 'tool_id':
      case 'gen_ai_tool_name':
        return names.tools.has(v);
      case 'gen_ai_prompt_name':
        return names.prompts.has(v);
      case 'resource_uri':
        return names.resources.has(v);
      case 'server_id':
        return names.servers.has(v);
      case 'mcp_method_name':
        return methods.has(v);
      default:
        return false;
    }
  };
}

export interface SeriesReport {
  /** Series (label sets) per family; a histogram series counts once. */
  readonly perFamily: Record<string, number>;
  readonly total: number;
  /** The largest number of distinct values not known in advance any one bounded label of a family has (`__other__` included). */
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

export function seriesReport(text: string, known: KnownLabelValue = () => false): SeriesReport {
  const families = parseExposition(text);
  const perFamily: Record<string, number> = {};
  const maxLabelValues: Record<string, { label: string; values: number }> = {};
  let total = 0;
  for (const [name, f] of families) {
    const sets = labelSets(f);
    perFamily[name] = sets.length;
    total += sets.length;
    const bounded = BOUNDED.get(name);
    const distinct = new Map<string, Set<string>>();
    for (const labels of sets) {
      for (const [k, v] of Object.entries(labels)) if (bounded?.has(k) === true && !known(k, v)) (distinct.get(k) ?? distinct.set(k, new Set()).get(k))?.add(v);
    }
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
