/**
 * What the proxy port refuses before anything reaches the upstream. Pure: a request head in, a refusal (or
 * nothing) out, so every rule is unit-tested and fuzzed without sockets.
 *
 * Node's HTTP parser (llhttp, strict mode) already refuses most malformed requests before a request event
 * exists — conflicting `Content-Length`/`Transfer-Encoding` (RFC 9112 §6.3), duplicate or invalid
 * `Content-Length`, invalid header names and values, invalid methods, oversized heads, HTTP/1.1 without
 * `Host` — and the proxy answers those from its `clientError` handler. The rules here cover what llhttp
 * lets through and a reverse proxy must not forward:
 *
 * | rule | status | why |
 * | --- | --- | --- |
 * | HTTP version other than 1.0 and 1.1 (e.g. HTTP/0.9 `GET /`) | 505 | nothing else is spoken upstream |
 * | request target not in origin form (`/path`) | 400 | absolute form and `*` are for forward proxies (RFC 9112 §3.2) |
 * | method not in `--allowed-methods` | 405 + `Allow` | e.g. `TRACE` reflects credentials (cross-site tracing) |
 * | more than one `Host` | 400 | RFC 9112 §3.2: a server MUST answer 400 |
 * | `Transfer-Encoding` whose final coding is not `chunked`, `chunked` twice, or an empty element | 400 | RFC 9112 §6.1: the length cannot be determined |
 * | `Transfer-Encoding` in an HTTP/1.0 request | 400 | RFC 9112 §6.1: the framing is faulty |
 * | `Transfer-Encoding` with other codings before `chunked` | 501 | RFC 9112 §6.1: a coding the proxy does not implement |
 * | both `Transfer-Encoding` and `Content-Length` | 400 | RFC 9112 §6.1 (llhttp refuses it too; kept as a second line) |
 * | `Host` not in `--allowed-hosts` (when a list is given) | 421 | DNS rebinding: the upstream sees its own authority as `Host` and cannot check it any more |
 * | `Origin` not in `--allowed-origins` | 403 | DNS rebinding and cross-site requests from browsers (MCP transport spec: servers MUST validate `Origin`) |
 *
 * The last two are the composer's own defences moved to the front door ({@link refuseFrontDoor}).
 */

import { ErrorAnswers } from '../errors.ts';
import { parseHostHeader, serializeOrigin, type HostPolicy, type OriginPolicy } from '../config/front-door.ts';

/** What the client gets instead of a proxied answer: one of errors.ts's answers (its `error` is the reason logged). */
export type Refusal = (typeof ErrorAnswers)[
  | 'SIDECAR_E_BAD_REQUEST'
  | 'SIDECAR_E_METHOD_NOT_ALLOWED'
  | 'SIDECAR_E_NOT_IMPLEMENTED'
  | 'SIDECAR_E_HTTP_VERSION_NOT_SUPPORTED'
  | 'SIDECAR_E_ORIGIN_NOT_ALLOWED'
  | 'SIDECAR_E_HOST_NOT_ALLOWED'];

/** The parts of a request head the rules read (an `IncomingMessage` has them all). */
export interface RequestHead {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  /** Flat `[name, value, …]` list, as received. */
  readonly rawHeaders: readonly string[];
}

const BAD_REQUEST = ErrorAnswers.SIDECAR_E_BAD_REQUEST;
const NOT_ALLOWED = ErrorAnswers.SIDECAR_E_METHOD_NOT_ALLOWED;
const NOT_IMPLEMENTED = ErrorAnswers.SIDECAR_E_NOT_IMPLEMENTED;
const BAD_VERSION = ErrorAnswers.SIDECAR_E_HTTP_VERSION_NOT_SUPPORTED;

/**
 * Why a `Transfer-Encoding` field (every occurrence, joined) cannot be forwarded, or `undefined` when it is
 * exactly `chunked`, the one coding Node decodes and undici re-applies upstream.
 */
export function transferEncodingRefusal(values: readonly string[]): Refusal | undefined {
  const codings: string[] = [];
  for (const v of values) {
    for (const part of v.split(',')) {
      const c = part.trim().toLowerCase();
      // An empty element (an empty field, `chunked,`) is not "exactly chunked": refused, as nginx does,
      // rather than ignored as RFC 9110 §5.6.1 lets a lenient recipient do.
      if (c === '') return BAD_REQUEST;
      codings.push(c);
    }
  }
  if (codings.length === 0 || codings[codings.length - 1] !== 'chunked') return BAD_REQUEST;
  if (codings.indexOf('chunked') !== codings.length - 1) return BAD_REQUEST;
  return codings.length === 1 ? undefined : NOT_IMPLEMENTED;
}

/** The refusal for a request head, or `undefined` when it may be forwarded. */
export function refuseRequest(head: RequestHead, allowedMethods: ReadonlySet<string>): Refusal | undefined {
  if (head.httpVersionMajor !== 1 || (head.httpVersionMinor !== 0 && head.httpVersionMinor !== 1)) return BAD_VERSION;
  const url = head.url ?? '';
  if (url.charCodeAt(0) !== 47 /* '/' */) return BAD_REQUEST;
  if (head.method === undefined || !allowedMethods.has(head.method)) return NOT_ALLOWED;
  const raw = head.rawHeaders;
  let hosts = 0;
  let te: string[] | undefined;
  let contentLength = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const n = name.length;
    if (n === 4 && name.toLowerCase() === 'host') hosts++;
    else if (n === 17 && name.toLowerCase() === 'transfer-encoding') (te ??= []).push(raw[i + 1] ?? '');
    else if (n === 14 && name.toLowerCase() === 'content-length') contentLength = true;
  }
  if (hosts > 1) return BAD_REQUEST;
  if (te !== undefined) {
    // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    if (contentLength || head.httpVersionMinor === 0) return BAD_REQUEST;
    return transferEncodingRefusal(te);
  }
  return undefined;
}

/** Whether an upgrade request is one the proxy tunnels: a `GET` asking for `websocket` (RFC 6455 §4.1). */
export function isWebSocketUpgrade(method: string | undefined, upgrade: string | undefined): boolean {
  if (method !== 'GET' || upgrade === undefined) return false;
  for (const part of upgrade.split(',')) if (part.trim().toLowerCase() === 'websocket') return true;
  return false;
}

// ── The front door: Host and Origin ──────────────────────────────────────────────────────────────────────
//
// The sidecar sends the upstream its own authority as `Host` (headers.ts), so an MCP server's DNS-rebinding
// check (allowed hosts) no longer sees the client's. These two checks see it instead, against the lists of
// config/front-door.ts. docs/security.md ("DNS rebinding") has the threat and what to set.

/** A refusal of the front door; its `error` is also its `sidecar_proxy_errors_total` kind, its code is published with it on the error channel. */
export type FrontDoorRefusal = (typeof ErrorAnswers)['SIDECAR_E_ORIGIN_NOT_ALLOWED' | 'SIDECAR_E_HOST_NOT_ALLOWED'];

/** 403, as MCP SDK servers answer a foreign `Origin`. */
export const ORIGIN_NOT_ALLOWED: FrontDoorRefusal = ErrorAnswers.SIDECAR_E_ORIGIN_NOT_ALLOWED;
/**
 * 421 Misdirected Request (RFC 9110 §15.5.20: the server will not answer for that authority), as the
 * Python MCP SDK — the composer's — answers a foreign `Host` (the TypeScript SDK answers 403).
 */
export const HOST_NOT_ALLOWED: FrontDoorRefusal = ErrorAnswers.SIDECAR_E_HOST_NOT_ALLOWED;

function hostAllowed(raw: string | undefined, policy: Extract<HostPolicy, { any: false }>): boolean {
  if (raw === undefined) return false;
  // Fast path: a browser sends the canonical form.
  if (policy.names.has(raw) || policy.hostPorts.has(raw)) return true;
  const h = parseHostHeader(raw);
  if (h === undefined) return false;
  return policy.names.has(h.host) || (h.port !== '' && policy.hostPorts.has(`${h.host}:${h.port}`));
}

function originAllowed(raw: string, origins: ReadonlySet<string>): boolean {
  if (origins.has(raw)) return true;
  const o = serializeOrigin(raw);
  return o !== undefined && origins.has(o);
}

/**
 * The refusal of a request whose `Host` (the client's, before the proxy replaces it) or `Origin` the
 * operator did not allow, or `undefined`. A request without `Origin` (any non-browser client) passes the
 * origin check; two `Origin` fields arrive joined (`a, b`) and match nothing.
 */
export function refuseFrontDoor(host: string | undefined, origin: string | undefined, hosts: HostPolicy, origins: OriginPolicy): FrontDoorRefusal | undefined {
  if (!hosts.any && !hostAllowed(host, hosts)) return HOST_NOT_ALLOWED;
  if (origin !== undefined && !origins.any && !originAllowed(origin, origins.origins)) return ORIGIN_NOT_ALLOWED;
  return undefined;
}
