/**
 * The composer's surfaces — the REST API, the event stream, MCP over legacy SSE, MCP streamable HTTP and the
 * plain `GET /tools` — as detection finds them (sources/detect/detect.ts), and what they let the sidecar
 * see: the words of the `sources_detected` log line, the status page and `check`. Pure.
 */

/** The surfaces, in the order logs and `sidecar_source_available{source}` list them. */
export const SURFACES = ['rest', 'events', 'sse', 'streamable_http', 'tools_list'] as const;
export type Surface = (typeof SURFACES)[number];

/** Which surfaces the composer serves. */
export type SurfaceSet = Readonly<Record<Surface, boolean>>;

/** What one detection found. */
export interface Detection {
  /** Each surface found present (true) or absent (false); one that could not be asked is missing. */
  readonly surfaces: Partial<Record<Surface, boolean>>;
  /** The upstream showed itself to be the composer: its REST API answered, or `GET /tools` has its shape. */
  readonly composer: boolean;
}

/** What the composer serves and what the sidecar can and cannot see as a result, in words. */
export interface Described {
  readonly found: Surface[];
  readonly missing: Surface[];
  readonly sees: string[];
  readonly blind: string[];
}

/** One sentence for the log: what was found and what the sidecar can and cannot see as a result. */
export function describeSources(s: SurfaceSet): Described {
  const found = SURFACES.filter((k) => s[k]);
  const missing = SURFACES.filter((k) => !s[k]);
  const sees = ['HTTP traffic'];
  const blind: string[] = [];
  if (s.sse || s.streamable_http) sees.push('MCP tool calls, resource reads and prompts');
  if (s.rest)
    sees.push(
      'REST tool invokes, auth and rate limits',
      'inventory (version, uptime, servers, capabilities)',
      'lifecycle from REST calls and poll differences',
    );
  else if (s.sse || s.streamable_http || s.tools_list) sees.push('inventory from MCP (tools, prompts, resources)');
  if (s.events) sees.push('lifecycle the moment it happens (event stream)');
  if (!s.rest && !s.events) blind.push('server lifecycle (starts, stops, restarts, crashes)', 'server counts, version and uptime');
  if (!s.events) blind.push('supervisor restarts between polls and stdio tool calls');
  return { found, missing, sees, blind };
}

/**
 * Where lifecycle facts come from without the event stream, worded as {@link describeSources} words it so
 * that `event_stream_unavailable` and `sources_detected` agree (`undefined` before the first detection).
 */
export function lifecycleWithoutStream(s: SurfaceSet | undefined): string | undefined {
  if (s === undefined) return undefined;
  return s.rest ? 'from REST polling and proxied REST calls' : 'from nowhere: without a REST API either, server lifecycle cannot be seen';
}
