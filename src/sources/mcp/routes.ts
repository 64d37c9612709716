/**
 * Which proxied paths carry MCP, and where the session id of a legacy-SSE exchange is. Pure.
 *
 * Routes (under `--mcp-path-prefix`, default none):
 * - `sse`: `GET {prefix}/sse`, the legacy SSE stream; its first event (`endpoint`) announces the POST URL,
 *   whose `session_id` query parameter names the session;
 * - `messages`: `POST {prefix}/messages/?session_id=…` (also without the trailing slash), legacy SSE
 *   client-to-server messages, answered 202;
 * - `streamable`: `POST|GET|DELETE {prefix}/mcp` (also `/mcp/`), streamable HTTP with `Mcp-Session-Id`.
 *
 * A legacy stream's `endpoint` event may announce a POST path outside these (a composer mounted elsewhere):
 * the path it announces is then learned as a `messages` route (at most {@link MAX_LEARNED_PATHS}).
 */

export type McpRoute = 'sse' | 'messages' | 'streamable';

/** Longest session id the sidecar accepts from a URL or header; longer ones are ignored. */
export const MAX_SESSION_ID_LENGTH = 256;
/** Most POST paths learned from `endpoint` events. */
export const MAX_LEARNED_PATHS = 16;
const MAX_PATH_LENGTH = 512;

export class McpRoutes {
  readonly #routes = new Map<string, McpRoute>();

  /** @param prefix path prefix the composer's MCP apps are mounted under (`/` or `''` for none). */
  constructor(prefix = '') {
    this.#routes.set(mcpPath(prefix, '/sse'), 'sse');
    this.#routes.set(mcpPath(prefix, '/messages/'), 'messages');
    this.#routes.set(mcpPath(prefix, '/messages'), 'messages');
    this.#routes.set(mcpPath(prefix, '/mcp'), 'streamable');
    this.#routes.set(mcpPath(prefix, '/mcp/'), 'streamable');
  }

  #learned = 0;

  /** The MCP route of a path (without query string), or `undefined` for every other path. */
  classify(path: string): McpRoute | undefined {
    return this.#routes.get(path);
  }

  /** Learns the POST path an `endpoint` event announced (its data: a path or URL); bounded. */
  learnEndpoint(data: string): void {
    const path = pathOfUrl(data);
    if (path === undefined || this.#routes.has(path) || this.#learned >= MAX_LEARNED_PATHS) return;
    this.#routes.set(path, 'messages');
    this.#learned++;
  }
}

/**
 * `tail` (`/sse`, `/mcp`, …) under the MCP path prefix (`/`, `''` or `/gw`, with or without a trailing
 * slash): the one spelling of MCP paths for the tap, source detection and the inventory's own session.
 */
export function mcpPath(prefix: string, tail: string): string {
  return `${prefix.endsWith('/') ? prefix.slice(0, -1) : prefix}${tail}`;
}

/** The path of a path-with-query or absolute URL, without query or fragment; `undefined` if unusable. */
export function pathOfUrl(url: string): string | undefined {
  let rest = url.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(rest);
  if (scheme !== null) rest = rest.slice(scheme[0].length);
  const end = rest.search(/[?#]/);
  const path = end === -1 ? rest : rest.slice(0, end);
  return path.startsWith('/') && path.length <= MAX_PATH_LENGTH ? path : undefined;
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
