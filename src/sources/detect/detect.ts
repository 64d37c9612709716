/**
 * Which of the composer's surfaces exist, found by asking each once (on their own connection, never through
 * the proxy): the REST API, the event stream, MCP over legacy SSE, MCP streamable HTTP and the plain
 * `GET /tools` of the released `serve` command. The sidecar meets three kinds of composer (docs/composers.md):
 * as released (legacy SSE only), with the REST app mounted, and full — and other MCP servers and gateways.
 *
 * Detection opens no MCP session and sends nothing an MCP server would act on:
 * - streamable HTTP is a `POST {prefix}/mcp` whose body is a JSON object that is no JSON-RPC message,
 *   which every streamable endpoint refuses without acting on it (400; 401/403 behind auth): any answer but
 *   404 or 405 means it is there — also for a stateless server that mounts only `POST` (its `GET` is 404 or
 *   405). The body is valid JSON on purpose: an Express app that parses JSON before routing (supergateway
 *   in its SSE mode, say) answers a body that is not JSON with 400 on every path, `/mcp` or not;
 * - legacy SSE is a `GET {prefix}/sse` read up to its first `endpoint` event, then closed at once: no
 *   message is ever posted on the session it announced;
 * - `GET {prefix}/tools` is read (bounded) to tell the composer's own listing `{tools: [...], total}`.
 */
import { createParser } from 'eventsource-parser';
import { Client } from 'undici';
import { mcpPath } from '../mcp/routes.ts';
import type { Detection, Surface } from '../surfaces.ts';

export interface DetectOptions {
  readonly origin: URL;
  readonly eventsPath: string;
  /** `--mcp-path-prefix`: where `/sse`, `/mcp` and `/tools` are mounted (`/` for none). */
  readonly mcpPathPrefix: string;
  readonly timeoutMs: number;
  readonly token?: () => string | undefined;
}

/** The body of the streamable-HTTP probe: JSON, but no JSON-RPC message (no `jsonrpc`, `method` or `id`). */
export const STREAMABLE_PROBE_BODY = JSON.stringify({ 'mcp-composer-sidecar': 'source detection, not a JSON-RPC message' });
/** Most bytes read of the legacy stream before its `endpoint` event, and of `GET /tools`. */
export const MAX_SSE_PROBE_BYTES = 16 * 1024;
export const MAX_TOOLS_PROBE_BYTES = 1024 * 1024;

/** What a probe answer means: present (any answer but 404 from the route), absent (404), or unknown. */
export function presence(status: number | undefined): boolean | undefined {
  if (status === undefined) return undefined;
  return status !== 404;
}

/** What the answer to the streamable-HTTP probe means: absent for 404 and 405 (no `POST` there), else present. */
export function streamablePresence(status: number | undefined): boolean | undefined {
  if (status === undefined) return undefined;
  return status !== 404 && status !== 405;
}

/** Whether a `GET /tools` body is the composer's listing: `{tools: [...], total: <number>}`. */
export function isComposerToolsList(body: unknown): boolean {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  return 'tools' in body && Array.isArray(body.tools) && 'total' in body && typeof body.total === 'number';
}

type Body = AsyncIterable<Buffer>;

/** True once the legacy stream sent its `endpoint` event (within {@link MAX_SSE_PROBE_BYTES}); never throws. */
async function readsEndpoint(body: Body): Promise<boolean> {
  let seen = false;
  let size = 0;
  const decoder = new TextDecoder();
  const parser = createParser({ maxBufferSize: MAX_SSE_PROBE_BYTES, onEvent: (e) => void (seen ||= e.event === 'endpoint' && e.data.trim() !== '') });
  try {
    for await (const chunk of body) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (seen) return true;
      size += chunk.length;
      if (size > MAX_SSE_PROBE_BYTES) return false;
    }
  } catch {
    // A parse error or a cut stream: no endpoint event.
  }
  return seen;
}

/** True when the whole body (within {@link MAX_TOOLS_PROBE_BYTES}) is the composer's listing; never throws. */
async function readsComposerTools(body: Body): Promise<boolean> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.length;
      if (size > MAX_TOOLS_PROBE_BYTES) return false;
      chunks.push(chunk);
    }
    return isComposerToolsList(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch {
    return false;
  }
}

interface Answer<T> {
  readonly status: number;
  readonly read: T;
}

/**
 * Probes every surface. A surface that cannot be reached at all (the composer is down) is missing from
 * `surfaces`: the caller keeps what it knew.
 */
export async function detectSources(opts: DetectOptions): Promise<Detection> {
  const client = new Client(opts.origin, { headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs, connect: { timeout: opts.timeoutMs } });
  const token = opts.token?.();
  const auth: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const ask = async <T>(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: string | null,
    read: (status: number, body: Body) => Promise<T>,
  ): Promise<Answer<T> | undefined> => {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), opts.timeoutMs);
    try {
      const res = await client.request({
        method,
        path,
        headers: { 'user-agent': 'mcp-composer-sidecar-detect', ...auth, ...headers },
        body,
        signal: ac.signal,
      });
      // Streams never end by themselves: once read as far as needed, the body is dropped (undici reports
      // the drop as an error on the body, which is expected here).
      res.body.on('error', () => undefined);
      try {
        return { status: res.statusCode, read: await read(res.statusCode, res.body) };
      } finally {
        res.body.destroy();
      }
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  };
  const status = async (): Promise<undefined> => undefined;
  const ok = (s: number): boolean => s >= 200 && s < 300;
  const prefix = opts.mcpPathPrefix;
  try {
    const [rest, events, sse, streamable, tools] = await Promise.all([
      ask('GET', '/api/v1/health', { accept: 'application/json' }, null, status),
      ask('GET', opts.eventsPath, { accept: 'text/event-stream' }, null, status),
      ask('GET', mcpPath(prefix, '/sse'), { accept: 'text/event-stream' }, null, (s, body) => (ok(s) ? readsEndpoint(body) : Promise.resolve(false))),
      ask(
        'POST',
        mcpPath(prefix, '/mcp'),
        { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        STREAMABLE_PROBE_BODY,
        status,
      ),
      ask('GET', mcpPath(prefix, '/tools'), { accept: 'application/json' }, null, (s, body) => (ok(s) ? readsComposerTools(body) : Promise.resolve(false))),
    ]);
    const surfaces: Partial<Record<Surface, boolean>> = {};
    const set = (k: Surface, v: boolean | undefined) => {
      if (v !== undefined) surfaces[k] = v;
    };
    set('rest', presence(rest?.status));
    set('events', presence(events?.status));
    set('sse', sse?.read);
    set('streamable_http', streamablePresence(streamable?.status));
    set('tools_list', tools === undefined ? undefined : ok(tools.status));
    return { surfaces, composer: surfaces.rest === true || tools?.read === true };
  } finally {
    await client.destroy().catch(() => undefined);
  }
}
