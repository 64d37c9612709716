/**
 * The front door's lists (`--allowed-hosts`, `--allowed-origins`) and the canonical forms of `Host` and
 * `Origin` values they are compared in. Pure. The proxy's checks (proxy/request-policy.ts
 * `refuseFrontDoor`) match requests against what is parsed here; docs/security.md ("DNS rebinding") has the
 * threat and what to set.
 */
import { isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { quoted } from './values.ts';

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

function listEntries(raw: string): string[] {
  return raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
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
