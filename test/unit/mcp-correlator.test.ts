import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Correlator } from '../../src/sources/mcp/correlator.ts';
import type { CorrelatorOptions } from '../../src/sources/mcp/session.ts';
import { begin, cancelled, finish, isError, legacyStream, ok, post, read, recorder, req, rpcError, type Log } from '../fixtures/mcp-correlator.ts';

const OPTS: CorrelatorOptions = { maxPendingPerSession: 3, pendingTimeoutMs: 1000, maxSessions: 4, sessionIdleTimeoutMs: 5000 };

function setup(opts: Partial<CorrelatorOptions> = {}): { c: Correlator; log: Log } {
  const { sink, log } = recorder();
  return { c: new Correlator({ ...OPTS, ...opts }, sink), log };
}

describe('MCP correlator', () => {
  it('ends a request with its response, timed from the request exchange start', () => {
    const { c, log } = setup();
    const stream = legacyStream(c, 'sess-1', 0);
    post(c, 'messages', 'sess-1', [req(1)], 10, 12);
    expect(c.pendingRequests('sse')).toBe(1);
    c.responseRead(stream, read(ok(1)), 110);
    expect(log.ended[0]?.op).toMatchObject({ method: 'tools/call', toolName: 'calc_add', startTime: 10, endTime: 110, outcome: 'ok' });
    expect(c.pendingRequests('sse')).toBe(0);
    expect(log.unmatched).toBe(0);
    c.responseRead(stream, read(ok(1)), 120);
    expect(log.unmatched).toBe(1);
    expect(log.ended).toHaveLength(1);
  });

  it('keeps sessions apart: the same id on two sessions correlates with its own session only', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5 })), { maxLength: 30 }), (steps) => {
        const { c, log } = setup({ maxPendingPerSession: 100 });
        const expected: string[] = [];
        for (const [first, id] of steps) {
          const name = `${first ? 'a' : 'b'}${id}`;
          const before = log.started.length;
          const flow = post(c, 'streamable', first ? 'A' : 'B', [req(id, 'tools/call', name)], 0);
          // Answer immediately, on the same session.
          finish(c, flow, 1, [ok(id)]);
          if (log.started.length > before) expected.push(name);
        }
        expect(log.ended.map((e) => e.op.toolName)).toEqual(expected);
        expect(log.unmatched).toBe(0);
      }),
    );
  });

  it('never stores or exposes the session id: the key is opaque and differs per transport', () => {
    const { c, log } = setup();
    legacyStream(c, 'secret-session-id', 0);
    post(c, 'messages', 'secret-session-id', [req(1)], 0);
    post(c, 'streamable', 'secret-session-id', [req(1)], 0);
    const [legacy, streamable] = log.started;
    expect(legacy?.sessionKey).not.toContain('secret');
    expect(streamable?.sessionKey).not.toContain('secret');
    expect(legacy?.sessionKey).not.toBe(streamable?.sessionKey);
    // A session the correlator does not know is not found under another id.
    post(c, 'messages', 'other', [req(2)], 0);
    expect(log.unparsed).toEqual({ unknown_session: 1 });
    expect(log.started).toHaveLength(2);
  });

  it('session confusion on a shared connection: a gateway carrying several sessions on one connection gets each request counted in its own session', () => {
    const { c, log } = setup({ maxPendingPerSession: 100 });
    const gateway = {};
    for (const id of ['A', 'B']) legacyStream(c, id, 0);
    // The keys each session gets on requests no connection carries.
    post(c, 'streamable', 'A', [req(1)], 0);
    post(c, 'streamable', 'B', [req(1)], 0);
    post(c, 'messages', 'A', [req(1)], 0);
    const [streamableA, streamableB, legacyA] = log.started.map((op) => op.sessionKey);
    // One connection: A, B, A, then A over legacy SSE (same id, other transport), then A again.
    const sequence: Array<['messages' | 'streamable', string, string | undefined]> = [
      ['streamable', 'A', streamableA],
      ['streamable', 'B', streamableB],
      ['streamable', 'A', streamableA],
      ['messages', 'A', legacyA],
      ['streamable', 'A', streamableA],
    ];
    for (const [i, [route, id]] of sequence.entries()) post(c, route, id, [req(10 + i)], 0, 0, gateway);
    expect(log.started.slice(3).map((op) => op.sessionKey)).toEqual(sequence.map(([, , key]) => key));
    expect(new Set([streamableA, streamableB, legacyA]).size).toBe(3);
  });

  it('keys a session the same on every connection that carries it, and any session id on any connection consistently', () => {
    const connections = [{}, {}, undefined];
    const ids = ['A', 'B', 'C'];
    fc.assert(
      fc.property(fc.array(fc.record({ conn: fc.nat({ max: 2 }), id: fc.nat({ max: 2 }), legacy: fc.boolean() }), { minLength: 1, maxLength: 40 }), (steps) => {
        const { c, log } = setup({ maxPendingPerSession: 100, maxSessions: 10 });
        for (const id of ids) legacyStream(c, id, 0);
        const keyOf = new Map<string, string>();
        for (const [n, s] of steps.entries()) {
          const before = log.started.length;
          post(c, s.legacy ? 'messages' : 'streamable', ids[s.id], [req(n)], 0, 0, connections[s.conn]);
          const key = log.started[before]?.sessionKey;
          if (key === undefined) throw new Error('the request was not tracked');
          const session = `${s.legacy ? 'sse' : 'streamable'}:${s.id}`;
          expect(key).toBe(keyOf.get(session) ?? key);
          keyOf.set(session, key);
        }
        expect(new Set(keyOf.values()).size).toBe(keyOf.size);
      }),
    );
  });

  it('bounds pending requests per session and ignores a duplicate id', () => {
    const { c, log } = setup();
    legacyStream(c, 's', 0);
    post(
      c,
      'messages',
      's',
      [1, 2, 3, 4].map((id) => req(id)),
      0,
    );
    post(c, 'messages', 's', [req(1)], 0);
    expect(c.pendingRequests('sse')).toBe(3);
    expect(log.dropped).toEqual(['limit', 'duplicate_id']);
    expect(log.started).toHaveLength(3);
  });

  it('bounds sessions', () => {
    const { c, log } = setup();
    for (let i = 0; i < 4; i++) legacyStream(c, `s${i}`, 0);
    legacyStream(c, 's9', 0);
    expect(log.unparsed).toEqual({ session_limit: 1 });
    // A known session is still found at the bound.
    post(c, 'messages', 's0', [req(1)], 0);
    expect(log.started).toHaveLength(1);
    expect(c.sessionsActive('sse')).toBe(4);
    // So is a streamable one that names itself: over the bound, its request is not tracked.
    post(c, 'streamable', 'x', [req(1)], 0);
    expect(log.unparsed).toEqual({ session_limit: 2 });
  });

  it('records isError and JSON-RPC errors with both vocabularies', () => {
    const { c, log } = setup();
    const stream = legacyStream(c, 's', 0);
    post(c, 'messages', 's', [req(1), req(2, 'resources/read')], 0);
    c.responseRead(stream, read(isError(1), rpcError(2, -32002)), 5);
    expect(log.ended.map((e) => [e.op.outcome, e.op.errorType, e.semconv])).toEqual([
      ['error', 'tool_error', 'tool_error'],
      ['error', 'resource_not_found', undefined],
    ]);
  });

  it('learns the protocol version from the initialize result', () => {
    const { c, log } = setup();
    const init = post(c, 'streamable', undefined, [req(0, 'initialize')], 0);
    c.responseHead(init, 200, 's', 1);
    c.responseRead(init, read(ok(0, '2025-06-18')), 1);
    c.end(init, 'ok', 200, 1);
    post(c, 'streamable', 's', [req(1)], 2);
    expect(log.ended[0]?.op.protocolVersion).toBe('2025-06-18');
    expect(log.started[1]?.protocolVersion).toBe('2025-06-18');
  });

  it('takes the protocol version of a session first seen in a request header from that header', () => {
    const { c, log } = setup();
    const flow = begin(c, 'streamable', 'POST', 0, 's', '2025-03-26');
    if (flow === undefined) throw new Error('flow');
    c.requestRead(flow, read(req(1)), 0);
    expect(log.started[0]?.protocolVersion).toBe('2025-03-26');
  });

  it('ends requests past the pending timeout as timeout', () => {
    const { c, log } = setup();
    legacyStream(c, 's', 0);
    post(c, 'messages', 's', [req(1)], 0);
    post(c, 'messages', 's', [req(2)], 500);
    c.sweep(999);
    expect(log.ended).toHaveLength(0);
    c.sweep(1000);
    expect(log.ended.map((e) => [e.op.startTime, e.op.outcome, e.op.errorType])).toEqual([[0, 'timeout', 'timeout']]);
    c.sweep(1600);
    expect(log.ended).toHaveLength(2);
    expect(log.dropped).toEqual(['timeout', 'timeout']);
    expect(c.pendingRequests('sse')).toBe(0);
  });

  it('closing a session ends its pending requests as cancelled and records its duration', () => {
    const { c, log } = setup();
    const stream = legacyStream(c, 's', 100);
    post(c, 'messages', 's', [req(1)], 150);
    post(c, 'messages', 's', [req(2)], 160);
    c.end(stream, 'ok', 200, 1100);
    expect(log.ended.map((e) => [e.op.outcome, e.op.errorType, e.semconv])).toEqual([
      ['cancelled', 'cancelled', 'cancelled'],
      ['cancelled', 'cancelled', 'cancelled'],
    ]);
    expect(log.dropped).toEqual(['session_closed', 'session_closed']);
    expect(log.sessions).toEqual([{ transport: 'sse', protocolVersion: undefined, durationSeconds: 1, errorType: undefined }]);
    expect(c.sessionsActive('sse')).toBe(0);
    expect(c.pendingRequests('sse')).toBe(0);
    post(c, 'messages', 's', [req(3)], 1200);
    expect(log.unparsed).toEqual({ unknown_session: 1 });
  });

  it('a session lost with the upstream ends its requests as upstream_unavailable', () => {
    const { c, log } = setup();
    const stream = legacyStream(c, 's', 0);
    post(c, 'messages', 's', [req(1)], 0);
    c.end(stream, 'upstream_aborted', 200, 10);
    expect(log.ended[0]?.op).toMatchObject({ outcome: 'error', errorType: 'upstream_unavailable' });
    expect(log.sessions[0]?.errorType).toBe('upstream_unavailable');
  });

  it('closes an idle streamable-HTTP session at its last activity, never a busy one or a legacy one', () => {
    const { c, log } = setup();
    const idle = post(c, 'streamable', 'idle', [], 0);
    c.responseHead(idle, 200, undefined, 500);
    c.end(idle, 'ok', 200, 1000);
    const busy = begin(c, 'streamable', 'GET', 0, 'busy');
    if (busy === undefined) throw new Error('flow');
    c.responseHead(busy, 200, undefined, 0);
    legacyStream(c, 'legacy', 0);
    c.sweep(5999);
    expect(log.sessions).toHaveLength(0);
    c.sweep(6000);
    expect(log.sessions).toEqual([{ transport: 'streamable_http', protocolVersion: undefined, durationSeconds: 1, errorType: undefined }]);
    expect(c.sessionsActive('streamable_http')).toBe(1);
    expect(c.sessionsActive('sse')).toBe(1);
  });

  it('a session the upstream never confirmed records no duration when it closes', () => {
    const { c, log } = setup();
    const stale = post(c, 'streamable', 'stale', [], 0);
    expect(c.sessionsActive('streamable_http')).toBe(1);
    c.responseHead(stale, 404, undefined, 10);
    c.end(stale, 'ok', 404, 10);
    expect(c.sessionsActive('streamable_http')).toBe(0);
    expect(log.sessions).toHaveLength(0);
  });

  it('cancels a request on notifications/cancelled; ephemeral sessions are not counted', () => {
    const { c, log } = setup();
    const flow = post(c, 'streamable', undefined, [req('x'), cancelled('x')], 0);
    c.responseHead(flow, 200, undefined, 0);
    expect(c.sessionsActive('streamable_http')).toBe(0);
    expect(log.ended[0]?.op).toMatchObject({ outcome: 'cancelled', errorType: 'cancelled' });
    c.end(flow, 'ok', 200, 4);
    expect(log.sessions).toHaveLength(0);
    expect(c.held).toEqual({ sessions: 0, deferred: 0 });
  });

  it('a response that overtakes the read of its request body waits for it, and only for a request sent before it', () => {
    const { c, log } = setup();
    const stream = legacyStream(c, 's', 0);
    // A chunked POST: its body is read at its response head.
    const chunked = begin(c, 'messages', 'POST', 10, 's');
    if (chunked === undefined) throw new Error('flow');
    c.responseRead(stream, read(ok(1), ok(2)), 20);
    expect(c.held.deferred).toBe(2);
    // A request sent after the responses were seen is not what they answered.
    post(c, 'messages', 's', [req(2)], 30);
    c.requestRead(chunked, read(req(1)), 40);
    expect(log.ended.map((e) => [e.op.startTime, e.op.endTime, e.op.outcome])).toEqual([[10, 20, 'ok']]);
    expect(log.unmatched).toBe(1);
    expect(c.held.deferred).toBe(0);
    expect(c.pendingRequests('sse')).toBe(1);
  });
});
