import { describe, expect, it } from 'vitest';
import { looksLikeUnknownTool, noResponseOutcome, refusedErrorType, responseOutcome } from '../../src/sources/mcp/outcome.ts';

const text = (t: string) => ({ content: [{ type: 'text', text: t }], isError: true });

describe('MCP operation outcomes', () => {
  it('a JSON-RPC error is named in the catalog vocabulary and by its code in the semantic conventions', () => {
    expect(responseOutcome('ping', { kind: 'error', code: -32603 })).toEqual({
      outcome: 'error',
      errorType: 'internal_error',
      semconvErrorType: '-32603',
      rpcStatusCode: '-32603',
    });
    expect(responseOutcome('ping', { kind: 'error', code: -1 })).toEqual({
      outcome: 'error',
      errorType: 'jsonrpc_error',
      semconvErrorType: '-1',
      rpcStatusCode: '-1',
    });
    expect(responseOutcome('ping', { kind: 'error', code: undefined })).toEqual({ outcome: 'error', errorType: 'jsonrpc_error', semconvErrorType: '_OTHER' });
  });

  it("the caller's JSON-RPC errors are errors in the catalog but carry no semconv error.type, only their status code", () => {
    expect(responseOutcome('tools/call', { kind: 'error', code: -32602 })).toEqual({ outcome: 'error', errorType: 'invalid_params', rpcStatusCode: '-32602' });
    expect(responseOutcome('resources/read', { kind: 'error', code: -32002 })).toEqual({
      outcome: 'error',
      errorType: 'resource_not_found',
      rpcStatusCode: '-32002',
    });
    for (const code of [-32700, -32600, -32601]) expect(responseOutcome('x', { kind: 'error', code }).semconvErrorType).toBeUndefined();
  });

  it('an isError tools/call result is tool_error, or not_found when the unknown-tool heuristic says so', () => {
    expect(responseOutcome('tools/call', { kind: 'result', isError: true, unknownTool: false })).toEqual({
      outcome: 'error',
      errorType: 'tool_error',
      semconvErrorType: 'tool_error',
    });
    expect(responseOutcome('tools/call', { kind: 'result', isError: true, unknownTool: true })).toEqual({
      outcome: 'error',
      errorType: 'not_found',
      semconvErrorType: 'tool_error',
    });
  });

  it('a result is a success, isError or not, for methods other than tools/call', () => {
    expect(responseOutcome('tools/call', { kind: 'result', isError: false, unknownTool: false })).toEqual({ outcome: 'ok' });
    expect(responseOutcome('prompts/get', { kind: 'result', isError: true, unknownTool: false })).toEqual({ outcome: 'ok' });
  });

  it('the unknown-tool heuristic matches FastMCP and TypeScript SDK phrasings, and nothing else', () => {
    for (const t of [
      'Unknown tool: calc_nope',
      'unknown tool calc_nope',
      'Tool calc_nope not found',
      'MCP error -32602: Tool calc_nope not found',
      'Error: no such tool: x',
      'Tool "x" does not exist',
    ]) {
      expect(looksLikeUnknownTool(text(t)), t).toBe(true);
    }
    for (const t of ['Error: deliberate failure', 'file not found', 'Error executing tool calc_crash: Connection closed', '']) {
      expect(looksLikeUnknownTool(text(t)), t).toBe(false);
    }
    expect(looksLikeUnknownTool({ content: 'Unknown tool: x' })).toBe(false);
    expect(
      looksLikeUnknownTool({
        content: [
          { type: 'image', data: '' },
          { type: 'text', text: 'Unknown tool: x' },
        ],
      }),
    ).toBe(true);
    // Only the beginning of a long text is looked at.
    expect(looksLikeUnknownTool(text(`${'x '.repeat(400)}Unknown tool: y`))).toBe(false);
  });

  it('requests without a response end as timeout, cancelled or upstream_unavailable', () => {
    expect(noResponseOutcome('timeout')).toEqual({ outcome: 'timeout', errorType: 'timeout', semconvErrorType: 'timeout' });
    expect(noResponseOutcome('cancelled')).toEqual({ outcome: 'cancelled', errorType: 'cancelled', semconvErrorType: 'cancelled' });
    expect(noResponseOutcome('upstream_unavailable')).toEqual({
      outcome: 'error',
      errorType: 'upstream_unavailable',
      semconvErrorType: 'upstream_unavailable',
    });
  });

  it('names HTTP refusals of MCP requests', () => {
    expect([400, 404, 406, 421, 408, 502, 503, 504, 500].map(refusedErrorType)).toEqual([
      'invalid_request',
      'invalid_request',
      'invalid_request',
      'invalid_request',
      'timeout',
      'upstream_unavailable',
      'upstream_unavailable',
      'timeout',
      'internal',
    ]);
  });
});
