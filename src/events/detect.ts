/**
 * Which of the composer's surfaces exist, found by asking each once (on their own connection, never through
 * the proxy): the REST API, the event stream, MCP over legacy SSE, MCP streamable HTTP and the plain
 * `GET /tools` of the released `serve` command. The sidecar meets three kinds of composer
 * (docs/composer-api.md): as released (legacy SSE only), with the REST app mounted, and full.
 */
import { Client } from 'undici';

export const SOURCES = ['rest', 'events', 'sse', 'streamable_http', 'tools_list'] as const;
export type Source = (typeof SOURCES)[number];

export type SourceSet = Readonly<Record<Source, boolean>>;

export interface DetectOptions {
  readonly origin: URL;
  readonly eventsPath: string;
  readonly timeoutMs: number;
  readonly token?: () => string | undefined;
}

/** What a probe answer means: present (any answer but 404 from the route), absent (404), or unknown. */
export function presence(status: number | undefined): boolean | undefined {
  if (status === undefined) return undefined;
  return status !== 404;
}

/**
 * Probes every surface. A surface that cannot be reached at all (the composer is down) is `undefined`:
 * the caller keeps what it knew.
 */
export async function detectSources(opts: DetectOptions): Promise<Partial<Record<Source, boolean>>> {
  const client = new Client(opts.origin, { headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs, connect: { timeout: opts.timeoutMs } });
  const token = opts.token?.();
  const auth: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const ask = async (method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<number | undefined> => {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), opts.timeoutMs);
    try {
      const res = await client.request({ method, path, headers: { 'user-agent': 'mcp-composer-sidecar-detect', ...auth, ...headers }, body: body ?? null, signal: ac.signal });
      // Streams (SSE) never end by themselves: only the status matters, so the body is dropped at once
      // (undici reports the drop as an error on the body, which is expected here).
      res.body.on('error', () => undefined);
      res.body.destroy();
      return res.statusCode;
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    const [rest, events, sse, streamable, tools] = await Promise.all([
      ask('GET', '/api/v1/health', { accept: 'application/json' }),
      ask('GET', opts.eventsPath, { accept: 'text/event-stream' }),
      ask('GET', '/sse', { accept: 'text/event-stream' }),
      // A streamable-HTTP endpoint answers a GET without a session with 400/405, never 404.
      ask('GET', '/mcp', { accept: 'text/event-stream' }),
      ask('GET', '/tools', { accept: 'application/json' }),
    ]);
    const out: Partial<Record<Source, boolean>> = {};
    const set = (k: Source, v: boolean | undefined) => {
      if (v !== undefined) out[k] = v;
    };
    set('rest', presence(rest));
    set('events', presence(events));
    set('sse', sse === undefined ? undefined : sse >= 200 && sse < 300);
    set('streamable_http', presence(streamable));
    set('tools_list', tools === undefined ? undefined : tools >= 200 && tools < 300);
    return out;
  } finally {
    await client.destroy().catch(() => undefined);
  }
}

/** One sentence for the log: what was found and what the sidecar can and cannot see as a result. */
export function describeSources(s: SourceSet): { found: Source[]; missing: Source[]; sees: string[]; blind: string[] } {
  const found = SOURCES.filter((k) => s[k]);
  const missing = SOURCES.filter((k) => !s[k]);
  const sees = ['HTTP traffic'];
  const blind: string[] = [];
  if (s.sse || s.streamable_http) sees.push('MCP tool calls, resource reads and prompts');
  if (s.rest) sees.push('REST tool invokes, auth and rate limits', 'inventory (version, uptime, servers, capabilities)', 'lifecycle from REST calls and poll differences');
  else if (s.sse || s.streamable_http || s.tools_list) sees.push('inventory from MCP (tools, prompts, resources)');
  if (s.events) sees.push('lifecycle the moment it happens (event stream)');
  if (!s.rest && !s.events) blind.push('server lifecycle (starts, stops, restarts, crashes)', 'server counts, version and uptime');
  if (!s.events) blind.push('supervisor restarts between polls and stdio tool calls');
  return { found, missing, sees, blind };
}
