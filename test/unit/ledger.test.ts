import { describe, expect, it } from 'vitest';
import type { ResourceReadFact, ToolCallFact } from '../../src/ledger/facts.ts';
import { jsonRpcErrorType } from '../../src/ledger/facts.ts';
import { Ledger, type CatalogSink } from '../../src/ledger/ledger.ts';

function recording(): { sink: CatalogSink; tools: ToolCallFact[]; reads: ResourceReadFact[] } {
  const tools: ToolCallFact[] = [];
  const reads: ResourceReadFact[] = [];
  return { sink: { toolCall: (f) => tools.push(f), resourceRead: (f) => reads.push(f), request: () => undefined, lifecycle: () => undefined }, tools, reads };
}

describe('ledger: request-level facts', () => {
  it('counts proxied tool calls and resource reads', () => {
    const r = recording();
    const ledger = new Ledger(r.sink);
    ledger.toolCall({ source: 'rest', toolId: 'calc.add', ok: true, durationSeconds: 0.1 });
    ledger.toolCall({ source: 'mcp', toolId: 'calc_add', ok: false, errorType: 'tool_error', durationSeconds: 0.2 });
    ledger.resourceRead({ source: 'mcp', resourceUri: 'file:///a', ok: true, durationSeconds: 0.01 });
    expect(r.tools).toHaveLength(2);
    expect(r.reads).toHaveLength(1);
  });

  it('counts event-stream tool calls only for transports the sidecar does not proxy (no double count)', () => {
    const r = recording();
    const ledger = new Ledger(r.sink);
    for (const transport of ['sse', 'streamable_http', 'rest']) ledger.toolCall({ source: 'event', toolId: 't', ok: true, durationSeconds: 1, transport });
    ledger.toolCall({ source: 'event', toolId: 't', ok: true, durationSeconds: 1, transport: 'stdio' });
    ledger.resourceRead({ source: 'event', resourceUri: 'u', ok: true, durationSeconds: 1, transport: 'sse' });
    ledger.resourceRead({ source: 'event', resourceUri: 'u', ok: true, durationSeconds: 1, transport: 'stdio' });
    expect(r.tools.map((t) => t.transport)).toEqual(['stdio']);
    expect(r.reads.map((t) => t.transport)).toEqual(['stdio']);
  });

  it('names JSON-RPC errors', () => {
    expect([-32700, -32600, -32601, -32602, -32603, -32002, -1, 'x'].map(jsonRpcErrorType)).toEqual([
      'parse_error',
      'invalid_request',
      'method_not_found',
      'invalid_params',
      'internal_error',
      'resource_not_found',
      'jsonrpc_error',
      'jsonrpc_error',
    ]);
  });
});
