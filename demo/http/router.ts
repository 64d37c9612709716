// A tiny route table with Starlette-like patterns: `{name}` matches one percent-decoded segment,
// `{name:path}` the rest of the path (decoded). A path that matches with another method gives 405.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The raw request path (no query), not decoded. */
  readonly path: string;
}

export type RouteHandler = (ctx: RouteContext) => Promise<void> | void;

export interface RouteOptions {
  /** No credentials needed (health, version). Default false. */
  readonly public?: boolean;
  /** Collection name used for the 403 `required_scopes` and the catalog's resource_type. Default: the path's collection. */
  readonly resource?: string;
}

interface Route {
  readonly method: string;
  readonly parts: readonly string[];
  readonly handler: RouteHandler;
  readonly options: RouteOptions;
}

export type RouteMatch =
  | { readonly kind: 'found'; readonly handler: RouteHandler; readonly params: Record<string, string>; readonly options: RouteOptions }
  | { readonly kind: 'method'; readonly allowed: readonly string[] }
  | { readonly kind: 'none' };

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function matchParts(parts: readonly string[], segments: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    const tail = /^\{(\w+):path\}$/.exec(part);
    if (tail) {
      const rest = segments.slice(i).join('/');
      if (rest === '') return undefined;
      params[tail[1] ?? 'path'] = decode(rest);
      return params;
    }
    const seg = segments[i];
    if (seg === undefined) return undefined;
    const param = /^\{(\w+)\}$/.exec(part);
    if (param) {
      if (seg === '') return undefined;
      params[param[1] ?? 'id'] = decode(seg);
    } else if (part !== seg) return undefined;
  }
  return parts.length === segments.length ? params : undefined;
}

export class Router {
  #routes: Route[] = [];

  add(method: string, pattern: string, handler: RouteHandler, options: RouteOptions = {}): this {
    this.#routes.push({ method, parts: pattern.split('/'), handler, options });
    return this;
  }

  match(method: string, path: string): RouteMatch {
    const segments = path.split('/');
    const allowed: string[] = [];
    for (const route of this.#routes) {
      const params = matchParts(route.parts, segments);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) {
        return { kind: 'found', handler: route.handler, params, options: route.options };
      }
      allowed.push(route.method);
    }
    return allowed.length > 0 ? { kind: 'method', allowed } : { kind: 'none' };
  }
}
