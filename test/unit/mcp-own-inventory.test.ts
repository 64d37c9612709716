import { describe, expect, it } from 'vitest';
import { isComposerToolsList, STREAMABLE_PROBE_BODY, streamablePresence } from '../../src/sources/detect/detect.ts';
import { countByServer, separatorFor, staleKinds, type Coverage } from '../../src/sources/poll/inventory-naming.ts';
import { incoming, outgoing } from '../../src/sources/poll/own-id-transport.ts';
import { isOwnId, ownId, ownIdNumber, OWN_ID_PREFIX } from '../../src/sources/mcp/own-ids.ts';

describe("the sidecar's own JSON-RPC ids", () => {
  it('are strings no client numbers its requests with: never a number, not even for Number()', () => {
    for (const n of [0, 1, 2, 41]) {
      const id = ownId(n);
      expect(typeof id).toBe('string');
      expect(Number.isNaN(Number(id))).toBe(true);
      expect(isOwnId(id)).toBe(true);
      expect(ownIdNumber(id)).toBe(n);
    }
    for (const other of [0, 1, '1', 'sidecar-', `${OWN_ID_PREFIX}x`, null]) expect(ownIdNumber(other)).toBeUndefined();
    expect(isOwnId(3)).toBe(false);
  });

  it("rewrites the SDK's request ids and cancellations on the way out, and nothing else", () => {
    expect(outgoing({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: {} })).toEqual({ jsonrpc: '2.0', id: ownId(3), method: 'tools/list', params: {} });
    expect(outgoing({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3, reason: 'timeout' } })).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: ownId(3), reason: 'timeout' },
    });
    const answer = { jsonrpc: '2.0' as const, id: 7, result: {} };
    expect(outgoing(answer)).toBe(answer); // an answer to the server's own ping keeps the server's id
    const note = { jsonrpc: '2.0' as const, method: 'notifications/initialized' };
    expect(outgoing(note)).toBe(note);
  });

  it("gives the SDK back its own responses, and never another session's (a broadcasting upstream)", () => {
    expect(incoming({ jsonrpc: '2.0', id: ownId(5), result: { tools: [] } })).toEqual({ jsonrpc: '2.0', id: 5, result: { tools: [] } });
    expect(incoming({ jsonrpc: '2.0', id: ownId(5), error: { code: -32601, message: 'x' } })).toEqual({
      jsonrpc: '2.0',
      id: 5,
      error: { code: -32601, message: 'x' },
    });
    expect(incoming({ jsonrpc: '2.0', id: 5, result: { content: [] } })).toBe('foreign');
    expect(incoming({ jsonrpc: '2.0', id: 'client-5', result: {} })).toBe('foreign');
    expect(incoming({ jsonrpc: '2.0', id: 9, method: 'sampling/createMessage', params: {} })).toBe('drop');
    const ping = { jsonrpc: '2.0' as const, id: 9, method: 'ping' };
    expect(incoming(ping)).toBe(ping);
    const changed = { jsonrpc: '2.0' as const, method: 'notifications/tools/list_changed' };
    expect(incoming(changed)).toBe(changed);
  });
});

describe('per-server counts only where names carry their server', () => {
  it('splits at the separator given, else at _ for the composer, else not at all', () => {
    expect(separatorFor('.', false)).toBe('.');
    expect(separatorFor('.', true)).toBe('.');
    expect(separatorFor(undefined, true)).toBe('_');
    expect(separatorFor(undefined, false)).toBeUndefined();
  });

  it('counts by the part before the separator, and attributes resources only to known servers', () => {
    expect(countByServer([{ name: 'get_weather' }, { name: 'get_time' }, { name: 'plain' }], '_')).toEqual(new Map([['get', 2]]));
    expect(
      countByServer(
        [
          { name: 'r', uri: 'calc://x' },
          { name: 'q', uri: 'nope://y' },
        ],
        '_',
        new Set(['calc']),
      ),
    ).toEqual(new Map([['calc', 1]]));
  });
});

describe('auto: which kinds no client listing covers', () => {
  const base: Coverage = { now: 10_000, intervalMs: 1000, clientListedAt: {}, changed: new Set(), server: undefined, clientSessions: 0 };

  it('is every kind before any client listed, except those the server does not have', () => {
    expect(staleKinds(base)).toEqual(['tools', 'prompts', 'resources']);
    expect(staleKinds({ ...base, server: { kinds: ['tools'], listChanged: [] } })).toEqual(['tools']);
  });

  it('covers a kind listed within the poll interval', () => {
    expect(staleKinds({ ...base, clientListedAt: { tools: 9_500, prompts: 8_000 }, server: { kinds: ['tools', 'prompts'], listChanged: [] } })).toEqual([
      'prompts',
    ]);
  });

  it('covers an older listing while the server announces changes and a client session is open to carry them', () => {
    const server = { kinds: ['tools' as const], listChanged: ['tools' as const] };
    expect(staleKinds({ ...base, clientListedAt: { tools: 1 }, server, clientSessions: 1 })).toEqual([]);
    expect(staleKinds({ ...base, clientListedAt: { tools: 1 }, server, clientSessions: 0 })).toEqual(['tools']);
    expect(staleKinds({ ...base, clientListedAt: { tools: 1 }, server: { kinds: ['tools'], listChanged: [] }, clientSessions: 1 })).toEqual(['tools']);
  });

  it('uncovers a kind announced changed until a client lists it again', () => {
    expect(
      staleKinds({
        ...base,
        clientListedAt: { tools: 9_900 },
        changed: new Set(['tools']),
        server: { kinds: ['tools'], listChanged: ['tools'] },
        clientSessions: 1,
      }),
    ).toEqual(['tools']);
  });
});

describe('source detection without a session', () => {
  it('reads the POST of a JSON body that is no JSON-RPC message: 404 and 405 absent, any other answer (400, 401) present', () => {
    expect(() => JSON.parse(STREAMABLE_PROBE_BODY)).not.toThrow();
    expect(Object.keys(JSON.parse(STREAMABLE_PROBE_BODY))).not.toContain('jsonrpc');
    expect([400, 401, 403, 406, 415, 500, 404, 405, undefined].map(streamablePresence)).toEqual([true, true, true, true, true, true, false, false, undefined]);
  });

  it("tells the composer's own GET /tools listing", () => {
    expect(isComposerToolsList({ tools: [], total: 0 })).toBe(true);
    expect(isComposerToolsList({ tools: [] })).toBe(false);
    expect(isComposerToolsList([{ tools: [], total: 0 }])).toBe(false);
    expect(isComposerToolsList(null)).toBe(false);
  });
});
