/**
 * The source selector (sources/selector.ts) with fake sources and a fake detector: no sockets. Which
 * inventory source runs as the REST API comes and goes, one `sources_detected` line per change and none
 * without one, what a failed detection keeps, the detect timer, the upstream-up trigger, and stop racing
 * detections and switches. Only time is mocked (the detect timer).
 */
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { SourceSelector } from '../../src/sources/selector.ts';
import { feedsOf, type Feed, type SourceName, type SwitchedSource } from '../../src/sources/source.ts';
import type { Detection, SurfaceSet } from '../../src/sources/surfaces.ts';

const INTERVAL_MS = 60_000;

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A source that records what was done to it, in one log shared by all of them. */
class FakeSource implements SwitchedSource {
  readonly name: SourceName;
  readonly feeds: readonly Feed[];
  readonly #wants: (s: SurfaceSet) => boolean;
  readonly #events: string[];
  starts = 0;
  stops = 0;
  rereads = 0;
  running = false;
  readonly detections: Array<{ surfaces: SurfaceSet; composer: boolean }> = [];
  /** While set, `stop()` waits for it. */
  stopGate: Promise<void> | undefined;
  /** When set, `stop()` fails with it. */
  stopFailure: Error | undefined;

  constructor(name: SourceName, events: string[], wants: (s: SurfaceSet) => boolean = () => false) {
    this.name = name;
    this.feeds = feedsOf(name);
    this.#wants = wants;
    this.#events = events;
  }

  wants(s: SurfaceSet): boolean {
    return this.#wants(s);
  }

  detected(surfaces: SurfaceSet, composer: boolean): void {
    this.detections.push({ surfaces, composer });
  }

  start(): void {
    this.starts++;
    this.running = true;
    this.#events.push(`start ${this.name}`);
  }

  async stop(): Promise<void> {
    this.stops++;
    this.#events.push(`stop ${this.name}`);
    if (this.stopGate !== undefined) await this.stopGate;
    if (this.stopFailure !== undefined) throw this.stopFailure;
    this.running = false;
  }

  reread(): void {
    this.rereads++;
  }
}

/** Each call waits for the test's answer, in order. */
class FakeDetector {
  readonly #pending: Deferred<Detection>[] = [];
  calls = 0;

  readonly detect = (): Promise<Detection> => {
    this.calls++;
    const d = deferred<Detection>();
    this.#pending.push(d);
    return d.promise;
  };

  get waiting(): number {
    return this.#pending.length;
  }

  answer(surfaces: Detection['surfaces'], composer = false): void {
    const d = this.#pending.shift();
    if (d === undefined) throw new Error('no detection is waiting for an answer');
    d.resolve({ surfaces, composer });
  }

  fail(message: string): void {
    this.#pending.shift()?.reject(new Error(message));
  }
}

const RELEASED = { rest: false, events: false, sse: true, streamable_http: false, tools_list: true };
const WITH_REST = { rest: true, events: false, sse: true, streamable_http: true, tools_list: true };

function setup() {
  const events: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  const restObserver = new FakeSource('rest_observer', events);
  const tap = new FakeSource('mcp_tap', events);
  const stream = new FakeSource('event_stream', events);
  const poller = new FakeSource('rest_poller', events, (s) => s.rest);
  const mcp = new FakeSource('mcp_inventory', events, (s) => !s.rest);
  const detector = new FakeDetector();
  const selector = new SourceSelector({
    detect: detector.detect,
    always: [restObserver, tap, stream],
    switched: [poller, mcp],
    intervalMs: INTERVAL_MS,
    logger,
  });
  const detectedLines = () => lines.filter((l) => l['event'] === 'sources_detected');
  /** Starts the selector and answers its first detection. */
  const startWith = async (surfaces: Detection['surfaces'], composer = false) => {
    selector.start();
    const first = selector.detect();
    detector.answer(surfaces, composer);
    await first;
  };
  /** One detection now, answered with `surfaces`. */
  const detectWith = async (surfaces: Detection['surfaces'], composer = false) => {
    const done = selector.detect();
    detector.answer(surfaces, composer);
    await done;
  };
  return { events, lines, detectedLines, restObserver, tap, stream, poller, mcp, detector, selector, startWith, detectWith };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the source selector switches the inventory source as detection says', () => {
  it('starts the always-on sources in order, then runs the MCP inventory where there is no REST API', async () => {
    const t = setup();
    await t.startWith(RELEASED);
    expect(t.events).toEqual(['start rest_observer', 'start mcp_tap', 'start event_stream', 'start mcp_inventory']);
    expect(t.selector.inventory).toBe(t.mcp);
    expect(t.selector.running().map((s) => s.name)).toEqual(['rest_observer', 'mcp_tap', 'event_stream', 'mcp_inventory']);
    expect(t.selector.surfaces).toEqual(RELEASED);
    await t.selector.stop();
  });

  it('REST appears: the poller is started once the MCP inventory has stopped, and one line says so', async () => {
    const t = setup();
    await t.startWith(RELEASED);
    t.events.length = 0;
    await t.detectWith(WITH_REST);
    expect(t.events).toEqual(['stop mcp_inventory', 'start rest_poller']);
    expect(t.selector.inventory).toBe(t.poller);
    expect([t.mcp.running, t.poller.running]).toEqual([false, true]);
    expect(t.detectedLines()).toHaveLength(2);
    const line = t.detectedLines()[1];
    expect(line?.['found']).toEqual(['rest', 'sse', 'streamable_http', 'tools_list']);
    expect(line?.['sources']).toEqual(['rest_observer', 'mcp_tap', 'event_stream', 'rest_poller']);
    expect(line?.['sees']).toEqual(expect.arrayContaining(['lifecycle from REST calls and poll differences']));
    expect(line?.['feeds']).toEqual(['proxy', 'rest_calls', 'mcp_traffic', 'rest_polling', 'poll_differences']);
    await t.selector.stop();
  });

  it('REST disappears: the poller stops and the MCP inventory starts again, and what is blind is said', async () => {
    const t = setup();
    await t.startWith(WITH_REST);
    await t.detectWith(RELEASED);
    expect(t.events.slice(-2)).toEqual(['stop rest_poller', 'start mcp_inventory']);
    expect(t.selector.inventory).toBe(t.mcp);
    const line = t.detectedLines().at(-1);
    expect(line?.['blind']).toEqual(expect.arrayContaining(['server lifecycle (starts, stops, restarts, crashes)']));
    expect(line?.['sources']).toEqual(['rest_observer', 'mcp_tap', 'event_stream', 'mcp_inventory']);
    expect(line?.['feeds']).toEqual(['proxy', 'mcp_traffic', 'mcp_listing']);
    expect(line?.['msg']).toMatch(/^composer serves: sse, tools_list; the sidecar sees HTTP traffic; .*; it cannot see server lifecycle/);
    await t.selector.stop();
  });

  it('nothing changes: no log line, no restart, but every inventory source is told what was found', async () => {
    const t = setup();
    await t.startWith(WITH_REST, true);
    const before = [...t.events];
    await t.detectWith(WITH_REST, true);
    await t.detectWith({ rest: true }, true);
    expect(t.events).toEqual(before);
    expect(t.detectedLines()).toHaveLength(1);
    expect([t.poller.starts, t.poller.stops]).toEqual([1, 0]);
    expect(t.mcp.detections).toHaveLength(3);
    expect(t.mcp.detections.every((d) => d.composer && d.surfaces.rest)).toBe(true);
    await t.selector.stop();
  });

  it('without a source that wants the surfaces, none runs (the MCP inventory off, no REST)', async () => {
    const events: string[] = [];
    const poller = new FakeSource('rest_poller', events, (s) => s.rest);
    const detector = new FakeDetector();
    const logger = createLogger({ level: 'silent' });
    const selector = new SourceSelector({ detect: detector.detect, always: [], switched: [poller], intervalMs: INTERVAL_MS, logger });
    selector.start();
    const first = selector.detect();
    detector.answer(WITH_REST);
    await first;
    const second = selector.detect();
    detector.answer(RELEASED);
    await second;
    expect(events).toEqual(['start rest_poller', 'stop rest_poller']);
    expect(selector.inventory).toBeUndefined();
    await selector.stop();
    expect(poller.stops).toBe(1);
  });

  it('hands a re-read to the inventory source that runs, and to no other', async () => {
    const t = setup();
    t.selector.reread();
    await t.startWith(WITH_REST);
    t.selector.reread();
    expect([t.poller.rereads, t.mcp.rereads]).toEqual([1, 0]);
    await t.selector.stop();
  });
});

describe('the source selector keeps what it knew when detection cannot tell', () => {
  it('a detection nobody answered keeps every surface, the sources and the log as they were', async () => {
    const t = setup();
    await t.startWith(WITH_REST);
    await t.detectWith({});
    expect(t.selector.surfaces).toEqual(WITH_REST);
    expect(t.selector.inventory).toBe(t.poller);
    expect(t.detectedLines()).toHaveLength(1);
    expect(t.mcp.detections).toHaveLength(1);
    await t.selector.stop();
  });

  it('a surface that could not be asked keeps its last value; one that answered differently is a change', async () => {
    const t = setup();
    await t.startWith(WITH_REST);
    await t.detectWith({ rest: true, events: true });
    expect(t.selector.surfaces).toEqual({ ...WITH_REST, events: true });
    expect(t.detectedLines()).toHaveLength(2);
    expect([t.poller.starts, t.poller.stops]).toEqual([1, 0]);
    await t.selector.stop();
  });

  it('a detection that throws keeps what was known, and is logged once until one succeeds', async () => {
    const t = setup();
    await t.startWith(RELEASED);
    for (let i = 0; i < 3; i++) {
      const done = t.selector.detect();
      t.detector.fail('boom');
      await done;
    }
    expect(t.selector.surfaces).toEqual(RELEASED);
    expect(t.selector.inventory).toBe(t.mcp);
    expect(t.lines.filter((l) => l['event'] === 'source_detection_failed')).toHaveLength(1);
    await t.detectWith(RELEASED);
    const done = t.selector.detect();
    t.detector.fail('boom again');
    await done;
    expect(t.lines.filter((l) => l['event'] === 'source_detection_failed')).toHaveLength(2);
    expect(t.detectedLines()).toHaveLength(1);
    await t.selector.stop();
  });

  it('before any answer, nothing is said to be available and no inventory source runs', async () => {
    const t = setup();
    await t.startWith({});
    expect(t.selector.surfaces).toBeUndefined();
    expect(t.selector.inventory).toBeUndefined();
    expect(t.detectedLines()).toEqual([]);
    await t.selector.stop();
  });
});

describe('the source selector detects at start, every interval and when the upstream comes back', () => {
  it('detects again an interval after each detection ended, not before', async () => {
    const t = setup();
    await t.startWith(RELEASED);
    expect(t.detector.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS - 1);
    expect(t.detector.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.detector.calls).toBe(2);
    // The next interval runs from the end of this detection, however long it takes.
    await vi.advanceTimersByTimeAsync(5 * INTERVAL_MS);
    expect(t.detector.calls).toBe(2);
    t.detector.answer(RELEASED);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(t.detector.calls).toBe(3);
    t.detector.answer(RELEASED);
    await t.selector.stop();
    await vi.advanceTimersByTimeAsync(10 * INTERVAL_MS);
    expect(t.detector.calls).toBe(3);
  });

  it('the upstream coming back detects at once, joining a detection under way', async () => {
    const t = setup();
    t.selector.upstreamUp();
    expect(t.detector.calls).toBe(0);
    await t.startWith(RELEASED);
    t.selector.upstreamUp();
    t.selector.upstreamUp();
    expect(t.detector.calls).toBe(2);
    t.detector.answer(WITH_REST);
    await t.selector.detect();
    expect(t.selector.inventory).toBe(t.poller);
    await t.selector.stop();
    t.selector.upstreamUp();
    expect(t.detector.calls).toBe(2);
  });
});

describe('the source selector stops everything once', () => {
  it('stops the inventory source, then the always-on ones in reverse order, once each however often it is asked', async () => {
    const t = setup();
    await t.startWith(WITH_REST);
    t.events.length = 0;
    const a = t.selector.stop();
    const b = t.selector.stop();
    expect(b).toBe(a);
    await a;
    await t.selector.stop();
    expect(t.events).toEqual(['stop rest_poller', 'stop event_stream', 'stop mcp_tap', 'stop rest_observer']);
    for (const s of [t.restObserver, t.tap, t.stream, t.poller]) expect(s.stops, s.name).toBe(1);
    expect(t.mcp.stops).toBe(0);
    expect(t.selector.running()).toEqual([]);
  });

  it('a source whose stop fails is logged and the others still stop', async () => {
    const t = setup();
    await t.startWith(WITH_REST);
    t.stream.stopFailure = new Error('cannot close');
    await t.selector.stop();
    expect(t.lines.find((l) => l['event'] === 'source_stop_failed')?.['source']).toBe('event_stream');
    expect([t.tap.stops, t.restObserver.stops]).toEqual([1, 1]);
  });

  it('stopped before it started: start does nothing, and nothing is stopped', async () => {
    const t = setup();
    await t.selector.stop();
    t.selector.start();
    expect(t.events).toEqual([]);
    expect(t.detector.calls).toBe(0);
  });

  it('stopped while a detection is on its way: waits for it, starts nothing from it, logs nothing', async () => {
    const t = setup();
    t.selector.start();
    const stopping = t.selector.stop();
    t.detector.answer(WITH_REST);
    await stopping;
    expect(t.poller.starts).toBe(0);
    expect(t.detectedLines()).toEqual([]);
    expect(t.selector.surfaces).toBeUndefined();
    expect(t.events).toEqual(['start rest_observer', 'start mcp_tap', 'start event_stream', 'stop event_stream', 'stop mcp_tap', 'stop rest_observer']);
  });

  it('stopped in the middle of a switch: the old source finishes stopping, the new one never starts', async () => {
    const t = setup();
    await t.startWith(RELEASED);
    const gate = deferred<void>();
    t.mcp.stopGate = gate.promise;
    const switching = t.selector.detect();
    t.detector.answer(WITH_REST);
    await vi.advanceTimersByTimeAsync(0);
    expect(t.events.at(-1)).toBe('stop mcp_inventory');
    const stopping = t.selector.stop();
    gate.resolve();
    await switching;
    await stopping;
    expect(t.poller.starts).toBe(0);
    expect(t.mcp.stops).toBe(1);
    expect(t.events.slice(-4)).toEqual(['stop mcp_inventory', 'stop event_stream', 'stop mcp_tap', 'stop rest_observer']);
  });

  it('starts once however often it is asked', async () => {
    const t = setup();
    await t.startWith(RELEASED);
    t.selector.start();
    expect([t.restObserver.starts, t.mcp.starts, t.detector.calls]).toEqual([1, 1, 1]);
    await t.selector.stop();
  });
});
