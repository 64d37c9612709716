/**
 * What observing one MCP `tools/call` over streamable HTTP costs, in process, without sockets: the
 * sidecar's observers wired as src/main.ts wires them, fed the exchanges of one session (initialize,
 * then calls) exactly as the proxy reports them to the observation bus, bodies included. Reports CPU ns per
 * call (median of rounds), the bytes allocated per call (V8's sampling heap profiler, objects already
 * collected included: all of them, and those allocated under src/sources/mcp/ — the nearest src/ frame of
 * each sample decides), and checks that every call was counted.
 *
 *   npm exec -- node bench/micro/mcp.ts [calls=50000] [rounds=7] [--no-connection] [--result-bytes N]
 *
 * `--result-bytes N` answers each call with the result the demo composer's `calc_blob` gives for
 * `bytes: N` (rows as `structuredContent`, the same JSON as text), its SSE event in reads of 16 KiB, each
 * a fresh buffer as a socket gives them: 57000, the bench's large-result case (bench/lib/large-result.ts:
 * a result of 64,581 bytes), in process.
 *
 * Every exchange comes on one client connection, as an SDK client's keep-alive connection carries its
 * session's calls; `--no-connection` leaves the connection unknown (the session key is then hashed per
 * call: run both, side by side, for what keying once per connection saves).
 */
import { Session } from 'node:inspector';
import { parseArgs } from 'node:util';
import { blobResult } from '../../demo/child/roles.ts';
import { Exchange } from '../../src/observe/exchange.ts';
import { observationPath } from './wiring.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'no-connection': { type: 'boolean', default: false }, 'result-bytes': { type: 'string', default: '0' } },
});
const calls = Number(positionals[0] ?? 50_000);
const rounds = Number(positionals[1] ?? 7);
/** The client connection's token, as the proxy gives every exchange of one connection. */
const connection = values['no-connection'] ? undefined : {};
const resultBytes = Number(values['result-bytes']);
if (!Number.isInteger(resultBytes) || resultBytes < 0) throw new Error('--result-bytes takes a whole number of bytes');
const READ_BYTES = 16 * 1024;
const LARGE_TEXT = resultBytes > 0 ? JSON.stringify(blobResult(resultBytes)) : '';

/** The SSE event answering call `id` with the large result. */
const largeAnswer = (id: number): string => `event: message\ndata: {"result":${LARGE_TEXT},"jsonrpc":"2.0","id":${id}}\n\n`;

/** `res` in reads of {@link READ_BYTES}, each a fresh buffer, as a socket gives them. */
function eachRead(res: Buffer, take: (read: Buffer) => void): void {
  for (let at = 0; at < res.length; at += READ_BYTES) take(Buffer.from(res.subarray(at, at + READ_BYTES)));
}

const { state, bus, scraper } = observationPath();

const SESSION = '3f1c2a9e-5b7d-4c11-9e0f-8a6b4d2c1e7f';
const sseHeaders = (session?: string) => ({
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  ...(session ? { 'mcp-session-id': session } : {}),
});

/** One exchange as forward.ts runs it: start, request body to the taps, response start, body, end. */
function exchange(headers: Record<string, string>, body: string, responseHeaders: Record<string, string>, answer: string): void {
  const ex = new Exchange('POST', '/mcp', headers, performance.now());
  ex.connection = connection;
  state.exchangeStarted(ex);
  const req = Buffer.from(body);
  ex.requestBytes += req.length;
  if (ex.taps !== undefined) bus.tapRequestBody(ex, req);
  ex.status = 200;
  ex.responseHeaders = responseHeaders;
  ex.headersTime = performance.now();
  ex.stream = 'sse';
  if (ex.taps !== undefined) bus.tapResponseStart(ex);
  bus.response(ex);
  const res = Buffer.from(answer);
  eachRead(res, (read) => {
    ex.responseBytes += read.length;
    if (ex.taps !== undefined) bus.tapResponseBody(ex, read);
  });
  ex.endTime = performance.now();
  state.exchangeEnded(ex);
}

const init =
  '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}';
exchange(
  { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': String(init.length) },
  init,
  sseHeaders(SESSION),
  'event: message\ndata: {"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"c","version":"1"}},"jsonrpc":"2.0","id":0}\n\n',
);

let id = 1;
/** One tools/call over streamable HTTP, its answer an SSE event. */
function call(i: number): void {
  const body = `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"calc_add","arguments":{"a":${i},"b":1}}}`;
  exchange(
    {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': SESSION,
      'mcp-protocol-version': '2025-06-18',
      'content-length': String(body.length),
    },
    body,
    sseHeaders(),
    resultBytes > 0 ? largeAnswer(id) : `event: message\ndata: {"result":{"content":[{"type":"text","text":"${i + 1}"}]},"jsonrpc":"2.0","id":${id}}\n\n`,
  );
  id++;
}

const results: number[] = [];
for (let r = 0; r < rounds + 1; r++) {
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) call(i);
  const c1 = process.cpuUsage(c0);
  if (r > 0) results.push(((c1.user + c1.system) * 1000) / calls);
}
results.sort((a, b) => a - b);

/**
 * What the bench itself spends per large answer, with nobody observing: its bytes encoded and cut into
 * reads as above (the median of as many rounds). The observation's cost is the figure above less this.
 */
function ownCost(): number | undefined {
  if (resultBytes === 0) return undefined;
  const own: number[] = [];
  let sink = 0;
  for (let r = 0; r < rounds + 1; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < calls; i++)
      eachRead(Buffer.from(largeAnswer(i)), (read) => {
        sink += read.length;
      });
    const c1 = process.cpuUsage(c0);
    if (r > 0) own.push(((c1.user + c1.system) * 1000) / calls);
  }
  if (sink === 0) throw new Error('no answer was built');
  own.sort((a, b) => a - b);
  return own[Math.floor(own.length / 2)];
}
const own = ownCost();

interface HeapNode {
  readonly callFrame: { readonly url: string };
  readonly selfSize: number;
  readonly children: readonly HeapNode[];
}
/** Bytes allocated per call over `n` calls: in all, and with src/sources/mcp/ as the nearest src/ frame. */
function allocated(n: number): { total: number; mcp: number } {
  const session = new Session();
  session.connect();
  let head: HeapNode | undefined;
  session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  for (let i = 0; i < n; i++) call(i);
  session.post('HeapProfiler.stopSampling', (err, r) => {
    if (err === null) head = r.profile.head;
  });
  session.disconnect();
  const sum = { total: 0, mcp: 0 };
  const walk = (node: HeapNode, inMcp: boolean): void => {
    const url = node.callFrame.url;
    const mcp = url.includes('/src/') ? url.includes('/src/sources/mcp/') : inMcp;
    sum.total += node.selfSize;
    if (mcp) sum.mcp += node.selfSize;
    for (const child of node.children) walk(child, mcp);
  };
  if (head !== undefined) walk(head, false);
  return { total: sum.total / n, mcp: sum.mcp / n };
}
const bytes = allocated(Math.min(calls, 20_000));

const text = await scraper.scrape();
const counted = Number(/^mcp_tool_invocations_total\{tool_id="calc_add",status="success"\} (\d+)$/m.exec(text)?.[1] ?? NaN);
console.log(
  `MCP tools/call over streamable HTTP: ${results[Math.floor(results.length / 2)]?.toFixed(0)} ns per call (median of ${rounds}; range ${results[0]?.toFixed(0)}–${results[results.length - 1]?.toFixed(0)}); ` +
    `${bytes.total.toFixed(0)} B allocated per call, ${bytes.mcp.toFixed(0)} B of them in sources/mcp; counted ${counted} of ${id - 1}` +
    (own === undefined ? '' : `; the bench's own building of each ${LARGE_TEXT.length}-character result's answer: ${own.toFixed(0)} ns`),
);

process.exit(0);
