// MCP over HTTP with the SDK's server transports:
//   legacy SSE: GET /sse opens the stream (first event `endpoint`, data `/messages/?session_id=…`, the
//     Python server's parameter name), POST /messages/?session_id=… answers 202 Accepted.
//   streamable HTTP: POST/GET/DELETE /mcp with the Mcp-Session-Id header.
// DNS-rebinding protection (when on) answers 421 "Invalid Host header" for a Host other than localhost,
// 127.0.0.1 or [::1] (any port), and 403 "Invalid Origin header" for a foreign Origin, as the Python SDK does.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { ComposerContext } from '../context.ts';
import { readBody, sendJson, sendText } from '../http/respond.ts';
import { createFrontServer, FrontSessions } from './front-server.ts';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True when `host` (a Host header) names localhost, 127.0.0.1 or [::1], with or without a port. */
export function isLocalHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
  return LOCAL_HOSTS.has(name.toLowerCase());
}

function isLocalOrigin(origin: string): boolean {
  try {
    const u = new URL(origin);
    return LOCAL_HOSTS.has(u.hostname.toLowerCase());
  } catch {
    return false;
  }
}

function jsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
}

export class McpHttp {
  readonly sessions = new FrontSessions();
  #ctx: ComposerContext;
  #sse = new Map<string, SSEServerTransport>();
  #streamable = new Map<string, StreamableHTTPServerTransport>();
  #timers = new Set<NodeJS.Timeout>();

  constructor(ctx: ComposerContext) {
    this.#ctx = ctx;
  }

  /** Applies DNS-rebinding protection; true when the request was refused (answer sent). */
  refusedByHostCheck(req: IncomingMessage, res: ServerResponse): boolean {
    if (!this.#ctx.options.dnsRebindingProtection) return false;
    if (!isLocalHost(req.headers.host)) {
      sendText(res, 421, 'Invalid Host header');
      return true;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !isLocalOrigin(origin)) {
      sendText(res, 403, 'Invalid Origin header');
      return true;
    }
    return false;
  }

  /** GET /sse */
  async openSse(res: ServerResponse): Promise<void> {
    // The SDK names the query parameter `sessionId`; the Python server (and so the real composer) says
    // `session_id`. Rewrite it in the endpoint event, the first thing the transport writes.
    const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
    let first = true;
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (first && typeof chunk === 'string') {
        first = false;
        return write(chunk.replace('?sessionId=', '?session_id='), ...rest);
      }
      return write(chunk, ...rest);
    }) as typeof res.write;
    const transport = new SSEServerTransport('/messages/', res);
    const server = createFrontServer(this.#ctx, 'sse');
    const ping = setInterval(() => {
      if (!res.writableEnded) res.write(`: ping - ${new Date().toISOString()}\n\n`);
    }, this.#ctx.options.keepaliveMs);
    this.#timers.add(ping);
    transport.onclose = () => {
      clearInterval(ping);
      this.#timers.delete(ping);
      this.#sse.delete(transport.sessionId);
      this.sessions.delete(server);
    };
    this.#sse.set(transport.sessionId, transport);
    this.sessions.add(server, 'sse');
    await server.connect(transport);
  }

  /** POST /messages/?session_id=… */
  async postMessage(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const id = query.get('session_id') ?? query.get('sessionId');
    if (id === null || id === '') {
      sendText(res, 400, 'session_id is required');
      return;
    }
    const transport = this.#sse.get(id);
    if (!transport) {
      sendText(res, 404, 'Could not find session');
      return;
    }
    await transport.handlePostMessage(req, res).catch(() => undefined);
  }

  /** POST, GET and DELETE /mcp */
  async handleMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const header = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(header) ? header[0] : header;
    if (sessionId !== undefined) {
      const transport = this.#streamable.get(sessionId);
      if (!transport) return jsonRpcError(res, 404, -32001, 'Session not found');
      return transport.handleRequest(req, res);
    }
    if (req.method !== 'POST') return jsonRpcError(res, 400, -32000, 'Bad Request: No valid session ID provided');
    let parsed: unknown;
    try {
      parsed = JSON.parse((await readBody(req)).toString('utf8'));
    } catch {
      return jsonRpcError(res, 400, -32700, 'Parse error');
    }
    const server = createFrontServer(this.#ctx, 'streamable_http');
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.#streamable.set(id, transport);
        this.sessions.add(server, 'streamable_http');
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) this.#streamable.delete(transport.sessionId);
      this.sessions.delete(server);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, parsed);
    if (transport.sessionId === undefined) await server.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers.clear();
    await this.sessions.closeAll();
    await Promise.all([...this.#streamable.values()].map((t) => t.close().catch(() => undefined)));
    await Promise.all([...this.#sse.values()].map((t) => t.close().catch(() => undefined)));
    this.#streamable.clear();
    this.#sse.clear();
  }
}
