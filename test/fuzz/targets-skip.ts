/**
 * Differential and oracle fuzzing of the WebAssembly skips (src/sources/mcp/json-skip.ts): on every
 * input, from every start the case picks, `wasmSkipValue` answers what JsonCursor's own JavaScript skip
 * answers (the index past the value, a syntax error, or too deep), and `wasmStringEnd` what its string
 * read answers; and a document skipped from 0 to its end (but whitespace) is one JSON.parse accepts, and
 * the reverse. The JavaScript skips are themselves held to JSON.parse by the envelope-scan targets.
 *
 * Inputs are printed JSON values and soups of JSON's pieces: backslash runs of every length at every
 * 16-byte alignment, `\u` escapes with good and bad digits, control characters, bytes ≥ 0x80 (valid and
 * invalid UTF-8), numbers and literals cut anywhere, and nesting near the 512 limit.
 */
import fc from 'fast-check';
import { JsonCursor, QUOTE } from '../../src/sources/mcp/json-scan.ts';
import { wasmSkipValue, wasmStringEnd } from '../../src/sources/mcp/json-skip.ts';
import { check, run, target, type FuzzTarget } from './harness.ts';

const PIECES = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  ' ',
  '\n',
  '\r',
  '\t',
  '"',
  '"',
  '"',
  '\\',
  '\\',
  '\\\\',
  '\\"',
  '\\/',
  '\\n',
  '\\u',
  '\\u00e9',
  '\\uD83D\\uDE00',
  '\\u12',
  '\\uzz00',
  '\\x',
  'u',
  '0',
  '-',
  '7',
  '12',
  '.',
  '.5',
  'e',
  'E+',
  '-0.1e-3',
  'true',
  'false',
  'null',
  'tru',
  'nul',
  'a',
  'Z',
  'é',
  '😀',
  '\u0000',
  '\u001f',
  '\u007f',
  '/',
  'b',
  'n',
  'f',
  'r',
  't',
].map((p) => Buffer.from(p, 'utf8'));
const RAW = [[0xff], [0x80], [0xc3], [0xe2, 0x82], [0xef, 0xbb, 0xbf]].map((b) => Buffer.from(b));

/** A run of `n` plain bytes: moves what follows to another alignment. */
const run_ = fc.nat({ max: 40 }).map((n) => Buffer.alloc(n, 0x61));
const piece = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...PIECES) },
  { weight: 1, arbitrary: fc.constantFrom(...RAW) },
  { weight: 4, arbitrary: run_ },
);
const soup = fc.array(piece, { maxLength: 80 }).map((p) => Buffer.concat(p));

/** A string's content: plain runs, escapes and backslash runs, so that escapes meet block edges. */
const stringBody = fc
  .array(
    fc.oneof(
      run_,
      fc.constantFrom('\\"', '\\\\', '\\\\\\"', '\\n', '\\u0041', '\\uD83D', 'é', '\\/').map((s) => Buffer.from(s)),
    ),
    { maxLength: 30 },
  )
  .map((p) => Buffer.concat([Buffer.from('"'), ...p, Buffer.from('"')]));

const value = fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v, null, v !== null && typeof v === 'object' ? 1 : undefined)));
const nested = fc
  .tuple(fc.integer({ min: 505, max: 520 }), fc.boolean())
  .map(([d, obj]) => Buffer.from(obj ? `${'{"k":'.repeat(d)}0${'}'.repeat(d)}` : `${'['.repeat(d)}${']'.repeat(d)}`));
/** A valid value with one of its bytes replaced, one cut, or one piece inserted. */
const mutated = fc.tuple(fc.oneof(value, stringBody), fc.nat(), fc.nat({ max: 2 }), piece).map(([b, at, kind, p]) => {
  const k = b.length === 0 ? 0 : at % b.length;
  if (kind === 0) return b.subarray(0, k);
  if (kind === 1) return Buffer.concat([b.subarray(0, k), p, b.subarray(k)]);
  return Buffer.concat([b.subarray(0, k), p.subarray(0, 1), b.subarray(k + 1)]);
});

const input = fc.tuple(
  fc.oneof(
    value,
    stringBody,
    soup,
    mutated,
    nested,
    fc.array(fc.oneof(value, stringBody), { maxLength: 6 }).map((v) => Buffer.from(`[${v.join(',')}]`)),
  ),
  fc.nat({ max: 20 }),
  fc.nat(),
);

/** JsonCursor's own JavaScript skip from `i`: the index past the value, -1 or -2. */
export function jsSkip(b: Buffer, i: number): number {
  const c = new JsonCursor(b, false);
  c.i = i;
  c.skip();
  return c.deep ? -2 : c.bad ? -1 : c.i;
}

/** JsonCursor's own JavaScript string read from `i` (just past the quote): the closing quote's index, or -1. */
export function jsStringEnd(b: Buffer, i: number): number {
  const c = new JsonCursor(b, false);
  c.i = i - 1;
  c.string();
  return c.bad ? -1 : c.s1;
}

const who = {};

function show(b: Buffer): string {
  return JSON.stringify(b.toString('latin1').slice(0, 2000));
}

const differential = target('mcp/json-skip: wasmSkipValue and wasmStringEnd = the JavaScript skips, from any start', [input], ([body, lead, pick]) => {
  const b = Buffer.concat([Buffer.alloc(lead, 0x20), body]);
  const starts = new Set([0, lead, pick % (b.length + 1)]);
  const q = b.indexOf(QUOTE, pick % (b.length + 1));
  if (q !== -1) starts.add(q);
  for (const i of starts) {
    const got = run('wasmSkipValue', () => wasmSkipValue(who, b, i));
    const want = jsSkip(b, i);
    check(got === want, () => `wasmSkipValue from ${i}: ${got}, the JavaScript skip ${want}, of ${show(b)}`);
    if (i < b.length && b[i] === QUOTE) {
      const end = run('wasmStringEnd', () => wasmStringEnd(who, b, i + 1));
      const wantEnd = jsStringEnd(b, i + 1);
      check(end === wantEnd, () => `wasmStringEnd from ${i + 1}: ${end}, the JavaScript string read ${wantEnd}, of ${show(b)}`);
    }
  }
});

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const oracle = target('mcp/json-skip: a document wasmSkipValue reads to its end is one JSON.parse accepts', [input], ([body, lead]) => {
  const b = Buffer.concat([Buffer.alloc(lead, 0x20), body, Buffer.alloc(lead % 3, 0x0a)]);
  const end = run('wasmSkipValue', () => wasmSkipValue(who, b, 0));
  if (end === -2) return;
  let e = end;
  while (e >= 0 && e < b.length && (b[e] === 0x20 || b[e] === 0x0a || b[e] === 0x0d || b[e] === 0x09)) e++;
  const accepted = e === b.length;
  check(
    accepted === parses(b.toString('utf8')),
    () => `wasmSkipValue ${accepted ? 'accepts' : 'refuses'} (${end}) what JSON.parse ${accepted ? 'refuses' : 'accepts'}: ${show(b)}`,
  );
});

export const SKIP_TARGETS: readonly FuzzTarget[] = [differential, oracle];
