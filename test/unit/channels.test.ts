/**
 * The typed diagnostics channels (observe/channels.ts) without sockets: a subscriber of a public channel
 * gets only messages of its type, even when something else in the process publishes on the same name,
 * and undici's send-headers messages are read only once their shape is checked.
 */
import { channel } from 'node:diagnostics_channel';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CHANNEL_PREFIX, exchangeChannels, isUndiciSendHeaders, MCP_CHANNEL_PREFIX, operationChannels, PublicChannel } from '../../src/observe/channels.ts';
import { Exchange, type ProxyErrorEvent } from '../../src/observe/exchange.ts';

describe('the public channels', () => {
  it('hand a subscriber the exchanges published on its channel and skip anything else published on the name', () => {
    const seen: string[] = [];
    const onStart = (ex: Exchange) => seen.push(`${ex.method} ${ex.url}`);
    exchangeChannels.start.subscribe(onStart);
    try {
      const raw = channel(`${CHANNEL_PREFIX}:start`);
      raw.publish({ method: 'GET', url: '/forged' });
      raw.publish('not an exchange');
      exchangeChannels.start.publish(new Exchange('POST', '/mcp', {}, 0));
    } finally {
      expect(exchangeChannels.start.unsubscribe(onStart)).toBe(true);
    }
    expect(seen).toEqual(['POST /mcp']);
    expect(exchangeChannels.start.hasSubscribers).toBe(false);
    expect(exchangeChannels.start.unsubscribe(onStart)).toBe(false);
  });

  it('take an error event only with a known kind and a string or no code', () => {
    const seen: ProxyErrorEvent[] = [];
    const onError = (e: ProxyErrorEvent) => seen.push(e);
    exchangeChannels.error.subscribe(onError);
    try {
      const raw = channel(`${CHANNEL_PREFIX}:error`);
      raw.publish({ kind: 'no_such_kind', code: undefined });
      raw.publish({ kind: 'upstream_timeout', code: 42 });
      raw.publish({ kind: 'upstream_timeout' });
      raw.publish(null);
      exchangeChannels.error.publish({ kind: 'upstream_timeout', code: 'UND_ERR_HEADERS_TIMEOUT' });
      exchangeChannels.error.publish({ kind: 'client_error', code: undefined });
    } finally {
      exchangeChannels.error.unsubscribe(onError);
    }
    expect(seen).toEqual([
      { kind: 'upstream_timeout', code: 'UND_ERR_HEADERS_TIMEOUT' },
      { kind: 'client_error', code: undefined },
    ]);
  });

  it('let a subscriber of the operation channels tell its operations apart with its own guard', () => {
    interface Op {
      readonly method: string;
    }
    const isOp = (m: unknown): m is Op => typeof m === 'object' && m !== null && 'method' in m && typeof m.method === 'string';
    const publisher = operationChannels<Op>();
    const subscriber = operationChannels<Op>(isOp);
    const seen: string[] = [];
    const onEnd = (op: Op) => seen.push(op.method);
    subscriber.operationEnd.subscribe(onEnd);
    try {
      channel(`${MCP_CHANNEL_PREFIX}:operation:end`).publish({ method: 7 });
      publisher.operationEnd.publish({ method: 'tools/call' });
    } finally {
      subscriber.operationEnd.unsubscribe(onEnd);
    }
    expect(seen).toEqual(['tools/call']);
    expect(() => publisher.operationStart.subscribe(() => undefined)).toThrow('needs a guard of its message type');
  });

  it('subscribe a listener once however often it is given', () => {
    const ch = new PublicChannel<Exchange>(`${CHANNEL_PREFIX}:test-once`, (m): m is Exchange => m instanceof Exchange);
    let calls = 0;
    const listener = () => calls++;
    ch.subscribe(listener);
    ch.subscribe(listener);
    ch.publish(new Exchange('GET', '/', {}, 0));
    ch.unsubscribe(listener);
    ch.publish(new Exchange('GET', '/', {}, 0));
    expect(calls).toBe(1);
  });
});

describe("undici's send-headers messages", () => {
  it('are read only with a request carrying method and path and a socket that is a stream', () => {
    const socket = new PassThrough();
    expect(isUndiciSendHeaders({ request: { method: 'GET', path: '/' }, headers: '', socket })).toBe(true);
    expect(isUndiciSendHeaders({ request: { method: 'GET', path: '/' }, socket: {} })).toBe(false);
    expect(isUndiciSendHeaders({ request: { method: 'GET' }, socket })).toBe(false);
    expect(isUndiciSendHeaders({ request: null, socket })).toBe(false);
    expect(isUndiciSendHeaders({ socket })).toBe(false);
    expect(isUndiciSendHeaders('GET /')).toBe(false);
    expect(isUndiciSendHeaders(undefined)).toBe(false);
  });
});
