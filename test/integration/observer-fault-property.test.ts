/**
 * Property (fast-check, bounded runs): whatever hook of an observer throws, on whichever exchange of a mix
 * of kinds (GET, POST with a body, SSE, MCP POST), the bytes each client receives — and the upstream
 * receives — never change, and every observer that did not throw counts exactly: two test observers on
 * either side of the thrower, and the sidecar's own (HTTP families, the MCP tap's tool calls).
 * Real sockets: an in-process sidecar in front of a plain upstream.
 */
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { McpOperation } from '../../src/sources/mcp/operations.ts';
import type { Hook, ObservationBus, ObserverHandle } from '../../src/observe/bus.ts';
import type { Exchange, ExchangeTap } from '../../src/observe/exchange.ts';
import { waitFor } from '../fixtures/demo-composer.ts';
import { histogram, scrape, value } from '../fixtures/scrape.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';
import { isSidecarOwn, readBody, startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const SESSION = '8c4f2d1e-7a3b-4e5c-9d6f-1a2b3c4d5e6f';

/** Deterministic bytes for a (size, seed): what the upstream sends and the client expects. */
function bytes(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const sseEvents = (n: number, seed: number): string[] => Array.from({ length: n }, (_, i) => `id: ${i}\ndata: ${bytes(40, seed + i).toString('base64')}\n\n`);
const mcpAnswer = (id: number, a: number, b: number) =>
  `event: message\ndata: {"result":{"content":[{"type":"text","text":"${a + b}"}]},"jsonrpc":"2.0","id":${id}}\n\n`;

type Kind = 'get' | 'post' | 'sse' | 'mcp';

/** The hooks each kind of exchange goes through. */
const HOOKS: Record<Kind, readonly Hook[]> = {
  get: ['start', 'tap.response_start', 'response', 'tap.response_body', 'tap.end', 'end'],
  post: ['start', 'tap.request_body', 'tap.response_start', 'response', 'tap.response_body', 'tap.end', 'end'],
  sse: ['start', 'tap.response_start', 'response', 'tap.response_body', 'tap.end', 'end'],
  mcp: ['start', 'tap.request_body', 'operation_start', 'tap.response_start', 'response', 'tap.response_body', 'operation_end', 'tap.end', 'end'],
};

interface Step {
  readonly kind: Kind;
  readonly size: number;
  readonly seed: number;
}

/** Counts what it sees, exactly; attaches a tap to every exchange. */
class Counter {
  starts = 0;
  responses = 0;
  ends = 0;
  requestBytes = 0;
  responseBytes = 0;
  operationStarts = 0;
  operationEnds = 0;

  register(bus: ObservationBus<McpOperation>, name: string): void {
    const tap: ExchangeTap = {
      onRequestBody: (c) => void (this.requestBytes += c.length),
      onResponseBody: (c) => void (this.responseBytes += c.length),
    };
    const handle: ObserverHandle = bus.register(name, {
      onStart: (ex) => {
        this.starts++;
        handle.addTap(ex, tap);
      },
      onResponse: () => void this.responses++,
      onEnd: () => void this.ends++,
      onOperationStart: () => void this.operationStarts++,
      onOperationEnd: () => void this.operationEnds++,
    });
  }
}

/** Throws once per run: at the `occurrence`-th call of `hook` on the `target`-th exchange of the run. */
class Thrower {
  armed: { target: number; hook: Hook; occurrence: number } | undefined;
  thrown = 0;
  #index = 0;
  #targetEx: Exchange | undefined;
  #seen = 0;

  arm(target: number, hook: Hook, occurrence: number): void {
    this.armed = { target, hook, occurrence };
    this.#index = 0;
    this.#targetEx = undefined;
    this.#seen = 0;
  }

  #maybe(hook: Hook, ex: Exchange | undefined): void {
    const armed = this.armed;
    if (armed === undefined || armed.hook !== hook || ex === undefined || ex !== this.#targetEx) return;
    if (++this.#seen !== armed.occurrence) return;
    this.armed = undefined;
    this.thrown++;
    throw new TypeError(`property fault in ${hook}`);
  }

  register(bus: ObservationBus<McpOperation>): void {
    const handle: ObserverHandle = bus.register('prop_fault', {
      onStart: (ex) => {
        if (this.#index++ === this.armed?.target) this.#targetEx = ex;
        const tap: ExchangeTap = {
          onRequestBody: () => this.#maybe('tap.request_body', ex),
          onResponseStart: () => this.#maybe('tap.response_start', ex),
          onResponseBody: () => this.#maybe('tap.response_body', ex),
          onEnd: () => this.#maybe('tap.end', ex),
        };
        handle.addTap(ex, tap);
        this.#maybe('start', ex);
      },
      onResponse: (ex) => this.#maybe('response', ex),
      onEnd: (ex) => this.#maybe('end', ex),
      onOperationStart: (op) => this.#maybe('operation_start', op.requestExchange),
      onOperationEnd: (op) => this.#maybe('operation_end', op.requestExchange),
    });
  }
}

function send(url: string, method: string, headers: Record<string, string>, body: Buffer | undefined): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(body.length) } },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let upstream: TestUpstream | undefined;
let sidecar: TestSidecar | undefined;
afterEach(async () => {
  await sidecar?.close();
  await upstream?.close();
  sidecar = undefined;
  upstream = undefined;
});

describe('a random observer hook throwing on a random exchange', () => {
  it('never changes the bytes either side receives, and every other observer counts exactly', async () => {
    const received: string[] = [];
    upstream = await startUpstream((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const size = Number(url.searchParams.get('size'));
      const seed = Number(url.searchParams.get('seed'));
      if (url.pathname === '/blob') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
        return void res.end(bytes(size, seed));
      }
      if (url.pathname === '/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        const events = sseEvents(size, seed);
        const next = (i: number): void => {
          if (i === events.length) return void res.end();
          res.write(events[i]);
          setImmediate(next, i + 1);
        };
        return next(0);
      }
      void readBody(req).then((body) => {
        if (!isSidecarOwn(req)) received.push(sha(body));
        if (url.pathname === '/echo') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          return void res.end(body);
        }
        if (url.pathname === '/mcp' && req.method === 'POST') {
          const msg = JSON.parse(body.toString('utf8')) as { id?: number; method?: string; params?: { arguments?: { a: number; b: number } } };
          const args = msg.params?.arguments;
          // Anything but the tools/call of this test (the sidecar's detection probe: a JSON object that is no
          // JSON-RPC message) is refused as a streamable server refuses it, without acting on it.
          if (msg.method !== 'tools/call' || msg.id === undefined || args === undefined)
            return void res
              .writeHead(400, { 'content-type': 'application/json' })
              .end('{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}}');
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          return void res.end(mcpAnswer(msg.id, args.a, args.b));
        }
        res.writeHead(404).end();
      });
    });
    const before = new Counter();
    const after = new Counter();
    const thrower = new Thrower();
    sidecar = await startSidecar(upstream.url, ['--no-events'], {}, (bus) => {
      before.register(bus, 'prop_before');
      thrower.register(bus);
      after.register(bus, 'prop_after');
    });
    const proxy = sidecar.proxyUrl;
    const totals = { exchanges: 0, mcp: 0, requestBytes: 0, responseBytes: 0 };
    let mcpId = 1;

    const step: fc.Arbitrary<Step> = fc.record({
      kind: fc.constantFrom<Kind>('get', 'post', 'sse', 'mcp'),
      size: fc.integer({ min: 0, max: 200_000 }),
      seed: fc.nat({ max: 1_000_000 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 1, maxLength: 6 }),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 1, max: 3 }),
        async (steps, target, hookPick, occurrence) => {
          const t = target % steps.length;
          const kind = (steps[t] as Step).kind;
          const hooks = HOOKS[kind];
          thrower.arm(t, hooks[hookPick % hooks.length] as Hook, occurrence);
          received.length = 0;
          const sent: string[] = [];
          for (const s of steps) {
            totals.exchanges++;
            if (s.kind === 'get') {
              const r = await send(`${proxy}/blob?size=${s.size}&seed=${s.seed}`, 'GET', {}, undefined);
              expect(r.status).toBe(200);
              expect(sha(r.body)).toBe(sha(bytes(s.size, s.seed)));
              totals.responseBytes += s.size;
            } else if (s.kind === 'post') {
              const body = bytes(s.size, s.seed);
              sent.push(sha(body));
              const r = await send(`${proxy}/echo`, 'POST', { 'content-type': 'application/octet-stream' }, body);
              expect(r.status).toBe(200);
              expect(sha(r.body)).toBe(sha(body));
              totals.requestBytes += s.size;
              totals.responseBytes += s.size;
            } else if (s.kind === 'sse') {
              const events = sseEvents(s.size % 20, s.seed);
              const r = await send(`${proxy}/events?size=${s.size % 20}&seed=${s.seed}`, 'GET', { accept: 'text/event-stream' }, undefined);
              expect(r.body.toString('utf8')).toBe(events.join(''));
              totals.responseBytes += r.body.length;
            } else {
              const id = mcpId++;
              const a = s.size;
              const b = s.seed;
              const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'calc_add', arguments: { a, b } } }));
              sent.push(sha(body));
              const r = await send(
                `${proxy}/mcp`,
                'POST',
                { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': SESSION },
                body,
              );
              expect(r.status).toBe(200);
              expect(r.body.toString('utf8')).toBe(mcpAnswer(id, a, b));
              totals.mcp++;
              totals.requestBytes += body.length;
              totals.responseBytes += r.body.length;
            }
          }
          expect(received).toEqual(sent);
          // An exchange ends when the sidecar sees its response close, just after the client has read it.
          await waitFor(() => before.ends === totals.exchanges && after.ends === totals.exchanges, { what: 'every exchange ended' });
          for (const c of [before, after]) {
            expect(c).toMatchObject({
              starts: totals.exchanges,
              responses: totals.exchanges,
              ends: totals.exchanges,
              requestBytes: totals.requestBytes,
              responseBytes: totals.responseBytes,
            });
            expect(c).toMatchObject({ operationStarts: totals.mcp, operationEnds: totals.mcp });
          }
        },
      ),
      { numRuns: 100 },
    );
    const m = await scrape(sidecar.metricsUrl);
    expect(thrower.thrown).toBeGreaterThan(0);
    expect(value(m, 'sidecar_observer_errors_total', { observer: 'prop_fault' })).toBe(thrower.thrown);
    expect(value(m, 'sidecar_observer_errors_total')).toBe(thrower.thrown);
    expect(value(m, 'mcp_http_requests_total')).toBe(totals.exchanges);
    expect(value(m, 'mcp_tool_invocations_total', { tool_id: 'calc_add', status: 'success' })).toBe(totals.mcp);
    const sums = (name: string) =>
      ['GET', 'POST'].flatMap((method) => ['/blob', '/echo', '/events', '/mcp'].map((endpoint) => histogram(m, name, { method, endpoint })?.sum ?? 0));
    expect(sums('mcp_http_request_size_bytes').reduce((a, b) => a + b, 0)).toBe(totals.requestBytes);
    expect(sums('mcp_http_response_size_bytes').reduce((a, b) => a + b, 0)).toBe(totals.responseBytes);
  });
});
