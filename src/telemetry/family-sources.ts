/**
 * Which of the sidecar's sources feeds each of the composer's 33 catalog families, and on which of the
 * composer's surfaces each source depends — the one declaration behind `mcp-composer-sidecar check`, the
 * status page's "fed / not fed" lists and the table of docs/composers.md (a test holds the three, and
 * `CATALOG`, to it). The rules are those of the code: request-level facts from proxying
 * (rest-classify.ts, the MCP tap), inventory from REST polling, MCP listing or the event stream
 * (sources/selector.ts picks the inventory source), lifecycle through lifecycle.ts. What each feed is, which
 * source provides it and which surfaces it needs is `FEEDS` (sources/source.ts).
 */
import { FEEDS, type Feed } from '../sources/source.ts';
import type { SurfaceSet } from '../sources/surfaces.ts';
import { CATALOG } from './catalog.ts';

const HTTP: readonly Feed[] = ['proxy'];
const CALLS: readonly Feed[] = ['rest_calls', 'mcp_traffic', 'event_stream'];
const REQUEST: readonly Feed[] = ['rest_calls'];
const INFO: readonly Feed[] = ['rest_polling'];
const SERVERS: readonly Feed[] = ['rest_polling', 'event_stream'];
const TOOLS: readonly Feed[] = ['rest_polling', 'event_stream', 'mcp_listing', 'tools_list'];
const LISTED: readonly Feed[] = ['rest_polling', 'event_stream', 'mcp_listing'];

/** Feeds of each catalog family. The event stream feeds tool calls and reads only for transports the sidecar does not proxy (stdio). */
export const FAMILY_FEEDS: Readonly<Record<string, readonly Feed[]>> = {
  mcp_composer_info: INFO,
  mcp_composer_uptime_seconds: INFO,
  mcp_servers_total: SERVERS,
  mcp_servers_running: SERVERS,
  mcp_servers_stopped: SERVERS,
  mcp_servers_failed: SERVERS,
  mcp_server_starts_total: ['rest_calls', 'event_stream'],
  mcp_server_stops_total: ['rest_calls', 'event_stream'],
  mcp_server_restarts_total: ['rest_calls', 'poll_differences', 'event_stream'],
  mcp_server_crashes_total: ['poll_differences', 'event_stream'],
  mcp_tools_total: TOOLS,
  mcp_tools_by_server: TOOLS,
  mcp_tool_invocations_total: CALLS,
  mcp_tool_invocation_duration_seconds: CALLS,
  mcp_tool_invocation_errors_total: CALLS,
  mcp_tool_conflicts_total: SERVERS,
  mcp_prompts_total: LISTED,
  mcp_prompts_by_server: LISTED,
  mcp_resources_total: LISTED,
  mcp_resources_by_server: LISTED,
  mcp_resource_reads_total: CALLS,
  mcp_resource_read_duration_seconds: CALLS,
  mcp_http_requests_total: HTTP,
  mcp_http_request_duration_seconds: HTTP,
  mcp_http_request_size_bytes: HTTP,
  mcp_http_response_size_bytes: HTTP,
  mcp_auth_attempts_total: REQUEST,
  mcp_auth_failures_total: REQUEST,
  mcp_authz_checks_total: REQUEST,
  mcp_authz_denials_total: REQUEST,
  mcp_rate_limit_exceeded_total: REQUEST,
  mcp_config_reloads_total: ['rest_calls', 'event_stream'],
  mcp_config_validation_errors_total: ['rest_calls', 'event_stream'],
};

export interface FamilyCoverage {
  readonly family: string;
  /** The feeds the composer's surfaces allow, in the order of {@link FAMILY_FEEDS}. */
  readonly fedBy: readonly Feed[];
  /** Feeds that would feed it but whose surfaces the composer does not serve. */
  readonly missing: readonly Feed[];
}

/** For each of the 33 catalog families, in catalog order: what feeds it given the surfaces found. */
export function familyCoverage(s: SurfaceSet): FamilyCoverage[] {
  return CATALOG.map((f) => {
    const feeds = FAMILY_FEEDS[f.name] ?? [];
    return { family: f.name, fedBy: feeds.filter((x) => FEEDS[x].available(s)), missing: feeds.filter((x) => !FEEDS[x].available(s)) };
  });
}

/** The table of docs/composers.md (between its `feeds:start`/`feeds:end` markers; `npm run docs:options` rewrites it). */
export function renderFeedsMarkdown(): string {
  const kinds: readonly [string, SurfaceSet][] = [
    ['released (`serve`)', { rest: false, events: false, sse: true, streamable_http: false, tools_list: true }],
    ['REST app mounted', { rest: true, events: false, sse: true, streamable_http: true, tools_list: true }],
    ['full (REST + event stream)', { rest: true, events: true, sse: true, streamable_http: true, tools_list: true }],
  ];
  const coverage = kinds.map(([, s]) => familyCoverage(s));
  const rows = [`| family | fed by | ${kinds.map(([k]) => k).join(' | ')} |`, `| --- | --- | ${kinds.map(() => '---').join(' | ')} |`];
  CATALOG.forEach((f, i) => {
    const cells = coverage.map((c) => {
      const fed = c[i]?.fedBy ?? [];
      return fed.length === 0 ? '**not fed**' : fed.map((x) => `\`${x}\``).join(', ');
    });
    rows.push(`| \`${f.name}\` | ${(FAMILY_FEEDS[f.name] ?? []).map((x) => `\`${x}\``).join(', ')} | ${cells.join(' | ')} |`);
  });
  rows.push('', '| source | what it is | needs |', '| --- | --- | --- |');
  for (const [name, spec] of Object.entries(FEEDS)) rows.push(`| \`${name}\` | ${spec.what} | ${spec.needs} |`);
  return rows.join('\n');
}
