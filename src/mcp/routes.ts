/**
 * Which proxied paths carry MCP, and where the session id of a legacy-SSE exchange is. Pure.
 *
 * Routes (under `--mcp-path-prefix`, default none):
 * - `sse`: `GET {prefix}/sse`, the legacy SSE stream; its first event (`endpoint`) announces the POST URL,
 *   whose `session_id` query parameter names the session;
 * - `messages`: `POST {prefix}/messages/?session_id=…` (also without the trailing slash), legacy SSE
 *   client-to-server messages, answered 202;
 * - `streamable`: `POST|GET|DELETE {prefix}/mcp` (also `/mcp/`), streamable HTTP with `Mcp-Session-Id`.
 */

export type McpRoute = 'sse' | 'messages' | 'streamable';

/** Longest session id the sidecar accepts from a URL or header; longer ones are ignored. */
export const MAX_SESSION_ID_LENGTH = 256;

export class McpRoutes {
  readonly #routes = new Map<string, McpRoute>();

  /** @param prefix path prefix the composer's MCP apps are mounted under (`/` or `''` for none). */
  constructor(prefix = '') {
    const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
    this.#routes.set(`${p}/sse`, 'sse');
    this.#routes.set(`${p}/messages/`, 'messages');
    this.#routes.set(`${p}/messages`, 'messages');
    this.#routes.set(`${p}/mcp`, 'streamable');
    this.#routes.set(`${p}/mcp/`, 'streamable');
  }

  /** The MCP route of a path (without query string), or `undefined` for every other path. */
  classify(path: string): McpRoute | undefined {
    return this.#routes.get(path);
  }
}

/** The `session_id` (or the TypeScript SDK's `sessionId`) query parameter of a URL or path, bounded. */
export function sessionIdOfUrl(url: string): string | undefined {
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  const h = url.indexOf('#', q);
  const params = new URLSearchParams(h === -1 ? url.slice(q + 1) : url.slice(q + 1, h));
  const id = params.get('session_id') ?? params.get('sessionId');
  return id === null || id === '' || id.length > MAX_SESSION_ID_LENGTH ? undefined : id;
}

/** The value of a single-valued header (the first one when repeated), bounded. */
export function headerValue(value: string | string[] | undefined, max = MAX_SESSION_ID_LENGTH): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === '' || v.length > max ? undefined : v;
}
