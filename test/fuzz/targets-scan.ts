/**
 * Oracle fuzzing of the MCP envelope scanner (src/sources/mcp/envelope-scan.ts): for every input, either the
 * scanner falls back, or its answer is exactly (`isDeepStrictEqual`) what `parseMessages` — JSON.parse
 * and classifyMessage — answers for the same body: for bytes, of `bytes.toString('utf8')`; for text, of
 * the text. So invalid input is refused (`not_json`) exactly where JSON.parse refuses it.
 *
 * Inputs are JSON-RPC envelopes of every kind (requests, notifications, results, errors, batches; ids of
 * every type; nested and large results; unicode; escapes; whitespace everywhere), printed by a seeded
 * printer that varies whitespace, key order, escapes and number spellings; "odd" ones add duplicate keys,
 * deep nesting, list results, long values and lone surrogates; "mutated" ones are cut, flipped, given
 * invalid UTF-8, a BOM or trailing garbage. Each target tallies its fallbacks ({@link scanStats}).
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { isScanFallback, scanMessages } from '../../src/sources/mcp/envelope-scan.ts';
import { WASM_SKIP_MIN_BYTES } from '../../src/sources/mcp/json-skip.ts';
import { stringPrefix } from '../../src/sources/mcp/json-span.ts';
import { parseMessages, type ParsedMessages } from '../../src/sources/mcp/jsonrpc.ts';
import { check, run, target, type FuzzTarget } from './harness.ts';

/** An object with its members in order, duplicates allowed. */
class Obj {
  readonly entries: Array<[string, Node]>;
  constructor(entries: Array<[string, Node]>) {
    this.entries = entries;
  }
}
/** Text printed as it is (a number spelling JSON.stringify never writes, a deep nest). */
class Raw {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}
type Node = null | boolean | number | string | Raw | Obj | Node[] | { readonly [k: string]: Node };

/** mulberry32: the printer's choices, reproducible from the case's seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WS = [' ', '\n', '\t', '\r', '  ', '\r\n  ', ' \t '];
const SHORT: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '/': '\\/' };

/** Prints `node` as JSON, with whitespace, escapes, key order and number spellings chosen by `seed`. */
export function print(node: Node, seed: number): string {
  const rnd = prng(seed);
  const wsRate = [0, 0, 0.1, 0.5][Math.floor(rnd() * 4)] ?? 0;
  const escRate = [0, 0, 0.02, 0.3][Math.floor(rnd() * 4)] ?? 0;
  const shuffle = rnd() < 0.3;
  const ws = () => (rnd() < wsRate ? (WS[Math.floor(rnd() * WS.length)] ?? '') : '');
  const hex = (u: number) => {
    const h = u.toString(16).padStart(4, '0');
    return `\\u${rnd() < 0.5 ? h : h.toUpperCase()}`;
  };
  const str = (s: string): string => {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: JSON escapes exactly the control characters.
    if (escRate === 0) return `"${s.replace(/["\\\u0000-\u001f]/g, (ch) => SHORT[ch] ?? hex(ch.charCodeAt(0)))}"`;
    let out = '"';
    // By code point: a pair is escaped as two \u escapes or not at all (a lone half would stay lone).
    for (const ch of s) {
      const u = ch.charCodeAt(0);
      const must = ch === '"' || ch === '\\' || u < 0x20;
      if (must || rnd() < escRate) out += SHORT[ch] !== undefined && rnd() < 0.6 ? SHORT[ch] : ch.length === 2 ? hex(u) + hex(ch.charCodeAt(1)) : hex(u);
      else out += ch;
    }
    return `${out}"`;
  };
  const num = (x: number): string => {
    if (Object.is(x, -0)) return '-0';
    if (!Number.isFinite(x)) return 'null';
    const s = JSON.stringify(x);
    const r = rnd();
    if (r < 0.8) return s;
    if (s.includes('e')) return s.replace('e', rnd() < 0.5 ? 'E' : 'e');
    return r < 0.9 ? `${s}${s.includes('.') ? '0' : '.0'}` : `${s}e${rnd() < 0.5 ? '+' : ''}0`;
  };
  const val = (v: Node): string => {
    if (v === null) return 'null';
    if (typeof v === 'boolean') return String(v);
    if (typeof v === 'number') return num(v);
    if (typeof v === 'string') return str(v);
    if (v instanceof Raw) return v.text;
    if (Array.isArray(v)) return `[${ws()}${v.map((e) => `${val(e)}${ws()}`).join(`,${ws()}`)}]`;
    const entries = (v instanceof Obj ? [...v.entries] : Object.entries(v)).filter(([, e]) => e !== undefined);
    if (shuffle)
      for (let i = entries.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        const t = entries[i];
        entries[i] = entries[j] ?? ['', null];
        entries[j] = t ?? ['', null];
      }
    return `{${ws()}${entries.map(([k, e]) => `${str(k)}${ws()}:${ws()}${val(e)}${ws()}`).join(`,${ws()}`)}}`;
  };
  return `${ws()}${val(node)}${ws()}`;
}

// ---------------------------------------------------------------------------------------------------------
// Envelopes as clients and servers send them

const unicode = (maxLength: number) => fc.string({ unit: 'grapheme', maxLength });
const text = (maxLength: number) => fc.oneof(fc.string({ maxLength }), unicode(maxLength));
const json = (maxDepth: number): fc.Arbitrary<Node> => fc.jsonValue({ maxDepth }) as fc.Arbitrary<Node>;
const id = fc.oneof(fc.integer(), fc.nat({ max: 1000 }), fc.uuid(), text(24), fc.double({ noNaN: true, noDefaultInfinity: true }));
const toolName = fc.oneof(fc.stringMatching(/^[a-z][a-z0-9_]{0,30}$/), unicode(40), fc.constantFrom('calc_add', 'search', 'fetch_url'));
/**
 * `s` with one character replaced, inserted or removed: the near misses of a value the scanner recognises
 * from its bytes (a traceparent, `2.0`, a method name, a member name) without decoding it.
 */
const nearMiss = (s: fc.Arbitrary<string>) =>
  fc.tuple(s, fc.nat(), fc.constantFrom('-', '0', 'a', 'A', 'g', '.', '/', ' ', 'é', ''), fc.nat({ max: 2 })).map(([v, at, ch, how]) => {
    const k = v.length === 0 ? 0 : at % v.length;
    return how === 0 ? v.slice(0, k) + ch + v.slice(k + 1) : how === 1 ? v.slice(0, k) + ch + v.slice(k) : v.slice(0, k) + v.slice(k + 1);
  });
const validTraceparent = fc.stringMatching(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/);
const traceparent = fc.oneof(validTraceparent, nearMiss(validTraceparent), fc.string({ maxLength: 60 }));
const WELL_KNOWN_METHODS = [
  'tools/call',
  'tools/list',
  'prompts/get',
  'resources/read',
  'initialize',
  'ping',
  'notifications/cancelled',
  'notifications/tools/list_changed',
  '2025-06-18',
];
const meta = fc.record({ traceparent, tracestate: fc.string({ maxLength: 80 }), progressToken: fc.oneof(fc.nat(), fc.uuid()) }, { requiredKeys: [] });
const uri = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true, authoritySettings: { withUserInfo: true } }),
  fc.constantFrom('file:///etc/hosts', 'postgres://admin:secret@db/x?k=v', 'mem://a#b'),
  text(80),
);
const bigText = fc.oneof(
  { weight: 6, arbitrary: text(200) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.oneof(
          fc.string({ minLength: 1, maxLength: 20 }),
          unicode(8).filter((u) => u !== ''),
        ),
        fc.integer({ min: 10, max: 3000 }),
      )
      .map(([s, n]) => s.repeat(n)),
  },
  { weight: 1, arbitrary: fc.constantFrom('Unknown tool: x', 'Tool calc_mul not found', 'MCP error -32602: Tool x not found', 'No such tool', 'tool says hi') },
);
const item = fc.oneof(
  fc.record({ type: fc.constant('text'), text: bigText }),
  fc.record({ type: fc.constant('image'), data: fc.base64String({ maxLength: 400 }), mimeType: fc.constant('image/png') }),
  fc.record({ type: fc.constant('resource'), resource: fc.record({ uri, text: text(40) }) }),
);

const request: fc.Arbitrary<Node> = fc.oneof(
  fc.record({
    jsonrpc: fc.constant('2.0'),
    id,
    method: fc.constant('tools/call'),
    params: fc.record({ name: toolName, arguments: json(4), _meta: meta }, { requiredKeys: ['name'] }),
  }),
  fc.record({
    jsonrpc: fc.constant('2.0'),
    id,
    method: fc.constant('prompts/get'),
    params: fc.record({ name: toolName, arguments: fc.dictionary(fc.string({ maxLength: 8 }), text(20)) }, { requiredKeys: [] }),
  }),
  fc.record({ jsonrpc: fc.constant('2.0'), id, method: fc.constant('resources/read'), params: fc.record({ uri, _meta: meta }, { requiredKeys: ['uri'] }) }),
  fc.record({
    jsonrpc: fc.constant('2.0'),
    id,
    method: fc.constant('initialize'),
    params: fc.record({
      protocolVersion: fc.constantFrom('2025-06-18', '2025-03-26'),
      capabilities: json(3),
      clientInfo: fc.record({ name: text(20), version: fc.constant('1.0') }),
    }),
  }),
  fc.record({
    jsonrpc: fc.constant('2.0'),
    id,
    method: fc.constantFrom('tools/list', 'prompts/list', 'resources/list'),
    params: fc.record({ cursor: fc.oneof(text(40), fc.constant(null), fc.nat()) }, { requiredKeys: [] }),
  }),
  fc.record(
    {
      jsonrpc: fc.constant('2.0'),
      id,
      method: fc.oneof(
        fc.constantFrom('ping', 'tools/list', 'prompts/list', 'resources/list', 'logging/setLevel'),
        nearMiss(fc.constantFrom(...WELL_KNOWN_METHODS)),
        text(40),
      ),
      params: fc.option(json(3), { nil: undefined }),
    },
    { requiredKeys: ['jsonrpc', 'id', 'method'] },
  ),
) as fc.Arbitrary<Node>;
const notification: fc.Arbitrary<Node> = fc.oneof(
  fc.record({
    jsonrpc: fc.constant('2.0'),
    method: fc.constant('notifications/cancelled'),
    params: fc.record({ requestId: id, reason: text(30) }, { requiredKeys: [] }),
  }),
  fc.record(
    {
      jsonrpc: fc.constant('2.0'),
      method: fc.constantFrom('notifications/initialized', 'notifications/progress', 'notifications/tools/list_changed'),
      params: fc.option(json(3), { nil: undefined }),
    },
    { requiredKeys: ['jsonrpc', 'method'] },
  ),
) as fc.Arbitrary<Node>;
const result: fc.Arbitrary<Node> = fc.oneof(
  fc.record({ content: fc.array(item, { maxLength: 5 }), isError: fc.boolean(), structuredContent: json(5), _meta: json(2) }, { requiredKeys: ['content'] }),
  fc.record(
    {
      protocolVersion: fc.constantFrom('2025-06-18', '2025-03-26', '2024-11-05'),
      capabilities: json(3),
      serverInfo: fc.record({ name: text(20), version: fc.constant('1') }),
      instructions: text(100),
    },
    { requiredKeys: ['protocolVersion'] },
  ),
  fc.record({ contents: fc.array(fc.record({ uri, mimeType: fc.constant('text/plain'), text: bigText }), { maxLength: 3 }) }),
  fc.record(
    { messages: fc.array(fc.record({ role: fc.constantFrom('user', 'assistant'), content: item }), { maxLength: 3 }), description: text(40) },
    { requiredKeys: [] },
  ),
) as fc.Arbitrary<Node>;
const response: fc.Arbitrary<Node> = fc.oneof(
  fc.record({ jsonrpc: fc.constant('2.0'), id, result }),
  fc.record({
    jsonrpc: fc.constant('2.0'),
    id: fc.oneof(id, fc.constant(null)),
    error: fc.record(
      { code: fc.constantFrom(-32700, -32600, -32601, -32602, -32603, -32002, -32000, 1), message: text(60), data: json(3) },
      { requiredKeys: ['code', 'message'] },
    ),
  }),
) as fc.Arbitrary<Node>;
const message = fc.oneof({ weight: 3, arbitrary: request }, { weight: 1, arbitrary: notification }, { weight: 3, arbitrary: response });
/** Traffic as it is: one message, or now and then a batch. */
const ordinary: fc.Arbitrary<Node> = fc.oneof({ weight: 8, arbitrary: message }, { weight: 1, arbitrary: fc.array(message, { minLength: 1, maxLength: 5 }) });

// ---------------------------------------------------------------------------------------------------------
// Odd envelopes: everything a peer may send that is still (mostly) JSON

const deep = fc
  .tuple(fc.integer({ min: 1, max: 700 }), fc.boolean())
  .map(([n, obj]) => new Raw(obj ? `${'{"a":'.repeat(n)}1${'}'.repeat(n)}` : `${'['.repeat(n)}${']'.repeat(n)}`));
const oddId: fc.Arbitrary<Node> = fc.oneof(
  id,
  fc.constantFrom(null, true, -0, 0, 1e21, 2 ** 53 + 1),
  fc.constantFrom(new Raw('1e400'), new Raw('-1e400'), new Raw('1E2'), new Raw('-0.0e0'), new Raw(`1${'0'.repeat(70)}`), new Raw('0.1e-400')),
  fc.integer({ min: 250, max: 262 }).map((n) => 'i'.repeat(n)),
  fc.string({ unit: 'binary', maxLength: 20 }),
  json(2),
);
const oddString: fc.Arbitrary<Node> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: 250, max: 600 }).map((n) => 'n'.repeat(n)),
  fc.string({ unit: 'grapheme', minLength: 240, maxLength: 400 }),
  fc.integer({ min: 1000, max: 5000 }).map((n) => `mem://${'u'.repeat(n)}?q`),
  fc.constantFrom('2.0', '2.0 ', '1.0', '\ufffd', 'tools/call', 'notifications/cancelled', '\ud800', 'a\udc00b', 'x\ud83d', '\ud83d\ude00'),
  nearMiss(fc.constantFrom('2.0', ...WELL_KNOWN_METHODS)),
  fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('\ud800', '\udfff', '\ufffd'), fc.string({ maxLength: 10 })).map((p) => p.join('')),
  json(2),
);
const key = fc.oneof(
  fc.constantFrom('jsonrpc', 'id', 'method', 'params', 'result', 'error', 'name', 'uri', '_meta', 'requestId', 'traceparent', 'tracestate'),
  fc.constantFrom(
    'isError',
    'protocolVersion',
    'content',
    'code',
    'text',
    'tools',
    'nextCursor',
    'resources',
    '__proto__',
    'constructor',
    'jsonrpc\u0000',
    'Id',
  ),
  nearMiss(
    fc.constantFrom(
      'jsonrpc',
      'id',
      'method',
      'params',
      'result',
      'error',
      'name',
      'uri',
      '_meta',
      'requestId',
      'traceparent',
      'isError',
      'content',
      'code',
      'text',
      'tools',
    ),
  ),
  fc.string({ maxLength: 10 }),
);
const oddValue: fc.Arbitrary<Node> = fc.oneof(
  oddId,
  oddString,
  deep,
  fc.constant(
    new Obj([
      ['text', 'Unknown tool: a'],
      ['text', 5],
    ]),
  ),
);
/** A member list with repeats: relevant keys, irrelevant ones, and values of any type. */
const oddObject = (keys: fc.Arbitrary<string>, values: fc.Arbitrary<Node>) => fc.array(fc.tuple(keys, values), { maxLength: 8 }).map((e) => new Obj(e));
const oddMessage: fc.Arbitrary<Node> = fc.oneof(
  message
    .chain((m) => fc.tuple(fc.constant(m), fc.array(fc.tuple(key, oddValue), { maxLength: 3 })))
    .map(([m, extra]) => new Obj([...Object.entries(m as Record<string, Node>), ...extra])),
  fc.record(
    { jsonrpc: fc.oneof(fc.constant('2.0'), oddString), id: oddId, method: oddString, params: fc.oneof(oddObject(key, oddValue), json(2)) },
    { requiredKeys: [] },
  ),
  fc.record({
    jsonrpc: fc.constant('2.0'),
    id: oddId,
    result: fc.oneof(
      oddObject(key, oddValue),
      fc.record({ tools: fc.array(fc.record({ name: toolName }), { maxLength: 3 }), nextCursor: fc.string() }, { requiredKeys: [] }),
      json(2),
      fc.record({ isError: fc.constant(true), content: fc.array(fc.oneof(item, oddObject(key, oddValue), json(1)), { maxLength: 6 }) }),
    ),
  }),
  fc.record({ jsonrpc: fc.constant('2.0'), id: oddId, error: fc.oneof(oddObject(key, oddValue), fc.record({ code: fc.oneof(fc.double(), oddId) }), json(2)) }),
  oddObject(key, oddValue),
) as fc.Arbitrary<Node>;
const odd: fc.Arbitrary<Node> = fc.oneof(
  { weight: 6, arbitrary: oddMessage },
  { weight: 2, arbitrary: fc.array(fc.oneof(oddMessage, message, json(2)), { maxLength: 6 }) },
  { weight: 1, arbitrary: json(4) },
);

// ---------------------------------------------------------------------------------------------------------
// Mutations of printed envelopes

const BAD_UTF8 = [[0x80], [0xc0], [0xff], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xef, 0xbb, 0xbf]];
const mutation = fc.tuple(fc.nat({ max: 9 }), fc.nat(), fc.nat({ max: 255 }));
function mutate(bytes: Buffer, mutations: Array<[number, number, number]>): Buffer {
  let b = bytes;
  for (const [kind, where, byte] of mutations) {
    const at = b.length === 0 ? 0 : where % (b.length + 1);
    const bad = Buffer.from(BAD_UTF8[byte % BAD_UTF8.length] ?? []);
    switch (kind) {
      case 0:
        b = b.subarray(0, at);
        break; // truncation
      case 1:
        if (at < b.length) {
          b = Buffer.from(b);
          b[at] = byte;
        }
        break; // byte replaced
      case 2:
        if (at < b.length) {
          b = Buffer.from(b);
          b[at] = (b[at] ?? 0) ^ (1 << (byte % 8));
        }
        break; // bit flip
      case 3:
        b = Buffer.concat([b.subarray(0, at), bad, b.subarray(at)]);
        break; // invalid UTF-8
      case 4:
        b = Buffer.concat([b, Buffer.from([',', '}', ']', 'x', '\0', ' ', '{}', '1', '"'][byte % 9] ?? '')]);
        break; // trailing garbage
      case 5:
        b = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b]);
        break; // BOM
      case 6:
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
        break; // a byte deleted
      case 7:
        b = Buffer.concat([
          b.subarray(0, at),
          Buffer.from(['"', '\\', '{', '[', ':', ',', '\n', '\t', '\u0001', '-', 'e', '.'][byte % 12] ?? ''),
          b.subarray(at),
        ]);
        break;
      case 8:
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.max(0, at - (byte % 16)))]);
        break; // a slice repeated
      default: {
        // invalid UTF-8 just inside a string (a kept one, often)
        const q = b.indexOf(0x22, at);
        if (q !== -1) b = Buffer.concat([b.subarray(0, q + 1), bad, b.subarray(q + 1)]);
      }
    }
  }
  return b;
}

// ---------------------------------------------------------------------------------------------------------
// The property

/** Per target: cases, fallbacks by reason, refusals (`not_json`). */
export interface ScanStats {
  inputs: number;
  fallbacks: Record<string, number>;
  refused: number;
}

function compare(label: string, got: ParsedMessages | ReturnType<typeof scanMessages>, oracle: ParsedMessages, input: () => string, stats: ScanStats): void {
  stats.inputs++;
  if (isScanFallback(got)) {
    check(got.fallback !== 'internal', () => `${label}: the scanner failed internally on ${input()}`);
    stats.fallbacks[got.fallback] = (stats.fallbacks[got.fallback] ?? 0) + 1;
    return;
  }
  if (oracle.problem === 'not_json') stats.refused++;
  check(isDeepStrictEqual(got, oracle), () => `${label}: scan ${JSON.stringify(got)} but parseMessages ${JSON.stringify(oracle)} for ${input()}`);
}

/** Scans `bytes` (as a Buffer, as a Uint8Array view inside guard bytes, and grown to take the WebAssembly skips) and `text`, against the oracle. */
function checkInput(bytes: Buffer, text: string | undefined, pad: number, stats: ScanStats): void {
  const show = () => JSON.stringify(bytes.toString('latin1').slice(0, 3000));
  const oracle = parseMessages(bytes.toString('utf8'));
  compare(
    'bytes',
    run('scanMessages', () => scanMessages(bytes)),
    oracle,
    show,
    stats,
  );
  // A view in the middle of a larger buffer whose other bytes would change the answer if read.
  const host = new Uint8Array(bytes.length + 2 * pad).fill(0x7d);
  host.set(bytes, pad);
  const view = new Uint8Array(host.buffer, pad, bytes.length);
  compare(
    'view',
    run('scanMessages', () => scanMessages(view)),
    oracle,
    show,
    stats,
  );
  // The same document grown past WASM_SKIP_MIN_BYTES with whitespace around it, so that every skip of
  // the scan runs in the WebAssembly module (json-skip.ts); the oracle reads the same bytes.
  const grown = Buffer.concat([Buffer.alloc(pad, 0x20), bytes, Buffer.alloc(Math.max(0, WASM_SKIP_MIN_BYTES - bytes.length), 0x20)]);
  compare(
    'grown',
    run('scanMessages', () => scanMessages(grown)),
    parseMessages(grown.toString('utf8')),
    () => JSON.stringify(grown.toString('latin1').trim().slice(0, 3000)),
    stats,
  );
  if (text !== undefined)
    compare(
      'text',
      run('scanMessages', () => scanMessages(text)),
      parseMessages(text),
      () => JSON.stringify(text.slice(0, 3000)),
      stats,
    );
}

function scanTarget(name: string, arbitrary: fc.Arbitrary<[Buffer, string | undefined, number]>): FuzzTarget & { readonly stats: ScanStats } {
  const stats: ScanStats = { inputs: 0, fallbacks: {}, refused: 0 };
  return { ...target(name, [arbitrary], ([bytes, t, pad]) => checkInput(bytes, t, pad, stats)), stats, report: () => describe(stats) };
}

/** `1,234 scans, 5 fallbacks (0.405 %: depth 3, duplicate_key 2), 7 refused as not JSON`. */
function describe(stats: ScanStats): string {
  const total = Object.values(stats.fallbacks).reduce((a, n) => a + n, 0);
  const reasons = Object.entries(stats.fallbacks)
    .sort(([, a], [, b]) => b - a)
    .map(([r, n]) => `${r} ${n.toLocaleString('en')}`)
    .join(', ');
  const rate = ((100 * total) / Math.max(1, stats.inputs)).toFixed(3);
  return `${stats.inputs.toLocaleString('en')} scans, ${total.toLocaleString('en')} fallbacks (${rate} %${reasons === '' ? '' : `: ${reasons}`}), ${stats.refused.toLocaleString('en')} refused as not JSON`;
}

const printed = (nodes: fc.Arbitrary<Node>) =>
  fc.tuple(nodes, fc.integer(), fc.nat({ max: 7 })).map(([n, seed, pad]): [Buffer, string, number] => {
    const t = print(n, seed);
    return [Buffer.from(t, 'utf8'), t, pad];
  });

// ---------------------------------------------------------------------------------------------------------
// Bounded decoding of a kept string, on its own: any content, any bound

/** Pieces of a string's content as bytes: ASCII, UTF-8 of every length, invalid UTF-8, and escapes. */
const PIECES = [
  'a',
  'Z',
  ' ',
  '~',
  'é',
  '€',
  '😀',
  String.raw`\u00e9`,
  String.raw`\ud83d\ude00`,
  String.raw`\ud800`,
  String.raw`\"`,
  String.raw`\\`,
  String.raw`\/`,
  String.raw`\n`,
  String.raw`\u0000`,
].map((p) => Buffer.from(p));
const piece = fc.oneof(fc.constantFrom(...PIECES), fc.constantFrom(...BAD_UTF8.map((x) => Buffer.from(x))));
const span = target(
  'mcp/json-span: stringPrefix = JSON.parse(string).slice(0, max)',
  [
    fc.oneof(fc.array(piece, { maxLength: 40 }), fc.array(piece, { minLength: 60, maxLength: 1500, size: 'max' })),
    fc.oneof(fc.constantFrom(0, 1, 2, 4, 32, 33, 55, 56, 257, 300, 513, 4097), fc.nat({ max: 2000 })),
    fc.nat({ max: 5 }),
  ],
  (pieces, max, pad) => {
    const content = Buffer.concat(pieces);
    const b = Buffer.concat([Buffer.alloc(pad, 0x22), Buffer.from('"'), content, Buffer.from('"'), Buffer.alloc(pad, 0x5c)]);
    const expected = (
      JSON.parse(
        b
          .subarray(pad)
          .subarray(0, content.length + 2)
          .toString('utf8'),
      ) as string
    ).slice(0, max);
    const got = run('stringPrefix', () => stringPrefix(b, pad + 1, pad + 1 + content.length, max));
    check(
      got === expected,
      () => `stringPrefix(${max}) of ${JSON.stringify(content.toString('latin1'))}: ${JSON.stringify(got)} instead of ${JSON.stringify(expected)}`,
    );
  },
);

/** Ordinary traffic, odd envelopes, and mutations of both; each input is scanned as bytes, as a view, and as text. */
export const SCAN_TARGETS = [
  scanTarget('mcp/envelope-scan: scanMessages = parseMessages (ordinary envelopes)', printed(ordinary)),
  scanTarget('mcp/envelope-scan: scanMessages = parseMessages (odd envelopes)', printed(odd)),
  scanTarget(
    'mcp/envelope-scan: scanMessages = parseMessages (mutated envelopes)',
    fc.tuple(printed(fc.oneof(ordinary, odd)), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([[b, , pad], m]): [Buffer, string, number] => {
      const bytes = mutate(b, m);
      return [bytes, bytes.toString('utf8'), pad];
    }),
  ),
] as const;

export const SPAN_TARGETS: readonly FuzzTarget[] = [span];
