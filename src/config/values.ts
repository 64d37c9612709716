/**
 * Pure parsers for configuration values. Each returns the parsed value or throws a plain `Error` whose
 * message says what is wrong with the value; the loader adds which field it was.
 */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 * 1024,
  mib: 1024 * 1024,
  gb: 1024 * 1024 * 1024,
  gib: 1024 * 1024 * 1024,
};

/**
 * A value as echoed in an error message: quoted, with control characters escaped and cut at 64 characters,
 * so that one invalid value cannot split the one-line error or forge a second line on stderr.
 */
export function quoted(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const SIZE_RE = /^(\d+(?:\.\d+)?)(b|kb|kib|mb|mib|gb|gib)?$/;

/** `500ms`, `15s`, `2m`, `1h`; a plain number is seconds. Returns milliseconds. */
export function parseDuration(text: string): number {
  const m = DURATION_RE.exec(text.trim().toLowerCase());
  if (m === null) throw new Error(`${quoted(text)} is not a duration (write 500ms, 15s, 2m or a number of seconds)`);
  const value = Number(m[1]) * (DURATION_UNITS[m[2] ?? 's'] ?? 1000);
  if (!Number.isFinite(value) || value > 2_147_483_647) throw new Error(`${quoted(text)} is too long a duration`);
  return Math.round(value);
}

/** `64kb`, `1mb`; a plain number is bytes. Returns bytes. */
export function parseSize(text: string): number {
  const m = SIZE_RE.exec(text.trim().toLowerCase());
  if (m === null) throw new Error(`${quoted(text)} is not a size (write 64kb, 1mb or a number of bytes)`);
  const value = Math.floor(Number(m[1]) * (SIZE_UNITS[m[2] ?? 'b'] ?? 1));
  if (!Number.isSafeInteger(value)) throw new Error(`${quoted(text)} is too large a size`);
  return value;
}

/** A non-negative integer within `[min, max]`. */
export function parseInteger(text: string, min: number, max: number): number {
  const t = text.trim();
  if (!/^\d+$/.test(t)) throw new Error(`${quoted(text)} is not a whole number`);
  const n = Number(t);
  if (n < min || n > max) throw new Error(`${n} is out of range (${min}–${max})`);
  return n;
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `HOST:PORT`, `:PORT` (all interfaces) or `[::1]:PORT`. Port 0 asks the OS for a free port. */
export function parseHostPort(text: string): HostPort {
  const t = text.trim();
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]*)):(\d{1,5})$/.exec(t);
  if (m === null) throw new Error(`${quoted(text)} is not HOST:PORT (e.g. 0.0.0.0:8080, 127.0.0.1:0, [::1]:9464)`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`port ${port} is out of range (0–65535)`);
  const host = m[1] ?? (m[2] === '' ? '0.0.0.0' : (m[2] ?? '0.0.0.0'));
  return { host, port };
}

/** An `http:` or `https:` origin; a path other than `/`, a query, a fragment or credentials are refused. */
export function parseUpstreamUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new Error(`${quoted(text)} is not a URL (e.g. http://127.0.0.1:8000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`scheme "${url.protocol.replace(/:$/, '')}" is not supported (use http or https)`);
  }
  if (url.username !== '' || url.password !== '') throw new Error('credentials in the URL are not allowed');
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new Error('must be an origin without a path, query or fragment (e.g. http://composer:8000)');
  }
  return url;
}

/** A URL path beginning with `/`, without query or fragment. */
export function parsePath(text: string): string {
  const t = text.trim();
  if (!t.startsWith('/') || /[?#\s]/.test(t)) throw new Error(`${quoted(text)} is not a path beginning with /`);
  return t;
}

/** `true/false`, `1/0`, `yes/no`, `on/off`. */
export function parseBoolean(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off'].includes(t)) return false;
  throw new Error(`${quoted(text)} is not a boolean (true or false)`);
}

/** One of `choices`. */
export function parseChoice<T extends string>(text: string, choices: readonly T[]): T {
  const t = text.trim() as T;
  if (!choices.includes(t)) throw new Error(`${quoted(text)} is not one of ${choices.join(', ')}`);
  return t;
}

/** A bearer token: visible ASCII without spaces, at least one character. Never echoed in messages. */
export function parseToken(text: string): string {
  const t = text.trim();
  if (t === '') throw new Error('the token is empty');
  if (!/^[\x21-\x7e]+$/.test(t)) throw new Error('the token contains spaces or non-ASCII characters');
  return t;
}

/** An HTTP header name (RFC 7230 token), lower-cased. */
export function parseHeaderName(text: string): string {
  const t = text.trim().toLowerCase();
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(t)) throw new Error(`${quoted(text)} is not a header name`);
  return t;
}

/** Methods forwarded by default: those of a REST and MCP API (RFC 9110 §9 plus PATCH). */
export const DEFAULT_ALLOWED_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

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
