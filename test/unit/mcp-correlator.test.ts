import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Correlator, type CorrelatorOptions, type CorrelatorSink, type DropReason, type SessionEnd } from '../../src/sources/mcp/correlator.ts';
import type { RequestMessage, ResponseMessage } from '../../src/sources/mcp/jsonrpc.ts';
import type { McpOperation } from '../../src/sources/mcp/operations.ts';
import { Exchange } from '../../src/observe/exchange.ts';

interface Log {
  started: McpOperation[];
  ended: Array<{ op: McpOperation; semconv: string | undefined }>;
  sessions: SessionEnd[];
  dropped: DropReason[];
  unmatched: number;
}

const OPTS: CorrelatorOptions = { maxPendingPerSession: 3, pendingTimeoutMs: 1000, maxSessions: 4, sessionIdleTimeoutMs: 5000 };

function setup(opts: Partial<CorrelatorOptions> = {}): { c: Correlator; log: Log } {
  const log: Log = { started: [], ended: [], sessions: [], dropped: [], unmatched: 0 };
  const sink: CorrelatorSink = {
    started: (op) => log.started.push(op),
    ended: (op, outcome) => log.ended.push({ op, semconv: outcome.semconvErrorType }),
    sessionEnded: (s) => log.sessions.push(s),
    dropped: (r) => log.dropped.push(r),
    unmatched: () => void (log.unmatched += 1),
    listed: () => undefined,
    initialized: () => undefined,
  };
  return { c: new Correlator({ ...OPTS, ...opts }, sink), log };
}

const ex = (start: number) => new Exchange('POST', '/messages/?session_id=x', {}, start);
const req = (id: number | string, method = 'tools/call', toolName = 'calc_add'): RequestMessage => ({ kind: 'request', id, method, toolName });
const ok = (id: number | string): ResponseMessage => ({ kind: 'response', id, response: { kind: 'result', isError: false, unknownTool: false } });
const isError = (id: number | string): ResponseMessage => ({ kind: 'response', id, response: { kind: 'result', isError: true, unknownTool: false } });

describe('MCP correlator', () => {
  it('ends a request with its response, timed from the request exchange start', () => {
    const { c, log } = setup();
    const s = c.open('sse', 'sess-1', 0);
    if (s === undefined) throw new Error('session');
    c.request(s, req(1), ex(10), 12);
    expect(c.pendingRequests('sse')).toBe(1);
    expect(c.response(s, ok(1), 110)).toBe(true);
    expect(log.ended[0]?.op).toMatchObject({ method: 'tools/call', toolName: 'calc_add', startTime: 10, endTime: 110, outcome: 'ok' });
    expect(c.pendingRequests('sse')).toBe(0);
    expect(c.response(s, ok(1), 120)).toBe(false);
  });

  it('keeps sessions apart: the same id on two sessions correlates with its own session only', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5 })), { maxLength: 30 }), (steps) => {
      const { c, log } = setup({ maxPendingPerSession: 100 });
      const a = c.open('streamable_http', 'A', 0);
      const b = c.open('streamable_http', 'B', 0);
      if (a === undefined || b === undefined) throw new Error('sessions');
      const expected: string[] = [];
      for (const [first, id] of steps) {
        const s = first ? a : b;
        const name = `${first ? 'a' : 'b'}${id}`;
        if (c.request(s, req(id, 'tools/call', name), ex(0), 0) !== undefined) {
          // Answer immediately, on the same session.
          c.response(s, ok(id), 1);
          expected.push(name);
        }
      }
      expect(log.ended.map((e) => e.op.toolName)).toEqual(expected);
    }));
  });

  it('never stores or exposes the session id: the key is opaque and differs per transport', () => {
    const { c } = setup();
    const s1 = c.open('sse', 'secret-session-id', 0);
    const s2 = c.open('streamable_http', 'secret-session-id', 0);
    expect(s1?.key).not.toContain('secret');
    expect(s1?.key).not.toBe(s2?.key);
    expect(c.find('sse', 'secret-session-id')).toBe(s1);
    expect(c.find('sse', 'other')).toBeUndefined();
  });

  it('bounds pending requests per session and ignores a duplicate id', () => {
    const { c, log } = setup();
    const s = c.open('sse', 's', 0);
    if (s === undefined) throw new Error('session');
    for (const id of [1, 2, 3, 4]) c.request(s, req(id), ex(0), 0);
    expect(c.request(s, req(1), ex(0), 0)).toBeUndefined();
    expect(c.pendingRequests('sse')).toBe(3);
    expect(log.dropped).toEqual(['limit', 'duplicate_id']);
    expect(log.started).toHaveLength(3);
  });

  it('bounds sessions', () => {
    const { c } = setup();
    for (let i = 0; i < 4; i++) expect(c.open('sse', `s${i}`, 0)).toBeDefined();
    expect(c.open('sse', 's9', 0)).toBeUndefined();
    expect(c.open('sse', 's0', 0)).toBeDefined();
    expect(c.sessionsActive('sse')).toBe(4);
  });

  it('records isError and JSON-RPC errors with both vocabularies', () => {
    const { c, log } = setup();
    const s = c.open('sse', 's', 0);
    if (s === undefined) throw new Error('session');
    c.request(s, req(1), ex(0), 0);
    c.request(s, req(2, 'resources/read'), ex(0), 0);
    c.response(s, isError(1), 5);
    c.response(s, { kind: 'response', id: 2, response: { kind: 'error', code: -32002 } }, 5);
    expect(log.ended.map((e) => [e.op.outcome, e.op.errorType, e.semconv])).toEqual([
      ['error', 'tool_error', 'tool_error'],
      ['error', 'resource_not_found', undefined],
    ]);
  });

  it('learns the protocol version from the initialize result', () => {
    const { c, log } = setup();
    const s = c.open('streamable_http', 's', 0);
    if (s === undefined) throw new Error('session');
    c.request(s, req(0, 'initialize'), ex(0), 0);
    c.response(s, { kind: 'response', id: 0, response: { kind: 'result', isError: false, unknownTool: false, protocolVersion: '2025-06-18' } }, 1);
    c.request(s, req(1), ex(2), 2);
    expect(log.ended[0]?.op.protocolVersion).toBe('2025-06-18');
    expect(log.started[1]?.protocolVersion).toBe('2025-06-18');
  });

  it('ends requests past the pending timeout as timeout', () => {
    const { c, log } = setup();
    const s = c.open('sse', 's', 0);
    if (s === undefined) throw new Error('session');
    c.request(s, req(1), ex(0), 0);
    c.request(s, req(2), ex(500), 500);
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
    const s = c.open('sse', 's', 100);
    if (s === undefined) throw new Error('session');
    s.confirmed = true;
    c.request(s, req(1), ex(150), 150);
    c.request(s, req(2), ex(160), 160);
    c.close(s, 1100);
    expect(log.ended.map((e) => [e.op.outcome, e.op.errorType, e.semconv])).toEqual([
      ['cancelled', 'cancelled', 'cancelled'],
      ['cancelled', 'cancelled', 'cancelled'],
    ]);
    expect(log.dropped).toEqual(['session_closed', 'session_closed']);
    expect(log.sessions).toEqual([{ transport: 'sse', protocolVersion: undefined, durationSeconds: 1, errorType: undefined }]);
    expect(c.sessionsActive('sse')).toBe(0);
    expect(c.pendingRequests('sse')).toBe(0);
    expect(c.find('sse', 's')).toBeUndefined();
  });

  it('a session lost with the upstream ends its requests as upstream_unavailable', () => {
    const { c, log } = setup();
    const s = c.open('sse', 's', 0);
    if (s === undefined) throw new Error('session');
    s.confirmed = true;
    c.request(s, req(1), ex(0), 0);
    c.close(s, 10, 'upstream_unavailable');
    expect(log.ended[0]?.op).toMatchObject({ outcome: 'error', errorType: 'upstream_unavailable' });
    expect(log.sessions[0]?.errorType).toBe('upstream_unavailable');
  });

  it('closes an idle streamable-HTTP session at its last activity, never a busy one or a legacy one', () => {
    const { c, log } = setup();
    const idle = c.open('streamable_http', 'idle', 0);
    const busy = c.open('streamable_http', 'busy', 0);
    c.open('sse', 'legacy', 0);
    if (idle === undefined || busy === undefined) throw new Error('sessions');
    idle.confirmed = true;
    idle.lastActivity = 1000;
    busy.busy = 1;
    c.sweep(5999);
    expect(log.sessions).toHaveLength(0);
    c.sweep(6000);
    expect(log.sessions).toEqual([{ transport: 'streamable_http', protocolVersion: undefined, durationSeconds: 1, errorType: undefined }]);
    expect(c.sessionsActive('streamable_http')).toBe(1);
    expect(c.sessionsActive('sse')).toBe(1);
  });

  it('a session the upstream never confirmed records no duration when it closes', () => {
    const { c, log } = setup();
    const s = c.open('streamable_http', 'stale', 0);
    if (s === undefined) throw new Error('session');
    expect(c.sessionsActive('streamable_http')).toBe(1);
    c.close(s, 10);
    expect(c.sessionsActive('streamable_http')).toBe(0);
    expect(log.sessions).toHaveLength(0);
  });

  it('cancels a request on notifications/cancelled; ephemeral sessions are not counted', () => {
    const { c, log } = setup();
    const s = c.ephemeral('streamable_http', 1, 0);
    c.request(s, req('x'), ex(0), 0);
    expect(c.sessionsActive('streamable_http')).toBe(0);
    c.cancel(s, 'x', 3);
    expect(log.ended[0]?.op).toMatchObject({ outcome: 'cancelled', errorType: 'cancelled' });
    c.close(s, 4);
    expect(log.sessions).toHaveLength(0);
    expect(c.size).toBe(0);
  });
});
