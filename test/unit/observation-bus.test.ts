/**
 * The observation bus without sockets: its one guard (a throwing observer never reaches the proxy, the
 * others still run), the failure count by observer, the rate-limited log, the detach after
 * OBSERVER_FAILURE_LIMIT failures (in the middle of a dispatch, without disturbing anyone else), unregister,
 * and the public channels published after the observers. Time is mocked for the log's rate limit.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { createLogger } from '../../src/log.ts';
import { CHANNEL_PREFIX, MCP_CHANNEL_PREFIX } from '../../src/observe/channels.ts';
import { Exchange, type ExchangeTap, type ProxyErrorEvent } from '../../src/observe/exchange.ts';
import { OBSERVER_FAILURE_LIMIT, OBSERVER_LOG_INTERVAL_MS, ObservationBus, type Observer, type ObserverHandle } from '../../src/observe/bus.ts';
import { FAULT_OBSERVER, registerFaultObserver } from '../../src/observe/fault-observer.ts';

interface Op {
  readonly method: string;
}

type LogLine = Record<string, unknown> & { level: number; msg: string };

function testBus(countFailure: (observer: string) => void = () => undefined) {
  const logs: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') logs.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  const failures = new Map<string, number>();
  const bus = new ObservationBus<Op>({
    logger: createLogger({ level: 'info', destination }),
    countFailure: (observer) => {
      failures.set(observer, (failures.get(observer) ?? 0) + 1);
      countFailure(observer);
    },
  });
  return { bus, logs, failures, events: (event: string) => logs.filter((l) => l['event'] === event) };
}

/** Counts every hook and tap call it receives; attaches its tap at start. */
class Recorder {
  readonly calls = new Map<string, number>();
  readonly bytes = { request: 0, response: 0 };
  handle: ObserverHandle | undefined;

  #hit(hook: string): void {
    this.calls.set(hook, (this.calls.get(hook) ?? 0) + 1);
  }

  register(bus: ObservationBus<Op>, name: string): ObserverHandle {
    const tap: ExchangeTap = {
      onRequestBody: (chunk) => {
        this.#hit('tap.request_body');
        this.bytes.request += chunk.length;
      },
      onResponseStart: () => this.#hit('tap.response_start'),
      onResponseBody: (chunk) => {
        this.#hit('tap.response_body');
        this.bytes.response += chunk.length;
      },
      onEnd: () => this.#hit('tap.end'),
    };
    const handle = bus.register(name, {
      onStart: (ex) => {
        this.#hit('start');
        handle.addTap(ex, tap);
      },
      onResponse: () => this.#hit('response'),
      onEnd: () => this.#hit('end'),
      onError: () => this.#hit('error'),
      onOperationStart: () => this.#hit('operation_start'),
      onOperationEnd: () => this.#hit('operation_end'),
    });
    this.handle = handle;
    return handle;
  }
}

/** An observer that throws from every hook, and from a tap it attaches at start. */
function thrower(bus: ObservationBus<Op>, name: string, onDetach?: () => void): { handle: ObserverHandle; calls: () => number } {
  let calls = 0;
  const boom = (): never => {
    calls++;
    throw new SyntaxError('Unexpected token in JSON: "Bearer SECRET-TOKEN"');
  };
  const tap: ExchangeTap = { onRequestBody: boom, onResponseStart: boom, onResponseBody: boom, onEnd: boom };
  const observer: Observer<Op> = {
    onStart: (ex) => {
      handle.addTap(ex, tap);
      boom();
    },
    onResponse: boom,
    onEnd: boom,
    onError: boom,
    onOperationStart: boom,
    onOperationEnd: boom,
    ...(onDetach !== undefined ? { onDetach } : {}),
  };
  const handle = bus.register(name, observer);
  return { handle, calls: () => calls };
}

const CHUNK = Buffer.alloc(100, 1);

/** One exchange through every hook, as the proxy drives the bus: `chunks` body chunks each way, then an error and an operation. */
function exchange(bus: ObservationBus<Op>, chunks = 2): Exchange {
  const ex = new Exchange('POST', '/mcp', { host: 'x' }, performance.now());
  bus.start(ex);
  for (let i = 0; i < chunks; i++) bus.tapRequestBody(ex, CHUNK);
  bus.tapResponseStart(ex);
  bus.response(ex);
  for (let i = 0; i < chunks; i++) bus.tapResponseBody(ex, CHUNK);
  bus.error('upstream_aborted', { code: 'ECONNRESET' });
  bus.operationStart({ method: 'tools/call' });
  bus.operationEnd({ method: 'tools/call' });
  bus.end(ex);
  return ex;
}

/** What a Recorder sees of `n` exchanges of `chunks` chunks each way. */
function expected(n: number, chunks = 2): Record<string, number> {
  return {
    start: n,
    response: n,
    end: n,
    error: n,
    operation_start: n,
    operation_end: n,
    'tap.request_body': n * chunks,
    'tap.response_start': n,
    'tap.response_body': n * chunks,
    'tap.end': n,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('the observation bus guard', () => {
  it('keeps a throwing observer from reaching the caller, and still calls the observers after it in every hook', () => {
    const { bus, failures } = testBus();
    const before = new Recorder();
    const after = new Recorder();
    before.register(bus, 'before');
    const bad = thrower(bus, 'bad');
    after.register(bus, 'after');
    expect(() => exchange(bus, 3)).not.toThrow();
    expect(Object.fromEntries(before.calls)).toEqual(expected(1, 3));
    expect(Object.fromEntries(after.calls)).toEqual(expected(1, 3));
    expect(after.bytes).toEqual({ request: 300, response: 300 });
    // start, 3 + 3 chunks, response start, response, error, two operations, tap end, end.
    expect(bad.calls()).toBe(14);
    expect(failures.get('bad')).toBe(14);
    expect(bad.handle.failures).toBe(14);
    expect([...failures.keys()]).toEqual(['bad']);
  });

  it('gives each hook its argument: the exchange, the chunk, the error event with its code only, the operation', () => {
    const { bus } = testBus();
    const seen: unknown[] = [];
    const handle = bus.register('args', {
      onStart: (ex) => {
        seen.push(['start', ex.path]);
        handle.addTap(ex, { onRequestBody: (c) => seen.push(['req', c.length]), onResponseBody: (c) => seen.push(['res', c.length]) });
      },
      onError: (e: ProxyErrorEvent) => seen.push(['error', e]),
      onOperationStart: (op) => seen.push(['op', op.method]),
    });
    exchange(bus, 1);
    bus.error('upstream_timeout');
    expect(seen).toEqual([
      ['start', '/mcp'],
      ['req', 100],
      ['res', 100],
      ['error', { kind: 'upstream_aborted', code: 'ECONNRESET' }],
      ['op', 'tools/call'],
      ['error', { kind: 'upstream_timeout', code: undefined }],
    ]);
  });

  it('never throws from its failure path, even when counting the failure throws', () => {
    const { bus, events } = testBus(() => {
      throw new Error('counter broken');
    });
    thrower(bus, 'bad');
    expect(() => exchange(bus)).not.toThrow();
    // A non-Error thrown value is handled too.
    bus.register('odd', {
      onResponse: () => {
        throw Symbol('odd');
      },
    });
    expect(() => exchange(bus)).not.toThrow();
    expect(events('observer_failed').map((l) => l['observer'])).toEqual(['bad', 'odd']);
    expect(events('observer_failed')[1]?.['err']).toEqual({ type: 'symbol' });
  });
});

describe('observer failure logs', () => {
  it('logs the first failure with its type and stack frames, never its message, then at most one line a minute with a count', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2025-01-01T00:00:00Z'));
    const { bus, logs, events } = testBus();
    thrower(bus, 'bad');
    exchange(bus); // 12 failures
    const first = events('observer_failed');
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ observer: 'bad', hook: 'start', err: { type: 'SyntaxError' } });
    expect(String((first[0]!['err'] as { stack: string }).stack)).toMatch(/^ {4}at /);
    expect(JSON.stringify(logs)).not.toContain('SECRET-TOKEN');
    expect(JSON.stringify(logs)).not.toContain('Unexpected token');
    exchange(bus);
    vi.setSystemTime(Date.now() + OBSERVER_LOG_INTERVAL_MS - 1);
    exchange(bus);
    expect(events('observer_failing')).toHaveLength(0);
    vi.setSystemTime(Date.now() + 1);
    exchange(bus);
    exchange(bus);
    const failing = events('observer_failing');
    expect(failing).toHaveLength(1);
    // Failures 2..37 were not logged one by one: the line carries their count.
    expect(failing[0]).toMatchObject({ observer: 'bad', hook: 'start', failures: 37, sinceLastLine: 36 });
    vi.setSystemTime(Date.now() + OBSERVER_LOG_INTERVAL_MS);
    exchange(bus);
    expect(events('observer_failing').at(-1)).toMatchObject({ failures: 61, sinceLastLine: 24 });
    expect(logs).toHaveLength(3);
  });

  it('keeps one record per observer: a second failing observer gets its own first line', () => {
    const { bus, events } = testBus();
    thrower(bus, 'one');
    thrower(bus, 'two');
    exchange(bus);
    exchange(bus);
    expect(events('observer_failed').map((l) => l['observer'])).toEqual(['one', 'two']);
  });
});

describe('detaching a failing observer', () => {
  it(`detaches it at its ${OBSERVER_FAILURE_LIMIT}th failure, in the middle of an exchange, and the others' counts stay exact`, () => {
    const { bus, failures, events } = testBus();
    const before = new Recorder();
    const after = new Recorder();
    let detached = 0;
    before.register(bus, 'before');
    const bad = thrower(bus, 'bad', () => detached++);
    after.register(bus, 'after');
    // Each exchange of 10 chunks each way costs the thrower 28 failures: the limit falls inside one.
    const perExchange = 28;
    const n = Math.ceil(OBSERVER_FAILURE_LIMIT / perExchange) + 3;
    expect(OBSERVER_FAILURE_LIMIT % perExchange).not.toBe(0);
    for (let i = 0; i < n; i++) exchange(bus, 10);
    expect(bad.calls()).toBe(OBSERVER_FAILURE_LIMIT);
    expect(failures.get('bad')).toBe(OBSERVER_FAILURE_LIMIT);
    expect(bad.handle.detached).toBe(true);
    expect(detached).toBe(1);
    expect(bus.observers).toEqual(['before', 'after']);
    expect(events('observer_detached')).toEqual([expect.objectContaining({ observer: 'bad', failures: OBSERVER_FAILURE_LIMIT })]);
    expect(Object.fromEntries(before.calls)).toEqual(expected(n, 10));
    expect(Object.fromEntries(after.calls)).toEqual(expected(n, 10));
    expect(after.bytes).toEqual({ request: n * 1000, response: n * 1000 });
  });

  it('detaches it when the limit falls inside a dispatch loop, without skipping or repeating the observer after it', () => {
    const { bus } = testBus();
    let startFailures = 0;
    const seen: string[] = [];
    bus.register('bad', {
      onStart: () => {
        startFailures++;
        throw new Error('start');
      },
    });
    bus.register('next', { onStart: (ex) => seen.push(ex.url) });
    for (let i = 0; i < OBSERVER_FAILURE_LIMIT + 5; i++) bus.start(new Exchange('GET', `/${i}`, {}, 0));
    expect(startFailures).toBe(OBSERVER_FAILURE_LIMIT);
    expect(seen).toEqual(Array.from({ length: OBSERVER_FAILURE_LIMIT + 5 }, (_, i) => `/${i}`));
  });

  it('counts a failure of onDetach itself and carries on', () => {
    const { bus, failures } = testBus();
    thrower(bus, 'bad', () => {
      throw new Error('cannot stop');
    });
    for (let i = 0; i < OBSERVER_FAILURE_LIMIT; i++) bus.response(new Exchange('GET', '/', {}, 0));
    expect(failures.get('bad')).toBe(OBSERVER_FAILURE_LIMIT + 1);
    expect(() => exchange(bus)).not.toThrow();
  });
});

describe('registering', () => {
  it('unregister stops every hook and tap of the observer, also on an exchange in flight', () => {
    const { bus } = testBus();
    const r = new Recorder();
    const other = new Recorder();
    r.register(bus, 'r');
    other.register(bus, 'other');
    const ex = new Exchange('POST', '/x', {}, 0);
    bus.start(ex);
    bus.tapRequestBody(ex, CHUNK);
    r.handle?.unregister();
    bus.tapRequestBody(ex, CHUNK);
    bus.response(ex);
    bus.end(ex);
    exchange(bus);
    expect(Object.fromEntries(r.calls)).toEqual({ start: 1, 'tap.request_body': 1 });
    expect(other.calls.get('tap.request_body')).toBe(4);
    expect(bus.observers).toEqual(['other']);
  });

  it('refuses a name that is not a fixed label value, or one already registered', () => {
    const { bus } = testBus();
    bus.register('http_metrics', {});
    expect(() => bus.register('http_metrics', {})).toThrow(/already registered/);
    for (const name of ['', 'Http', 'a b', 'a-b', '1x', 'x'.repeat(65)]) expect(() => bus.register(name, {})).toThrow(/fixed label value/);
  });

  it('tells of each observer as it registers (its failure series starts at 0 then), never of a refused one', () => {
    const registered: string[] = [];
    const bus = new ObservationBus<Op>({ logger: createLogger({ level: 'silent' }), registered: (name) => registered.push(name) });
    bus.register('http_metrics', {});
    bus.register('mcp_tap', {});
    expect(() => bus.register('mcp_tap', {})).toThrow(/already registered/);
    expect(registered).toEqual(['http_metrics', 'mcp_tap']);
  });
});

describe('the public diagnostics channels', () => {
  it('are published after the observers (taps already attached), with the same objects', () => {
    const { bus } = testBus();
    const r = new Recorder();
    r.register(bus, 'r');
    const seen: string[] = [];
    const onStart = (m: unknown) => seen.push(`start taps=${(m as Exchange).taps?.length ?? 0}`);
    const onEnd = (m: unknown) => seen.push(`end ${(m as Exchange).url}`);
    const onError = (m: unknown) => seen.push(`error ${(m as ProxyErrorEvent).kind}`);
    const onOp = (m: unknown) => seen.push(`op ${(m as Op).method}`);
    subscribe(`${CHANNEL_PREFIX}:start`, onStart);
    subscribe(`${CHANNEL_PREFIX}:end`, onEnd);
    subscribe(`${CHANNEL_PREFIX}:error`, onError);
    subscribe(`${MCP_CHANNEL_PREFIX}:operation:end`, onOp);
    try {
      exchange(bus);
    } finally {
      unsubscribe(`${CHANNEL_PREFIX}:start`, onStart);
      unsubscribe(`${CHANNEL_PREFIX}:end`, onEnd);
      unsubscribe(`${CHANNEL_PREFIX}:error`, onError);
      unsubscribe(`${MCP_CHANNEL_PREFIX}:operation:end`, onOp);
    }
    expect(seen).toEqual(['start taps=1', 'error upstream_aborted', 'op tools/call', 'end /mcp']);
  });
});

describe('the test fault observer (SIDECAR_TEST_OBSERVER_FAULT=throw)', () => {
  it('throws from every hook and from its tap on every exchange, and the observers after it see everything', () => {
    const { bus, failures, events } = testBus();
    registerFaultObserver(bus);
    const r = new Recorder();
    r.register(bus, 'r');
    exchange(bus, 4);
    expect(failures.get(FAULT_OBSERVER)).toBe(16);
    expect(new Set(events('observer_failed').map((l) => l['err']))).toEqual(
      new Set([{ type: 'SidecarError', code: 'SIDECAR_E_TEST_FAULT', stack: expect.any(String) }]),
    );
    expect(Object.fromEntries(r.calls)).toEqual(expected(1, 4));
  });

  it('is off by default, set only by its flag or environment variable, and refuses any other value (exit 2 naming the field)', () => {
    const base = ['--upstream', 'http://127.0.0.1:9', '--no-metrics-auth'];
    expect(loadConfig(base, {}).testObserverFault).toBe('off');
    expect(loadConfig(base, { SIDECAR_TEST_OBSERVER_FAULT: 'throw' }).testObserverFault).toBe('throw');
    expect(loadConfig([...base, '--test-observer-fault', 'throw'], {}).testObserverFault).toBe('throw');
    const err = (() => {
      try {
        loadConfig(base, { SIDECAR_TEST_OBSERVER_FAULT: 'yes' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe('--test-observer-fault / SIDECAR_TEST_OBSERVER_FAULT');
  });
});
