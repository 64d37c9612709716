// The composer's one HTTP port (plain node:http): test control (/__demo/), MCP over legacy SSE (/sse,
// /messages/) and streamable HTTP (/mcp), the plain GET /tools, and the REST API under /api/v1 with rate
// limiting, authentication, authorization and the catalog's HTTP metrics. Anything else: 404 {"detail":"Not Found"}.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ComposerContext } from '../context.ts';
import type { McpHttp } from '../mcp/http-transports.ts';
import { authenticate, authorize, clientKey, RateLimiter } from './auth.ts';
import { plainTools } from './rest-capabilities.ts';
import { methodNotAllowed, notFound, sendJson } from './respond.ts';
import type { Router } from './router.ts';

export interface HttpDeps {
  readonly ctx: ComposerContext;
  readonly mcp: McpHttp;
  /** The /api/v1 routes; undefined when REST is not mounted (profile released). */
  readonly rest: Router | undefined;
  /** The /__demo/ routes; undefined without --test-control. */
  readonly testControl: Router | undefined;
  /** Serve streamable HTTP on /mcp. */
  readonly streamableHttp: boolean;
}

/** Counts the bytes written to `res`; call the returned function once the response is done. */
function countBytes(res: ServerResponse): () => number {
  let bytes = 0;
  const add = (chunk: unknown): void => {
    if (typeof chunk === 'string') bytes += Buffer.byteLength(chunk);
    else if (chunk instanceof Uint8Array) bytes += chunk.length;
  };
  const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  res.write = ((chunk: unknown, ...rest: unknown[]) => {
    add(chunk);
    return write(chunk, ...rest);
  }) as typeof res.write;
  res.end = ((...args: unknown[]) => {
    if (typeof args[0] !== 'function') add(args[0]);
    return end(...args);
  }) as typeof res.end;
  return () => bytes;
}

async function handleRest(
  deps: HttpDeps,
  limiter: RateLimiter,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
): Promise<void> {
  const { ctx } = deps;
  const method = req.method ?? 'GET';
  const started = performance.now();
  const sent = countBytes(res);
  ctx.stats.httpRequests += 1;
  res.once('close', () => {
    const reqBytes = (req as IncomingMessage & { bodyBytes?: number }).bodyBytes ?? Number(req.headers['content-length'] ?? 0);
    ctx.catalog.recordHttp(method, path, res.statusCode, (performance.now() - started) / 1000, Number.isFinite(reqBytes) ? reqBytes : 0, sent());
  });
  const limited = limiter.check(clientKey(req));
  if (limited) return sendJson(res, limited.status, limited.body, limited.headers);
  const match = deps.rest?.match(method, path) ?? { kind: 'none' as const };
  if (match.kind === 'none') return notFound(res);
  if (match.kind === 'method') return methodNotAllowed(res, match.allowed);
  let readonly = false;
  if (match.options.public !== true) {
    const auth = authenticate(req, ctx.options);
    if (!auth.ok) return sendJson(res, auth.status, auth.body, auth.headers);
    readonly = auth.readonly;
  }
  const resource = match.options.resource ?? path.split('/')[3] ?? 'api';
  const denied = authorize(method, readonly, resource);
  if (denied) return sendJson(res, denied.status, denied.body);
  await match.handler({ req, res, params: match.params, query, path });
}

async function dispatch(deps: HttpDeps, limiter: RateLimiter, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const method = req.method ?? 'GET';
  const { mcp } = deps;

  if (deps.testControl && path.startsWith('/__demo/')) {
    const m = deps.testControl.match(method, path);
    if (m.kind === 'found') return m.handler({ req, res, params: m.params, query, path });
    return m.kind === 'method' ? methodNotAllowed(res, m.allowed) : notFound(res);
  }
  if (path === '/sse') {
    if (method !== 'GET') return methodNotAllowed(res, ['GET']);
    if (mcp.refusedByHostCheck(req, res)) return;
    return mcp.openSse(res);
  }
  if (path === '/messages/' || path === '/messages') {
    if (method !== 'POST') return methodNotAllowed(res, ['POST']);
    if (mcp.refusedByHostCheck(req, res)) return;
    return mcp.postMessage(req, res, query);
  }
  if (path === '/mcp' && deps.streamableHttp) {
    if (mcp.refusedByHostCheck(req, res)) return;
    return mcp.handleMcp(req, res);
  }
  if (path === '/tools') {
    if (method !== 'GET') return methodNotAllowed(res, ['GET']);
    return plainTools(deps.ctx, res);
  }
  if (deps.rest && (path === '/api/v1' || path.startsWith('/api/v1/'))) return handleRest(deps, limiter, req, res, path, query);
  return notFound(res);
}

export function createHttpServer(deps: HttpDeps): Server {
  const limiter = new RateLimiter(deps.ctx.options.rateLimit);
  return createServer((req, res) => {
    dispatch(deps, limiter, req, res).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      deps.ctx.log.error({ err: message, url: req.url }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal_server_error', message });
      else res.destroy();
    });
  });
}
