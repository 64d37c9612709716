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

import { isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { quoted } from '../config/values.ts';
import { ErrorCodes } from '../errors.ts';

/** What the client gets instead of a proxied answer. */
export interface Refusal {
  readonly status: 400 | 403 | 405 | 421 | 501 | 505;
  /** The `error` field of the JSON body, and the reason logged. */
  readonly error: 'bad_request' | 'method_not_allowed' | 'not_implemented' | 'http_version_not_supported' | 'origin_not_allowed' | 'host_not_allowed';
}

/** The parts of a request head the rules read (an `IncomingMessage` has them all). */
export interface RequestHead {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  /** Flat `[name, value, …]` list, as received. */
  readonly rawHeaders: readonly string[];
}

/** Methods forwarded by default: those of a REST and MCP API (RFC 9110 §9 plus PATCH). */
export const DEFAULT_ALLOWED_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

const BAD_REQUEST: Refusal = { status: 400, error: 'bad_request' };
const NOT_ALLOWED: Refusal = { status: 405, error: 'method_not_allowed' };
const NOT_IMPLEMENTED: Refusal = { status: 501, error: 'not_implemented' };
const BAD_VERSION: Refusal = { status: 505, error: 'http_version_not_supported' };

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

/** Parses `--allowed-methods`: a comma-separated list of method tokens; `CONNECT` is never proxied. */
export function parseMethodList(raw: string): readonly string[] {
  const out: string[] = [];
  for (const part of raw.split(',')) {
    const m = part.trim().toUpperCase();
    if (m === '') continue;
    if (!/^[!#$%&'*+.^_`|~0-9A-Z-]+$/.test(m)) throw new Error(`${quoted(part.trim())} is not a method name`);
    if (m === 'CONNECT') throw new Error('CONNECT is never proxied (the sidecar is not a forward proxy)');
    if (!out.includes(m)) out.push(m);
  }
  if (out.length === 0) throw new Error('the list of methods is empty');
  return out;
}

// ── The front door: Host and Origin ──────────────────────────────────────────────────────────────────────
//
// The sidecar sends the upstream its own authority as `Host` (headers.ts), so an MCP server's DNS-rebinding
// check (allowed hosts) no longer sees the client's. These two checks see it instead. docs/security.md
// ("DNS rebinding") has the threat and what to set.

/** `--allowed-hosts`: any Host (the default), or the listed ones. */
export type HostPolicy =
  | { readonly any: true }
  | {
      readonly any: false;
      /** Host names (and bracketed IPv6 addresses) allowed on any port. */
      readonly names: ReadonlySet<string>;
      /** `host:port` pairs allowed on that port only. */
      readonly hostPorts: ReadonlySet<string>;
    };

/** `--allowed-origins`: any Origin (`*`), or only the listed ones (none by default). */
export type OriginPolicy = { readonly any: true } | { readonly any: false; readonly origins: ReadonlySet<string> };

/** A refusal of the front door; its `error` is also its `sidecar_proxy_errors_total` kind. */
export interface FrontDoorRefusal extends Refusal {
  readonly status: 403 | 421;
  readonly error: 'origin_not_allowed' | 'host_not_allowed';
  /** Published with the refusal on the proxy's error channel. */
  readonly code: typeof ErrorCodes.SIDECAR_E_ORIGIN_NOT_ALLOWED | typeof ErrorCodes.SIDECAR_E_HOST_NOT_ALLOWED;
}

/** 403, as MCP SDK servers answer a foreign `Origin`. */
export const ORIGIN_NOT_ALLOWED: FrontDoorRefusal = { status: 403, error: 'origin_not_allowed', code: ErrorCodes.SIDECAR_E_ORIGIN_NOT_ALLOWED };
/**
 * 421 Misdirected Request (RFC 9110 §15.5.20: the server will not answer for that authority), as the
 * Python MCP SDK — the composer's — answers a foreign `Host` (the TypeScript SDK answers 403).
 */
export const HOST_NOT_ALLOWED: FrontDoorRefusal = { status: 421, error: 'host_not_allowed', code: ErrorCodes.SIDECAR_E_HOST_NOT_ALLOWED };

/** Default ports dropped from an origin's serialisation (RFC 6454 §6.1; WHATWG URL "special schemes"). */
const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443', ws: '80', wss: '443' };
const AUTHORITY = String.raw`(\[[0-9A-Fa-f:.]+\]|[^/?#@\[\]:\s\\]+)(?::(\d{0,5}))?`;
const HOST_RE = new RegExp(`^${AUTHORITY}$`);
const ORIGIN_RE = new RegExp(`^([A-Za-z][A-Za-z0-9+.-]*)://${AUTHORITY}/?$`);

/** A host name or bracketed IPv6 literal, lower-cased, IDNA-encoded, without a trailing dot; `undefined` if invalid. */
function canonicalHost(host: string): string | undefined {
  if (host.charCodeAt(0) === 91 /* '[' */) return isIPv6(host.slice(1, -1)) ? host.toLowerCase() : undefined;
  const ascii = domainToASCII(host);
  if (ascii === '') return undefined;
  return ascii.endsWith('.') ? ascii.slice(0, -1) : ascii;
}

/** A port without leading zeros; `''` for none; `undefined` if out of range. */
function canonicalPort(port: string | undefined): string | undefined {
  if (port === undefined || port === '') return '';
  const n = Number(port);
  return n > 65535 ? undefined : String(n);
}

/**
 * A `Host` value as `{ host, port }` (port `''` when absent), normalised: case-insensitive, IDNA, trailing
 * dot dropped, leading zeros of the port dropped. `undefined` when it is not `host[:port]`.
 */
export function parseHostHeader(text: string): { readonly host: string; readonly port: string } | undefined {
  const m = HOST_RE.exec(text.trim());
  if (m === null) return undefined;
  const host = canonicalHost(m[1] as string);
  const port = canonicalPort(m[2]);
  return host === undefined || port === undefined ? undefined : { host, port };
}

/**
 * The serialisation of an origin (RFC 6454 §6.2, as browsers send it): `scheme://host[:port]`, scheme and
 * host lower-cased, the host IDNA-encoded, the scheme's default port dropped; `undefined` when `text` is not
 * one (a path, query, credentials, `null`, garbage). A trailing `/` is tolerated.
 */
export function serializeOrigin(text: string): string | undefined {
  const m = ORIGIN_RE.exec(text.trim());
  if (m === null) return undefined;
  const scheme = (m[1] as string).toLowerCase();
  const host = canonicalHost(m[2] as string);
  let port = canonicalPort(m[3]);
  if (host === undefined || port === undefined) return undefined;
  if (DEFAULT_PORTS[scheme] === port) port = '';
  return `${scheme}://${host}${port === '' ? '' : `:${port}`}`;
}

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

function listEntries(raw: string): string[] {
  return raw.split(',').map((p) => p.trim()).filter((p) => p !== '');
}

/**
 * Parses `--allowed-origins`: `none` (no Origin accepted: every request carrying one is refused), `*` (any
 * Origin: the check is off), or a comma-separated list of origins (`https://app.example`,
 * `http://localhost:6274`), each reduced to its serialisation. `null` is refused: any page can make a
 * browser send `Origin: null` (sandboxed frames, `file:` pages), so allowing it would allow every page.
 */
export function parseOriginList(raw: string): OriginPolicy {
  const entries = listEntries(raw);
  if (entries.length === 0) throw new Error('the list of origins is empty (write none to accept no Origin, * to accept any)');
  const single = entries.length === 1 ? (entries[0] as string).toLowerCase() : undefined;
  if (single === '*') return { any: true };
  if (single === 'none') return { any: false, origins: new Set() };
  const origins = new Set<string>();
  for (const e of entries) {
    const l = e.toLowerCase();
    if (l === '*' || l === 'none') throw new Error(`${l} stands alone: it cannot be combined with origins`);
    if (l === 'null') throw new Error('"null" is not accepted: any page can send Origin: null (sandboxed frames), so it would allow every page');
    if (e.includes('*')) throw new Error(`${quoted(e)}: wildcards are not supported; list each origin`);
    const o = serializeOrigin(e);
    if (o === undefined) throw new Error(`${quoted(e)} is not an origin (scheme://host[:port], e.g. https://app.example)`);
    origins.add(o);
  }
  return { any: false, origins };
}

/**
 * Parses `--allowed-hosts`: `*` (any Host, the default) or a comma-separated list of `host` (that host on
 * any port), `host:port` (that port only) and `[v6]` / `[v6]:port`, matched case-insensitively after IDNA
 * encoding and without a trailing dot. A `Host` without a port matches only entries without one.
 */
export function parseHostList(raw: string): HostPolicy {
  const entries = listEntries(raw);
  if (entries.length === 0) throw new Error('the list of hosts is empty (write * to accept any)');
  if (entries.length === 1 && entries[0] === '*') return { any: true };
  const names = new Set<string>();
  const hostPorts = new Set<string>();
  for (const e of entries) {
    if (e === '*') throw new Error('* stands alone: it cannot be combined with hosts');
    if (e.includes('*')) throw new Error(`${quoted(e)}: wildcards are not supported; list each host`);
    const h = parseHostHeader(e);
    if (h === undefined) throw new Error(`${quoted(e)} is not a host or host:port (e.g. mcp.example.com, 127.0.0.1:8080, [::1])`);
    if (h.port === '') names.add(h.host);
    else hostPorts.add(`${h.host}:${h.port}`);
  }
  return { any: false, names, hostPorts };
}
