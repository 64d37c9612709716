/**
 * Content negotiation of the metrics endpoint (RFC 9110 §12.5.1): which exposition format an `Accept`
 * header asks for. Two formats are served:
 *
 * - `openmetrics`: OpenMetrics 1.0.0 (`application/openmetrics-text; version=1.0.0`), which Prometheus asks
 *   for first by default (`application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*\/*;q=0.1`);
 * - `text`: the Prometheus text format 0.0.4, the composer's own — for every other request.
 *
 * Each format takes the weight of the most specific media range that matches it (`*\/*` < `type/*` <
 * `type/subtype` < `type/subtype` with the same `version`; a range with another `version` does not match;
 * other parameters such as `charset` or `escaping` do not change the match). OpenMetrics is served only
 * when its weight is above the text format's: a tie, no header, an unparsable header or one that accepts
 * neither keeps the 0.0.4 text (an answer in a format the client did not list beats a 406 for a scraper).
 * Pure.
 */

export type ExpositionFormat = 'text' | 'openmetrics';

/** The `Content-Type` of each format. */
export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  text: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

interface Offer {
  readonly format: ExpositionFormat;
  readonly type: string;
  readonly subtype: string;
  readonly version: string;
}

const OFFERS: readonly Offer[] = [
  { format: 'openmetrics', type: 'application', subtype: 'openmetrics-text', version: '1.0.0' },
  { format: 'text', type: 'text', subtype: 'plain', version: '0.0.4' },
];

/** Media ranges read from one header, at most; the rest is ignored (a scraper sends a handful). */
export const MAX_MEDIA_RANGES = 64;

interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  readonly version: string | undefined;
  readonly q: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/** Splits `s` at `sep` outside double-quoted strings. */
function splitOutsideQuotes(s: string, sep: string, limit: number): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < s.length && parts.length < limit; i++) {
    const c = s[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (parts.length < limit) parts.push(s.slice(start));
  return parts;
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v;
}

/** One media range with its weight, or `undefined` when it is malformed (and so ignored). */
function parseRange(text: string): MediaRange | undefined {
  const [mediaType, ...params] = splitOutsideQuotes(text, ';', 32).map((p) => p.trim());
  const slash = mediaType?.indexOf('/') ?? -1;
  if (mediaType === undefined || slash <= 0) return undefined;
  const type = mediaType.slice(0, slash).toLowerCase();
  const subtype = mediaType.slice(slash + 1).toLowerCase();
  if (!TOKEN.test(type) || !TOKEN.test(subtype) || (type === '*' && subtype !== '*')) return undefined;
  let version: string | undefined;
  let q = 1;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq <= 0) return undefined;
    const name = param.slice(0, eq).trim().toLowerCase();
    const raw = param.slice(eq + 1).trim();
    if (name === 'q') {
      // A weight is a bare qvalue (never quoted).
      if (!QVALUE.test(raw)) return undefined;
      q = Number(raw);
      break; // Parameters after the weight are accept-extensions, not media type parameters.
    }
    if (name === 'version') version = unquote(raw);
  }
  return { type, subtype, version, q };
}

/** How specifically `range` matches `offer`: -1 no match, 0 `*\/*`, 1 `type/*`, 2 `type/subtype`, 3 with its version. */
function specificity(range: MediaRange, offer: Offer): number {
  if (range.type === '*') return 0;
  if (range.type !== offer.type) return -1;
  if (range.subtype === '*') return 1;
  if (range.subtype !== offer.subtype) return -1;
  if (range.version === undefined) return 2;
  return range.version === offer.version ? 3 : -1;
}

/** The weight `ranges` give `offer`: that of its most specific match (the highest among equals), else 0. */
function weight(ranges: readonly MediaRange[], offer: Offer): number {
  let best = -1;
  let q = 0;
  for (const r of ranges) {
    const s = specificity(r, offer);
    if (s < 0) continue;
    if (s > best || (s === best && r.q > q)) {
      best = s;
      q = r.q;
    }
  }
  return q;
}

/** The format to answer a request with `Accept: accept`. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined || accept.trim() === '') return 'text';
  const ranges: MediaRange[] = [];
  for (const part of splitOutsideQuotes(accept, ',', MAX_MEDIA_RANGES)) {
    const r = parseRange(part.trim());
    if (r !== undefined) ranges.push(r);
  }
  const [om, text] = OFFERS.map((o) => weight(ranges, o)) as [number, number];
  return om > text ? 'openmetrics' : 'text';
}
