/**
 * What `mcp-composer-sidecar check` concludes from its probes (probe.ts) and the sidecar's configuration:
 * what the composer serves, which of the 33 catalog families will be fed and from which source
 * (telemetry/family-sources.ts), what stays blind (sources/surfaces.ts describeSources), and findings. Pure.
 *
 * A `problem` means the sidecar would not work as configured (exit code 1); a `warning` is a risk it cannot
 * rule out from here; a `note` explains something that is fine.
 */
import { FEEDS, type Feed } from '../sources/source.ts';
import { describeSources, SURFACES, type Surface, type SurfaceSet } from '../sources/surfaces.ts';
import { familyCoverage } from '../telemetry/family-sources.ts';
import type { Answer, McpProbe, ProbeResults } from './probe.ts';

export type Level = 'problem' | 'warning' | 'note';

export interface Finding {
  readonly level: Level;
  /** Stable identifier (for scripts reading --json). */
  readonly code: string;
  readonly message: string;
}

export interface CheckConfig {
  readonly upstream: string;
  readonly eventsPath: string;
  readonly mcpPathPrefix: string;
  /** `--no-events`: the sidecar would not subscribe even if the composer serves the stream. */
  readonly events: 'on' | 'off';
  readonly preserveHost: boolean;
  readonly upstreamToken: boolean;
  /** How /metrics would be protected; `missing`: the sidecar would refuse to start. */
  readonly metricsAuth: 'file' | 'inline' | 'none' | 'missing';
}

export interface SurfaceRow {
  readonly source: Surface;
  readonly name: string;
  readonly path: string;
  readonly served: boolean | null;
  /** `open`, `token needed`, `token accepted`, `token refused`, or null when not asked. */
  readonly auth: string | null;
  /** For MCP transports: what a foreign Host and a foreign Origin get (`accepted`, `421`, `403`, …). */
  readonly foreignHost: string | null;
  readonly foreignOrigin: string | null;
}

export interface CheckReport {
  readonly upstream: string;
  readonly reachable: boolean;
  readonly surfaces: readonly SurfaceRow[];
  /** The surfaces as the sidecar would use them (`events` false with --no-events). */
  readonly sources: SurfaceSet;
  readonly sees: readonly string[];
  readonly blind: readonly string[];
  readonly families: readonly { readonly family: string; readonly fed: boolean; readonly from: readonly Feed[]; readonly missing: readonly Feed[] }[];
  readonly findings: readonly Finding[];
  /** 0: no problem; 1: at least one problem. */
  readonly exitCode: 0 | 1;
}

const SURFACE_NAMES: Readonly<Record<Surface, string>> = {
  rest: 'REST API',
  events: 'event stream',
  sse: 'MCP legacy SSE',
  streamable_http: 'MCP streamable HTTP',
  tools_list: 'GET /tools',
};

const refused = (a: Answer | undefined): boolean => a?.status === 401 || a?.status === 403;
const said = (a: Answer): string => (a.status === undefined ? `no answer (${a.error ?? 'error'})` : String(a.status));

/** A foreign Host or Origin: refused with 421 or 403 by the composer's protection, or accepted. */
function foreign(a: Answer | undefined, refusedWith: number): string | null {
  if (a === undefined) return null;
  if (a.status === refusedWith) return `refused (${refusedWith})`;
  return a.status === undefined ? said(a) : `accepted (${a.status})`;
}

function restAuth(p: ProbeResults): string | null {
  if (p.restAnonymous === undefined) return null;
  if (!refused(p.restAnonymous)) return 'open';
  if (p.restWithToken === undefined) return `token needed (${p.restAnonymous.status})`;
  return refused(p.restWithToken) ? `token refused (${p.restWithToken.status})` : 'token accepted';
}

function surfaces(p: ProbeResults, c: CheckConfig): SurfaceRow[] {
  const path: Record<Surface, string> = {
    rest: '/api/v1',
    events: c.eventsPath,
    sse: `${c.mcpPathPrefix.replace(/\/+$/, '')}/sse`,
    streamable_http: `${c.mcpPathPrefix.replace(/\/+$/, '')}/mcp`,
    tools_list: '/tools',
  };
  const mcp = (s: Surface): McpProbe | undefined => (s === 'sse' || s === 'streamable_http' ? p.mcp[s] : undefined);
  return SURFACES.map((source) => {
    const m = mcp(source);
    let auth: string | null = null;
    if (source === 'rest') auth = restAuth(p);
    if (source === 'events' && p.events !== undefined) auth = refused(p.events) ? `refused (${p.events.status})` : c.upstreamToken ? 'token accepted' : 'open';
    if (m !== undefined) auth = refused(m.ownHost) ? `token needed (${m.ownHost.status})` : 'open';
    return {
      source,
      name: SURFACE_NAMES[source],
      path: path[source],
      served: p.detected[source] ?? null,
      auth,
      foreignHost: foreign(m?.foreignHost, 421),
      foreignOrigin: foreign(m?.foreignOrigin, 403),
    };
  });
}

function findings(p: ProbeResults, c: CheckConfig, used: SurfaceSet): Finding[] {
  const out: Finding[] = [];
  const add = (level: Level, code: string, message: string) => out.push({ level, code, message });
  if (!p.reachable) {
    add(
      'problem',
      'upstream_unreachable',
      `the composer at ${c.upstream} did not answer (${p.unreachableBecause ?? 'no answer'}): the sidecar would answer 502 and /readyz 503`,
    );
  } else if (!SURFACES.some((s) => p.detected[s] === true)) {
    add(
      'problem',
      'nothing_recognised',
      `${c.upstream} answers HTTP but serves none of the composer's surfaces (REST, event stream, MCP, GET /tools): is it the composer?`,
    );
  }
  if (c.metricsAuth === 'missing')
    add(
      'problem',
      'metrics_token_missing',
      'no metrics token configured: the sidecar would refuse to start; give --metrics-token-file PATH (or --no-metrics-auth to serve /metrics to anyone)',
    );
  if (c.metricsAuth === 'none')
    add('warning', 'metrics_auth_disabled', '--no-metrics-auth: anyone who reaches the metrics port reads /metrics and /status.json');
  if (p.restAnonymous !== undefined && refused(p.restAnonymous)) {
    if (p.restWithToken === undefined) {
      add(
        'problem',
        'rest_needs_token',
        `the REST API answers ${p.restAnonymous.status} without a token and no --upstream-token-file is configured: inventory polls fail, the inventory and lifecycle families stay absent`,
      );
    } else if (refused(p.restWithToken)) {
      add('problem', 'upstream_token_refused', `the REST API refuses the token of --upstream-token-file (${p.restWithToken.status})`);
    }
  }
  if (p.events !== undefined && refused(p.events) && c.events === 'on') {
    add(
      'problem',
      'events_refused',
      `the event stream answers ${p.events.status}${c.upstreamToken ? ' to the upstream token' : ' without a token (no --upstream-token-file)'}: lifecycle comes from polling only`,
    );
  }
  if (p.detected.events === true && c.events === 'off')
    add('note', 'events_disabled', 'the composer serves its event stream but --no-events is set: lifecycle comes from polling and REST calls only');
  for (const kind of ['streamable_http', 'sse'] as const) {
    const m = p.mcp[kind];
    if (m === undefined) continue;
    const name = SURFACE_NAMES[kind];
    if (m.foreignHost.status === 421) {
      if (c.preserveHost)
        add(
          'problem',
          'preserve_host_breaks_mcp',
          `${name} refuses a foreign Host (421, DNS-rebinding protection) and --preserve-host forwards the client's Host: every MCP session through the sidecar would fail`,
        );
      else
        add(
          'note',
          'dns_rebinding_protection',
          `${name} refuses a foreign Host (421, DNS-rebinding protection); the sidecar sends the upstream's own Host, so MCP works through it`,
        );
    }
    if (m.foreignOrigin.status === 403)
      add('note', 'origin_checked', `${name} refuses a foreign Origin (403): browser clients of other origins are refused by the composer itself`);
  }
  const around = p.elsewhere.filter((e) => e.answer.status !== undefined && e.answer.status === p.probePath.status);
  if (around.length > 0) {
    add(
      'problem',
      'reachable_around_sidecar',
      `the composer also answers on ${around.map((e) => e.url).join(', ')} (a non-loopback address of this host): clients can reach it around the sidecar, unseen and unprotected; bind it to 127.0.0.1`,
    );
  } else if (p.reachable && !p.loopback) {
    add(
      'warning',
      'upstream_not_loopback',
      `the upstream ${c.upstream} is not on loopback: clients that can reach it there bypass the sidecar unless a network policy prevents it (this host cannot check that)`,
    );
  } else if (p.reachable && p.elsewhere.length > 0) {
    add(
      'note',
      'loopback_only',
      `the composer does not answer on this host's other addresses (${p.elsewhere.map((e) => new URL(e.url).hostname).join(', ')}): clients cannot reach it around the sidecar from there`,
    );
  } else if (p.reachable) {
    add('note', 'bypass_not_checked', 'this host has no non-loopback address: whether the composer listens on 0.0.0.0 could not be checked');
  }
  if (p.reachable && !used.rest && !used.events)
    add('note', 'lifecycle_blind', 'neither REST nor the event stream: server starts, stops, restarts and crashes cannot be seen');
  return out;
}

export function buildReport(p: ProbeResults, c: CheckConfig): CheckReport {
  const used: SurfaceSet = {
    rest: p.detected.rest === true,
    events: p.detected.events === true && c.events === 'on',
    sse: p.detected.sse === true,
    streamable_http: p.detected.streamable_http === true,
    tools_list: p.detected.tools_list === true,
  };
  const d = describeSources(used);
  const all = findings(p, c, used);
  return {
    upstream: c.upstream,
    reachable: p.reachable,
    surfaces: surfaces(p, c),
    sources: used,
    sees: p.reachable ? d.sees : [],
    blind: p.reachable ? d.blind : [],
    families: familyCoverage(used).map((f) => ({
      family: f.family,
      fed: p.reachable && f.fedBy.length > 0,
      from: p.reachable ? f.fedBy : [],
      missing: f.missing,
    })),
    findings: all,
    exitCode: all.some((f) => f.level === 'problem') ? 1 : 0,
  };
}

/** What each feed is, for the table's legend. */
export function feedLegend(feeds: Iterable<Feed>): string[] {
  return [...new Set(feeds)].map((f) => `${f}: ${FEEDS[f].what}`);
}
