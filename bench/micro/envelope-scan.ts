/**
 * What reading one MCP message costs: the envelope scanner (src/sources/mcp/envelope-scan.ts) against the full
 * parser it stands in for (`parseMessages`: `toString('utf8')` of the bytes, then JSON.parse and
 * classifyMessage), on the bodies the MCP tap reads. In process, no sockets. The two run in interleaved
 * rounds (their order alternating); each figure is the median CPU ns per message over the rounds, the
 * ratio the median of the per-round ratios. Bytes allocated per message come from V8's sampling heap
 * profiler (dead objects included). Before timing, each case checks that both give the same answer.
 *
 *   npm exec -- node bench/micro/envelope-scan.ts [rounds=9] [msPerRound=150]
 */
import { Session } from 'node:inspector';
import { isDeepStrictEqual } from 'node:util';
import { isScanFallback, scanMessages, type ScanFallback } from '../../src/sources/mcp/envelope-scan.ts';
import { parseMessages, type ParsedMessages } from '../../src/sources/mcp/jsonrpc.ts';

const rounds = Number(process.argv[2] ?? 9);
const msPerRound = Number(process.argv[3] ?? 150);

const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const call = JSON.stringify({
  jsonrpc: '2.0',
  id: 4711,
  method: 'tools/call',
  params: {
    name: 'search_documents',
    arguments: { query: 'quarterly revenue by region', limit: 20, filters: { year: 2025, region: ['emea', 'apac'] } },
    _meta: { traceparent, progressToken: 'p-4711' },
  },
});
const small = JSON.stringify({ jsonrpc: '2.0', id: 4711, result: { content: [{ type: 'text', text: 'The sum is 42.' }], isError: false } });

/** Search hits as a tool returns them; `accents` puts non-ASCII text in them (a two-byte string in V8). */
function records(n: number, accents: boolean): unknown[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `doc-${i}`,
    title: accents ? `Report ${i} — région Île-de-France` : `Report ${i} - region Ile-de-France`,
    score: Math.round(1e4 / (i + 1)) / 100,
    tags: ['finance', 'q3', `t${i % 7}`],
    author: { name: accents ? 'Zoë Ångström' : 'Zoe Angstrom', org: 'ACME' },
    excerpt: 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. "Quoted" and \\ escaped.',
  }));
}
/** A tools/call result of `target` bytes: the hits as JSON text (the classic form) and as structuredContent. */
function result(target: number): string {
  for (let n = 10; ; n += 5) {
    const rs = records(n, true);
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 4711,
      result: { content: [{ type: 'text', text: JSON.stringify(rs) }], structuredContent: { results: rs }, isError: false },
    });
    if (Buffer.byteLength(body) >= target) return body;
  }
}
const large = result(64 * 1024);
/** The data of one SSE event answering a tools/call: six hits as text, as eventsource-parser hands it over (a string). */
const sse = (accents: boolean) =>
  JSON.stringify({ result: { content: [{ type: 'text', text: JSON.stringify(records(6, accents)) }], isError: false }, jsonrpc: '2.0', id: 4711 });
const sseAscii = sse(false);
const sseAccents = sse(true);

interface Case {
  readonly name: string;
  readonly bytes: number;
  readonly parse: () => ParsedMessages;
  readonly scan: () => ParsedMessages | ScanFallback;
}
const fromBytes = (name: string, body: string): Case => {
  const b = Buffer.from(body);
  return { name, bytes: b.length, parse: () => parseMessages(b.toString('utf8')), scan: () => scanMessages(b) };
};
const fromText = (name: string, text: string): Case => ({
  name,
  bytes: Buffer.byteLength(text),
  parse: () => parseMessages(text),
  scan: () => scanMessages(text),
});
const cases: Case[] = [
  fromBytes('tools/call request (Buffer)', call),
  fromBytes('tools/call response, small result (Buffer)', small),
  fromBytes('tools/call response, 64 KiB JSON result (Buffer)', large),
  fromText('SSE event data, ASCII (string)', sseAscii),
  fromBytes('SSE event data, ASCII (Buffer)', sseAscii),
  fromText('SSE event data, with accents (string)', sseAccents),
  fromBytes('SSE event data, with accents (Buffer)', sseAccents),
];

for (const c of cases) {
  const s = c.scan();
  if (isScanFallback(s)) throw new Error(`${c.name}: the scanner fell back (${s.fallback})`);
  if (!isDeepStrictEqual(s, c.parse())) throw new Error(`${c.name}: the scanner and parseMessages disagree`);
}

/** CPU ns per call of `fn` (user + system time of this process), run for about `ms` of CPU. */
function time(fn: () => unknown, ms: number): number {
  let n = 0;
  let sink = 0;
  const start = process.cpuUsage();
  let spent = 0;
  while (spent < ms * 1000) {
    for (let k = 0; k < 64; k++) if (fn() !== undefined) sink++;
    n += 64;
    const d = process.cpuUsage(start);
    spent = d.user + d.system;
  }
  if (sink < 0) console.log(sink);
  return (spent * 1000) / n;
}

const session = new Session();
session.connect();
interface HeapNode {
  readonly selfSize: number;
  readonly children: readonly HeapNode[];
}
const heapTotal = (node: HeapNode): number => node.selfSize + node.children.reduce((a, c) => a + heapTotal(c), 0);

/** Bytes allocated per call of `fn`, estimated by the sampling heap profiler over `n` calls. */
function allocated(fn: () => unknown, n: number): number {
  let head: HeapNode | undefined;
  session.post('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  for (let i = 0; i < n; i++) fn();
  session.post('HeapProfiler.stopSampling', (err, r) => {
    if (err === null) head = r.profile.head;
  });
  return head === undefined ? NaN : heapTotal(head) / n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

console.log(`MCP envelope scanner vs parseMessages: median of ${rounds} interleaved rounds of ~${msPerRound} ms CPU each`);
console.log(
  `${'case'.padEnd(46)} ${'bytes'.padStart(6)} ${'parse ns'.padStart(9)} ${'scan ns'.padStart(9)} ${'parse÷scan'.padStart(10)} ${'parse B'.padStart(8)} ${'scan B'.padStart(8)}`,
);
for (const c of cases) {
  time(c.parse, msPerRound);
  time(c.scan, msPerRound);
  const parse: number[] = [];
  const scan: number[] = [];
  const ratio: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let p: number;
    let s: number;
    if (r % 2 === 0) {
      p = time(c.parse, msPerRound);
      s = time(c.scan, msPerRound);
    } else {
      s = time(c.scan, msPerRound);
      p = time(c.parse, msPerRound);
    }
    parse.push(p);
    scan.push(s);
    ratio.push(p / s);
  }
  const n = Math.max(200, Math.round(2e7 / c.bytes));
  const [pa, sa] = [allocated(c.parse, n), allocated(c.scan, n)];
  console.log(
    `${c.name.padEnd(46)} ${String(c.bytes).padStart(6)} ${median(parse).toFixed(0).padStart(9)} ${median(scan).toFixed(0).padStart(9)} ${`${median(ratio).toFixed(2)}×`.padStart(10)} ${pa.toFixed(0).padStart(8)} ${sa.toFixed(0).padStart(8)}`,
  );
}
session.disconnect();
