/**
 * The MCP correlator as a property, for any interleaving of what clients, the composer and the network do
 * over both transports: legacy streams opened and cut, POSTs whose bodies are read at once, later or only
 * at their response head (chunked), answers on a POST's own SSE stream, in its JSON body, on a session's
 * GET stream or on the legacy stream, cancellations, timeouts, JSON-RPC ids reused within and across
 * sessions, stray and unreadable answers, 404s, DELETE, stateless servers, refused and failed exchanges,
 * and more sessions and requests than the bounds allow. The real correlator and a model written from its
 * rules (test/fixtures/mcp-correlator-model.ts, which knows sessions by their clients, never by key) take
 * the same events.
 *
 * After every step the correlator's decisions equal the model's (operations started and ended with their
 * outcome, dropped, unmatched and unparsed counts, sessions ended with their durations, the gauges); every
 * operation ends exactly once; an operation ends `ok` only on an answer its own client was sent under its
 * id; one session key never serves two clients; and once every exchange has ended and the timeouts have
 * passed, no session, pending request or waiting response is left.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Exchange, type ExchangeOutcome } from '../../src/observe/exchange.ts';
import { Correlator } from '../../src/sources/mcp/correlator.ts';
import type { McpMessage, ParsedMessages, ResponseMessage } from '../../src/sources/mcp/jsonrpc.ts';
import type { McpOperation } from '../../src/sources/mcp/operations.ts';
import type { McpRoute } from '../../src/sources/mcp/routes.ts';
import type { CorrelatorOptions, Flow, Read } from '../../src/sources/mcp/session.ts';
import { Model, type MExchange } from '../fixtures/mcp-correlator-model.ts';
import { cancelled, isError, ok, read, recorder, rpcError, type Log } from '../fixtures/mcp-correlator.ts';

/** Runs in every `npm test`; MCP_CORRELATOR_RUNS=100000 for a long run. */
const RUNS = Number(process.env['MCP_CORRELATOR_RUNS'] ?? 1000);

const OPTS: CorrelatorOptions = { maxPendingPerSession: 3, pendingTimeoutMs: 1000, maxSessions: 3, sessionIdleTimeoutMs: 3000 };

/** The clients: two legacy and two streamable sessions under the same two ids, and a stateless server's client. */
const CLIENTS = [
  { transport: 'sse', sid: 'A' },
  { transport: 'sse', sid: 'B' },
  { transport: 'streamable', sid: 'A' },
  { transport: 'streamable', sid: 'B' },
  { transport: 'stateless', sid: '' },
] as const;

type Answer = 'ok' | 'isError' | 'error' | 'null' | 'stray' | 'garbage' | 'too_large';
type Step =
  | { readonly k: 'connect'; readonly c: number }
  | {
      readonly k: 'post';
      readonly c: number;
      readonly ids: number[];
      readonly cancel: boolean;
      readonly bad: 'none' | 'not_json' | 'member' | 'too_large';
      readonly body: 'now' | 'later' | 'chunked';
    }
  | { readonly k: 'get'; readonly c: number; readonly status: 200 | 404 }
  | { readonly k: 'read'; readonly x: number }
  | { readonly k: 'head'; readonly x: number; readonly status: 200 | 202 | 400 | 404 | 503; readonly json: boolean }
  | { readonly k: 'answer'; readonly c: number; readonly pick: number; readonly kind: Answer; readonly own: boolean }
  | { readonly k: 'end'; readonly x: number; readonly pick: number }
  | { readonly k: 'delete'; readonly c: number; readonly status: 200 | 404 | 405 }
  | { readonly k: 'cut'; readonly c: number; readonly failed: boolean }
  | { readonly k: 'tick'; readonly ms: number };

// Stateful clients more often than the stateless one.
const client = fc.constantFrom(0, 1, 2, 2, 3, 3, 4);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ k: fc.constant('connect' as const), c: client }) },
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('post' as const),
      c: client,
      ids: fc.array(fc.nat({ max: 3 }), { maxLength: 3 }),
      cancel: fc.boolean(),
      bad: fc.constantFrom('none', 'none', 'none', 'not_json', 'member', 'too_large'),
      body: fc.constantFrom('now', 'later', 'chunked'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('get' as const), c: client, status: fc.constantFrom(200 as const, 200 as const, 404 as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('read' as const), x: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('head' as const),
      x: fc.nat(),
      status: fc.constantFrom(200 as const, 200 as const, 202 as const, 400 as const, 404 as const, 503 as const),
      json: fc.boolean(),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('answer' as const),
      c: client,
      pick: fc.nat(),
      kind: fc.constantFrom<Answer>('ok', 'ok', 'ok', 'isError', 'error', 'null', 'null', 'stray', 'garbage', 'too_large'),
      own: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('end' as const), x: fc.nat(), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('delete' as const), c: client, status: fc.constantFrom(200 as const, 404 as const, 405 as const) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('cut' as const), c: client, failed: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('tick' as const), ms: fc.nat({ max: 1500 }) }) },
);

const CONNECTIONS: readonly object[] = [{}, {}];

const NOT_JSON: ParsedMessages = { messages: [], invalid: 1, problem: 'not_json', batch: false };

/** An exchange in flight: the correlator's flow, the model's record, and what the world knows of it. */
interface Live {
  readonly flow: Flow;
  readonly m: MExchange;
  readonly client: number;
  readonly content: Read;
  head: number | undefined;
  json: boolean;
  readonly queue: ResponseMessage[];
}

class World {
  readonly c: Correlator;
  readonly log: Log;
  readonly model = new Model(OPTS);
  now = 0;
  tools = 0;
  readonly live: Live[] = [];
  /** Requests the composer received and has not answered, per client. */
  readonly owed: Array<Array<{ id: number; tool: string; via: Live }>> = CLIENTS.map(() => []);
  /** `client:id` of every `ok` answer sent to a client. */
  readonly okSent = new Set<string>();
  readonly toolOf = new Map<string, { client: number; id: number }>();

  constructor() {
    const { sink, log } = recorder();
    this.c = new Correlator(OPTS, sink);
    this.log = log;
  }

  #begin(route: McpRoute, method: string, client: number, sid: string | undefined, content: Read): Live | undefined {
    const ex = new Exchange(method, route === 'messages' ? `/messages/?session_id=${sid}` : `/${route}`, {}, this.now);
    // Two client connections that every client's exchanges share in turn, as a gateway's would: a
    // connection carries several sessions, and a session several connections.
    ex.connection = CONNECTIONS[ex.id % CONNECTIONS.length];
    const flow = this.c.begin({ route, exchange: ex, sessionId: sid, protocolVersion: undefined });
    if (flow === undefined) throw new Error('not followed');
    const m: MExchange = {
      id: ex.id,
      route,
      method,
      start: this.now,
      named: sid !== undefined,
      session: undefined,
      busy: false,
      awaiting: flow.readsBody,
      held: undefined,
      registered: [],
      settledAll: false,
    };
    this.model.begin(m, sid);
    const live: Live = { flow, m, client, content, head: undefined, json: false, queue: [] };
    this.live.push(live);
    return live;
  }

  #read(l: Live, at: number): void {
    if (!l.m.awaiting) return;
    this.c.requestRead(l.flow, l.content, at);
    this.model.requestRead(l.m, l.content, at);
  }

  #head(l: Live, status: number, assigned?: string): void {
    this.#read(l, this.now);
    l.head = status;
    this.c.responseHead(l.flow, status, assigned, this.now);
    this.model.responseHead(l.m, status, assigned, this.now);
  }

  #deliver(l: Live, r: Read): void {
    if (l.json) {
      if (r !== 'empty' && r !== 'too_large' && r !== 'stream_cut') for (const msg of r.messages) if (msg.kind === 'response') l.queue.push(msg);
      return;
    }
    this.c.responseRead(l.flow, r, this.now);
    this.model.responseRead(l.m, r, this.now);
  }

  #end(l: Live, outcome: ExchangeOutcome): void {
    this.#read(l, this.now);
    const status = l.head ?? (outcome === 'upstream_unavailable' ? 502 : outcome === 'upstream_timeout' ? 504 : outcome === 'bad_request' ? 400 : 0);
    if (l.json) {
      const r: Read = l.queue.length === 0 ? 'empty' : outcome === 'ok' ? read(...l.queue) : 'stream_cut';
      this.c.responseRead(l.flow, r, this.now);
      this.model.responseRead(l.m, r, this.now);
    }
    this.c.end(l.flow, outcome, status, this.now);
    this.model.end(l.m, outcome, status, this.now);
    this.live.splice(this.live.indexOf(l), 1);
  }

  #request(client: number, id: number, method = 'tools/call'): McpMessage {
    const tool = `t${this.tools++}`;
    this.toolOf.set(tool, { client, id });
    return { kind: 'request', id, method, toolName: tool };
  }

  /** The open stream a client's answers may go on (legacy stream, or a streamable session's GET). */
  #stream(client: number): Live | undefined {
    const spec = CLIENTS[client];
    const route = spec?.transport === 'sse' ? 'sse' : 'streamable';
    return this.live.find((l) => l.client === client && l.m.route === route && l.m.method === 'GET' && l.head === 200);
  }

  run(s: Step): void {
    const spec = CLIENTS[s.k === 'connect' || s.k === 'post' || s.k === 'get' || s.k === 'answer' || s.k === 'delete' || s.k === 'cut' ? s.c : 0];
    if (spec === undefined) return;
    switch (s.k) {
      case 'connect': {
        if (spec.transport === 'sse') {
          if (this.#stream(s.c) !== undefined) return;
          const l = this.#begin('sse', 'GET', s.c, undefined, 'empty');
          if (l === undefined) return;
          this.#head(l, 200);
          this.c.endpoint(l.flow, `/messages/?session_id=${spec.sid}`, this.now);
          this.model.endpoint(l.m, spec.sid, this.now);
        } else if (spec.transport === 'streamable') {
          const init = this.#request(s.c, 0, 'initialize');
          const l = this.#begin('streamable', 'POST', s.c, undefined, read(init));
          if (l === undefined) return;
          this.#read(l, this.now);
          this.#head(l, 200, spec.sid);
          this.#deliver(l, read(ok(0)));
          this.okSent.add(`${s.c}:0`);
          this.#end(l, 'ok');
        }
        return;
      }
      case 'post': {
        // A legacy client POSTs while its stream is open (it learned where from the stream).
        if (spec.transport === 'sse' && this.#stream(s.c) === undefined) this.run({ k: 'connect', c: s.c });
        const messages: McpMessage[] = s.ids.map((id) => this.#request(s.c, id));
        if (s.cancel) messages.push(cancelled(s.ids[0] ?? 0));
        const content: Read =
          s.bad === 'not_json'
            ? NOT_JSON
            : s.bad === 'too_large'
              ? 'too_large'
              : s.bad === 'member'
                ? { messages, invalid: 1, batch: true }
                : messages.length === 0
                  ? 'empty'
                  : read(...messages);
        const route = spec.transport === 'sse' ? 'messages' : 'streamable';
        const l = this.#begin(route, 'POST', s.c, spec.transport === 'stateless' ? undefined : spec.sid, content);
        if (l === undefined) return;
        if (s.bad === 'none' || s.bad === 'member')
          for (const m of messages) if (m.kind === 'request' && typeof m.id === 'number') this.owed[s.c]?.push({ id: m.id, tool: m.toolName ?? '', via: l });
        if (s.body === 'now') this.#read(l, this.now);
        return;
      }
      case 'get': {
        if (spec.transport !== 'streamable') return;
        const l = this.#begin('streamable', 'GET', s.c, spec.sid, 'empty');
        if (l === undefined) return;
        this.#head(l, s.status);
        if (s.status === 404) this.#end(l, 'ok');
        return;
      }
      case 'read': {
        const l = this.live[s.x % Math.max(1, this.live.length)];
        if (l !== undefined) this.#read(l, this.now);
        return;
      }
      case 'head': {
        const open = this.live.filter((x) => x.head === undefined);
        const l = open[s.x % Math.max(1, open.length)];
        if (l === undefined) return;
        this.#head(l, s.status);
        l.json = l.m.route === 'streamable' && l.m.method === 'POST' && s.status === 200 && s.json;
        return;
      }
      case 'answer': {
        const owed = this.owed[s.c] ?? [];
        // Mostly one of the last requests sent; now and then any (a late answer).
        const due = owed[s.pick % 4 === 0 ? s.pick % Math.max(1, owed.length) : owed.length - 1 - (s.pick % Math.min(3, Math.max(1, owed.length)))];
        const answered = s.kind !== 'garbage' && s.kind !== 'too_large' && s.kind !== 'null' && s.kind !== 'stray';
        // On a POST's own answer (streamable HTTP): the one that carried the request, or for what answers no
        // request, any POST of the client being answered; else on the client's stream.
        const own = answered
          ? due?.via.head === 200 && this.live.includes(due.via)
            ? due.via
            : undefined
          : this.live.find((l) => l.client === s.c && l.m.method === 'POST' && l.head === 200);
        const via = s.own && spec.transport !== 'sse' && own !== undefined ? own : spec.transport === 'stateless' ? undefined : this.#stream(s.c);
        if (via === undefined) return;
        if (s.kind === 'garbage' || s.kind === 'too_large') return this.#deliver(via, s.kind === 'garbage' ? NOT_JSON : 'too_large');
        if (s.kind === 'null') return this.#deliver(via, read(rpcError(null, -32700)));
        if (s.kind === 'stray' || due === undefined) return this.#deliver(via, read(ok(7)));
        owed.splice(owed.indexOf(due), 1);
        if (s.kind === 'ok') this.okSent.add(`${s.c}:${due.id}`);
        return this.#deliver(via, read(s.kind === 'ok' ? ok(due.id) : s.kind === 'isError' ? isError(due.id) : rpcError(due.id, -32603)));
      }
      case 'end': {
        const l = this.live[s.x % Math.max(1, this.live.length)];
        if (l === undefined) return;
        const outcomes: ExchangeOutcome[] =
          l.head === undefined ? ['client_abort', 'upstream_unavailable', 'upstream_timeout', 'bad_request'] : ['ok', 'client_abort', 'upstream_aborted'];
        this.#end(l, outcomes[s.pick % outcomes.length] ?? 'ok');
        return;
      }
      case 'delete': {
        if (spec.transport !== 'streamable') return;
        const l = this.#begin('streamable', 'DELETE', s.c, spec.sid, 'empty');
        if (l === undefined) return;
        this.#head(l, s.status);
        this.#end(l, 'ok');
        return;
      }
      case 'cut': {
        // The client's stream ends: closed by the client, or lost with the upstream.
        const l = this.#stream(s.c);
        if (l !== undefined) this.#end(l, s.failed ? 'upstream_aborted' : 'ok');
        return;
      }
      case 'tick':
        this.now += s.ms;
        this.c.sweep(this.now);
        this.model.sweep(this.now);
        return;
    }
  }

  /** The correlator's decisions so far equal the model's. */
  check(): void {
    const { log, model, c } = this;
    const exp = model.exp;
    expect(log.started.map((o) => o.toolName)).toEqual(exp.started);
    expect(new Map(log.ended.map((e) => [e.op.toolName ?? '', { outcome: e.op.outcome, errorType: e.op.errorType }]))).toEqual(exp.ended);
    expect(log.ended).toHaveLength(exp.ended.size);
    expect(tally(log.dropped)).toEqual(exp.dropped);
    expect(log.unparsed).toEqual(exp.unparsed);
    expect(log.unmatched).toBe(exp.unmatched);
    expect(log.sessions).toEqual(exp.sessions);
    for (const t of ['sse', 'streamable_http'] as const) {
      expect(c.sessionsActive(t)).toBe(model.active[t]);
      expect(c.pendingRequests(t)).toBe(model.pending[t]);
    }
    expect(c.held).toEqual({ sessions: model.sessions.size, deferred: model.deferred });
  }

  /** What holds whatever the model says. */
  invariants(): void {
    const started = new Set<McpOperation>(this.log.started);
    const ended = new Set<McpOperation>();
    const keys = new Map<string, number>();
    for (const { op } of this.log.ended) {
      expect(started.has(op)).toBe(true);
      expect(ended.has(op)).toBe(false);
      ended.add(op);
      expect(op.endTime).toBeGreaterThanOrEqual(op.startTime);
      const who = this.toolOf.get(op.toolName ?? '');
      if (who === undefined) throw new Error('unknown operation');
      if (op.outcome === 'ok') expect(this.okSent.has(`${who.client}:${who.id}`)).toBe(true);
    }
    for (const op of this.log.started) {
      const who = this.toolOf.get(op.toolName ?? '');
      if (who === undefined) throw new Error('unknown operation');
      expect(keys.get(op.sessionKey) ?? who.client).toBe(who.client);
      keys.set(op.sessionKey, who.client);
    }
  }

  /** Every exchange ends and every timeout passes: nothing may be left. */
  drain(): void {
    while (this.live.length > 0) {
      const l = this.live[0];
      if (l !== undefined) this.#end(l, l.head === undefined ? 'client_abort' : 'ok');
    }
    this.run({ k: 'tick', ms: OPTS.pendingTimeoutMs + OPTS.sessionIdleTimeoutMs });
    this.check();
    expect(this.c.held).toEqual({ sessions: 0, deferred: 0 });
    expect(this.log.ended).toHaveLength(this.log.started.length);
    for (const t of ['sse', 'streamable_http'] as const) {
      expect(this.c.sessionsActive(t)).toBe(0);
      expect(this.c.pendingRequests(t)).toBe(0);
    }
  }
}

function tally(xs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

describe('MCP correlator, as a model', () => {
  it(
    'decides as the model for any interleaving over both transports; every operation ends once; nothing crosses or leaks',
    () => {
      const paths = new Map<string, number>();
      let operations = 0;
      let steps = 0;
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 80, size: 'max' }), (list) => {
          const w = new World();
          for (const s of list) {
            w.run(s);
            w.check();
          }
          w.invariants();
          w.drain();
          w.invariants();
          for (const p of w.model.exp.paths) paths.set(p, (paths.get(p) ?? 0) + 1);
          operations += w.log.started.length;
          steps += list.length;
        }),
        { numRuns: RUNS },
      );
      if (process.env['MCP_CORRELATOR_RUNS'] !== undefined)
        console.log('mcp correlator model', { runs: RUNS, steps, operations, runsThrough: Object.fromEntries(paths) });
      // The generator reaches every rule the model has.
      expect([...paths.keys()].sort()).toEqual(
        [
          'cancelled',
          'closed by DELETE',
          'closed by a 404',
          'closed with a pending request (cancelled)',
          'closed with a pending request (upstream_unavailable)',
          'deferred response matched',
          'deferred response unmatched',
          'id-null error settles its POST',
          'idle session closed',
          'legacy session over the limit',
          'request on a closed session',
          'response deferred',
          'streamable session over the limit',
          'timeout',
        ].sort(),
      );
      expect(operations).toBeGreaterThan(RUNS);
    },
    Math.max(30_000, RUNS * 20),
  );
});
