import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyMessage, idKey, MAX_NAME_LENGTH, MAX_URI_LENGTH, parseMessages, resourceUriOf } from '../../src/sources/mcp/jsonrpc.ts';

describe('JSON-RPC message classification', () => {
  it('reads a tools/call request: id, method, tool name and trace context, never the arguments', () => {
    const msg = classifyMessage({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: {
        name: 'calc_add',
        arguments: { secret: 'hunter2' },
        _meta: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate: 'a=b' },
      },
    });
    expect(msg).toEqual({
      kind: 'request',
      id: 7,
      method: 'tools/call',
      toolName: 'calc_add',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      tracestate: 'a=b',
    });
    expect(JSON.stringify(msg)).not.toContain('hunter2');
  });

  it('reads prompts/get names and resources/read URIs without their query string or fragment', () => {
    expect(classifyMessage({ jsonrpc: '2.0', id: 'p', method: 'prompts/get', params: { name: 'calc_explain', arguments: { topic: 'x' } } })).toEqual({
      kind: 'request',
      id: 'p',
      method: 'prompts/get',
      promptName: 'calc_explain',
    });
    expect(classifyMessage({ jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'file:///a/b?token=s3cret#frag' } })).toEqual({
      kind: 'request',
      id: 1,
      method: 'resources/read',
      resourceUri: 'file:///a/b',
    });
    expect(resourceUriOf('x://y#f?q')).toBe('x://y');
    expect(resourceUriOf(42)).toBeUndefined();
  });

  it('ignores a malformed traceparent and an oversized tracestate', () => {
    const msg = classifyMessage({ jsonrpc: '2.0', id: 1, method: 'ping', params: { _meta: { traceparent: 'nope', tracestate: 'x'.repeat(600) } } });
    expect(msg).toEqual({ kind: 'request', id: 1, method: 'ping' });
  });

  it('keeps at most one character past the length bound of a name, a method or a URI (the label folds it as too long)', () => {
    const msg = classifyMessage({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'n'.repeat(MAX_NAME_LENGTH + 5000) } });
    expect(msg).toMatchObject({ toolName: 'n'.repeat(MAX_NAME_LENGTH + 1) });
    expect(classifyMessage({ jsonrpc: '2.0', id: 1, method: 'prompts/get', params: { name: 'p'.repeat(MAX_NAME_LENGTH) } })).toMatchObject({
      promptName: 'p'.repeat(MAX_NAME_LENGTH),
    });
    expect(classifyMessage({ jsonrpc: '2.0', id: 1, method: 'm'.repeat(10_000) })).toMatchObject({ method: 'm'.repeat(MAX_NAME_LENGTH + 1) });
    expect(resourceUriOf(`s://${'u'.repeat(10_000)}`)).toHaveLength(MAX_URI_LENGTH + 1);
  });

  it('keeps a literal __other__ as the name it is (only the label decides what is overflow)', () => {
    expect(classifyMessage({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: '__other__' } })).toMatchObject({ toolName: '__other__' });
  });

  it('reads notifications, and the request id of notifications/cancelled', () => {
    expect(classifyMessage({ jsonrpc: '2.0', method: 'notifications/initialized' })).toEqual({ kind: 'notification', method: 'notifications/initialized' });
    expect(classifyMessage({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3, reason: 'x' } })).toEqual({
      kind: 'notification',
      method: 'notifications/cancelled',
      cancelledId: 3,
    });
  });

  it('reads results, isError results, the unknown-tool hint and the negotiated protocol version', () => {
    expect(classifyMessage({ jsonrpc: '2.0', id: 1, result: { content: [] } })).toEqual({
      kind: 'response',
      id: 1,
      response: { kind: 'result', isError: false, unknownTool: false },
    });
    expect(classifyMessage({ jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'Unknown tool: x' }], isError: true } })).toEqual({
      kind: 'response',
      id: 2,
      response: { kind: 'result', isError: true, unknownTool: true },
    });
    expect(classifyMessage({ jsonrpc: '2.0', id: 0, result: { protocolVersion: '2025-06-18', capabilities: {} } })).toEqual({
      kind: 'response',
      id: 0,
      response: { kind: 'result', isError: false, unknownTool: false, protocolVersion: '2025-06-18' },
    });
  });

  it('reads errors by code, including id-null errors', () => {
    expect(classifyMessage({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'bad' } })).toEqual({
      kind: 'response',
      id: 1,
      response: { kind: 'error', code: -32602 },
    });
    expect(classifyMessage({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse' } })).toEqual({
      kind: 'response',
      id: null,
      response: { kind: 'error', code: -32700 },
    });
    expect(classifyMessage({ jsonrpc: '2.0', id: 1, error: { code: 'x' } })).toEqual({ kind: 'response', id: 1, response: { kind: 'error', code: undefined } });
  });

  it('rejects what is not JSON-RPC 2.0', () => {
    for (const v of [
      null,
      1,
      'x',
      [],
      {},
      { jsonrpc: '1.0', id: 1, method: 'x' },
      { jsonrpc: '2.0' },
      { jsonrpc: '2.0', id: {}, method: 'x' },
      { jsonrpc: '2.0', id: 1, error: 'x' },
      { jsonrpc: '2.0', id: Infinity, result: {} },
    ]) {
      expect(classifyMessage(v)).toBeUndefined();
    }
  });

  it('parses single messages and batches, counting invalid members; not JSON and not JSON-RPC are problems', () => {
    expect(parseMessages('{"jsonrpc":"2.0","id":1,"method":"ping"}')).toEqual({
      messages: [{ kind: 'request', id: 1, method: 'ping' }],
      invalid: 0,
      batch: false,
    });
    const batch = parseMessages('[{"jsonrpc":"2.0","id":1,"method":"ping"},{"nope":1},{"jsonrpc":"2.0","method":"notifications/x"}]');
    expect(batch.batch).toBe(true);
    expect(batch.messages.map((m) => m.kind)).toEqual(['request', 'notification']);
    expect(batch.invalid).toBe(1);
    expect(batch.problem).toBeUndefined();
    expect(parseMessages('{"jsonrpc": "2.0", "method": ').problem).toBe('not_json');
    expect(parseMessages('{"hello":"world"}').problem).toBe('not_jsonrpc');
    expect(parseMessages('[]').problem).toBe('not_jsonrpc');
    expect(parseMessages('[1,2]')).toMatchObject({ problem: 'not_jsonrpc', invalid: 2, batch: true });
  });

  it('keys ids so that 1 and "1" differ', () => {
    expect(idKey(1)).not.toBe(idKey('1'));
    expect(idKey('a')).toBe(idKey('a'));
  });

  it('never throws, whatever the text or the JSON value', () => {
    fc.assert(
      fc.property(fc.string(), (s) => void parseMessages(s)),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => void classifyMessage(v)),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => void parseMessages(JSON.stringify(v) ?? '')),
      { numRuns: 500 },
    );
  });
});
