/**
 * The member names the envelope scanner (envelope-scan.ts) reads, and the values it recognises without
 * decoding them. Pure tables, found from a span of bytes.
 */
import { hasEscape, stringPrefix } from './json-span.ts';

// The names read, one bit each (for the masks of each object and for duplicates).
export const K_JSONRPC = 0;
export const K_ID = 1;
export const K_METHOD = 2;
export const K_PARAMS = 3;
export const K_RESULT = 4;
export const K_ERROR = 5;
export const K_NAME = 6;
export const K_URI = 7;
export const K_META = 8;
export const K_REQUEST_ID = 9;
export const K_TRACEPARENT = 10;
export const K_TRACESTATE = 11;
export const K_IS_ERROR = 12;
export const K_PROTOCOL_VERSION = 13;
export const K_CONTENT = 14;
export const K_CODE = 15;
export const K_TEXT = 16;
/**
 * Any of the names a result the inventory reads carries: a list result's `tools`, `prompts`, `resources`,
 * `resourceTemplates`, `nextCursor`, an `initialize` result's `serverInfo`.
 */
export const K_LIST = 17;
/** `params.cursor` of a list request (the passive inventory puts pages together by it). */
export const K_CURSOR = 18;

const KEYS: ReadonlyMap<string, number> = new Map([
  ['jsonrpc', K_JSONRPC],
  ['id', K_ID],
  ['method', K_METHOD],
  ['params', K_PARAMS],
  ['result', K_RESULT],
  ['error', K_ERROR],
  ['name', K_NAME],
  ['uri', K_URI],
  ['_meta', K_META],
  ['requestId', K_REQUEST_ID],
  ['traceparent', K_TRACEPARENT],
  ['tracestate', K_TRACESTATE],
  ['isError', K_IS_ERROR],
  ['protocolVersion', K_PROTOCOL_VERSION],
  ['content', K_CONTENT],
  ['code', K_CODE],
  ['text', K_TEXT],
  ['tools', K_LIST],
  ['prompts', K_LIST],
  ['resources', K_LIST],
  ['resourceTemplates', K_LIST],
  ['nextCursor', K_LIST],
  ['serverInfo', K_LIST],
  ['cursor', K_CURSOR],
]);
const LONGEST_KEY = 17;

/**
 * The names by their length, first byte and the low bit of their last byte — distinct for every name
 * above (checked here) — each then compared byte by byte.
 */
const KEY_NAMES = [...KEYS].map(([name, id]) => ({ bytes: Buffer.from(name, 'latin1'), id }));
const KEY_SLOTS = new Int8Array(2 * 256 * (LONGEST_KEY + 1)).fill(-1);
for (const [e, { bytes }] of KEY_NAMES.entries()) {
  const slot = ((bytes.length * 256 + (bytes[0] ?? 0)) << 1) | ((bytes[bytes.length - 1] ?? 0) & 1);
  if (KEY_SLOTS[slot] !== -1) throw new Error('envelope-keys: two member names share a slot');
  KEY_SLOTS[slot] = e;
}

/** The id of the member name whose content is `[s0, s1)` (escapes decoded), or -1 for any other name. */
export function keyId(b: Buffer, s0: number, s1: number): number {
  const len = s1 - s0;
  if (len === 0) return -1;
  if (len <= LONGEST_KEY) {
    const e = KEY_SLOTS[((len * 256 + (b[s0] ?? 0)) << 1) | ((b[s1 - 1] ?? 0) & 1)] ?? -1;
    const k = e < 0 ? undefined : KEY_NAMES[e];
    if (k !== undefined) {
      let j = 1;
      while (j < len && b[s0 + j] === k.bytes[j]) j++;
      if (j === len) return k.id;
    }
  }
  // A name spelled with escapes (`"jsonr\u0070c"`) is still that name; six bytes at most per character.
  if (len > 6 * LONGEST_KEY || !hasEscape(b, s0, s1)) return -1;
  return KEYS.get(stringPrefix(b, s0, s1, LONGEST_KEY + 1)) ?? -1;
}

/** Method names and protocol versions MCP traffic repeats, spelled without escapes. */
const WELL_KNOWN = [
  'initialize',
  'ping',
  'tools/call',
  'tools/list',
  'prompts/get',
  'prompts/list',
  'resources/read',
  'resources/list',
  'resources/templates/list',
  'resources/subscribe',
  'resources/unsubscribe',
  'logging/setLevel',
  'completion/complete',
  'sampling/createMessage',
  'elicitation/create',
  'roots/list',
  'notifications/initialized',
  'notifications/cancelled',
  'notifications/progress',
  'notifications/message',
  'notifications/tools/list_changed',
  'notifications/prompts/list_changed',
  'notifications/resources/list_changed',
  'notifications/resources/updated',
  'notifications/roots/list_changed',
  '2024-11-05',
  '2025-03-26',
  '2025-06-18',
  '2025-11-25',
];
const LONGEST_KNOWN = Math.max(...WELL_KNOWN.map((s) => s.length));
/** Per length and first byte (dense: a sparse array would be a dictionary), the values spelled so. */
const KNOWN_SLOTS: Array<Array<{ bytes: Buffer; value: string }> | undefined> = Array.from({ length: (LONGEST_KNOWN + 1) * 256 }, () => undefined);
for (const value of WELL_KNOWN) {
  const bytes = Buffer.from(value, 'latin1');
  (KNOWN_SLOTS[bytes.length * 256 + (bytes[0] ?? 0)] ??= []).push({ bytes, value });
}

/** The well-known value spelled `[s0, s1)`, as a constant (nothing decoded), or undefined. */
export function wellKnown(b: Buffer, s0: number, s1: number): string | undefined {
  const len = s1 - s0;
  if (len === 0 || len > LONGEST_KNOWN) return undefined;
  const candidates = KNOWN_SLOTS[len * 256 + (b[s0] ?? 0)];
  if (candidates === undefined) return undefined;
  for (const c of candidates) {
    let j = 1;
    while (j < len && b[s0 + j] === c.bytes[j]) j++;
    if (j === len) return c.value;
  }
  return undefined;
}
