/**
 * Header rules of a reverse proxy.
 *
 * Hop-by-hop headers (RFC 7230 §6.1) describe one connection, not the message: a proxy must remove them,
 * and every header named in `Connection`, before forwarding. `Proxy-Connection` is the non-standard
 * spelling old clients send. `Expect` is handled here, not forwarded: Node answers `100 Continue` to the
 * client itself (as nginx does) and the body is streamed upstream afterwards.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** RFC 7230 §6.1 hop-by-hop headers, lower-case. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
]);

/** Request headers that the proxy sets or handles itself and never copies from the client. */
const REQUEST_OWNED = new Set(['host', 'expect', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

/** Tokens of a `Connection` header value that name further hop-by-hop headers. */
export function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  // The values almost every message carries name no further header: answer them without splitting.
  if (value === undefined || value === 'keep-alive' || value === 'close' || value === 'Keep-Alive' || value === 'Upgrade' || value === 'upgrade')
    return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  let tokens: Set<string> | undefined;
  for (const part of text.split(',')) {
    const t = part.trim().toLowerCase();
    if (t !== '' && t !== 'close' && t !== 'keep-alive' && t !== 'upgrade') (tokens ??= new Set()).add(t);
  }
  return tokens;
}

export interface ForwardContext {
  /** The Host the upstream receives. */
  readonly host: string;
  /** The client's address, appended to X-Forwarded-For. */
  readonly remoteAddress: string | undefined;
  /** The scheme the client used to reach the proxy. */
  readonly proto: 'http' | 'https';
}

/**
 * Builds the upstream request headers from the client's raw headers (a flat `[name, value, …]` list, so
 * order, case and repeated headers are kept): hop-by-hop removed, `Host` set, `X-Forwarded-*` added.
 * `X-Forwarded-For` is appended to; `X-Forwarded-Proto` is kept when an earlier proxy set it;
 * `X-Forwarded-Host` always carries the Host the client sent to this proxy.
 */
export function upstreamRequestHeaders(rawHeaders: readonly string[], ctx: ForwardContext): string[] {
  let connection: Set<string> | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === 10 && name.toLowerCase() === 'connection') {
      const more = connectionTokens(rawHeaders[i + 1]);
      if (more !== undefined) for (const t of more) (connection ??= new Set()).add(t);
    }
  }
  const out: string[] = ['host', ctx.host];
  let xff: string | undefined;
  let xfp: string | undefined;
  let clientHost: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    const value = rawHeaders[i + 1] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || connection?.has(lower) === true) continue;
    if (REQUEST_OWNED.has(lower)) {
      if (lower === 'host') clientHost ??= value;
      else if (lower === 'x-forwarded-for') xff = xff === undefined ? value : `${xff}, ${value}`;
      else if (lower === 'x-forwarded-proto') xfp ??= value;
      continue;
    }
    out.push(name, value);
  }
  const addr = ctx.remoteAddress;
  if (addr !== undefined) out.push('x-forwarded-for', xff === undefined ? addr : `${xff}, ${addr}`);
  else if (xff !== undefined) out.push('x-forwarded-for', xff);
  out.push('x-forwarded-proto', xfp ?? ctx.proto);
  if (clientHost !== undefined) out.push('x-forwarded-host', clientHost);
  return out;
}

/** Response headers for the client: the upstream's, without hop-by-hop headers. */
export function clientResponseHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const connection = connectionTokens(headers.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || connection?.has(name) === true) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Whether a response is a Server-Sent Events stream. */
export function isEventStream(headers: IncomingHttpHeaders): boolean {
  const ct = headers['content-type'];
  return ct !== undefined && ct.length >= 17 && ct.toLowerCase().startsWith('text/event-stream');
}

/** Serialises a status line and headers for a raw socket (upgrade responses have no ServerResponse). */
export function rawResponseHead(status: number, statusText: string, headers: IncomingHttpHeaders | OutgoingHttpHeaders): string {
  let head = `HTTP/1.1 ${status} ${statusText}\r\n`;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) head += `${name}: ${v}\r\n`;
    else head += `${name}: ${String(value)}\r\n`;
  }
  return `${head}\r\n`;
}

/** Applies header overrides (`[name, value, …]`, lower-case names) to a flat header list. */
export function withOverrides(headers: string[], overrides: readonly string[] | undefined): string[] {
  if (overrides === undefined || overrides.length === 0) return headers;
  const names = new Set<string>();
  for (let i = 0; i < overrides.length; i += 2) names.add(overrides[i] as string);
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!names.has((headers[i] as string).toLowerCase())) out.push(headers[i] as string, headers[i + 1] as string);
  }
  out.push(...overrides);
  return out;
}
