/**
 * Traces through MCP, end to end: a real SDK client sends `tools/call` with W3C trace context in
 * `params._meta` through the sidecar to the demo composer, on both transports; the sidecar's span for the
 * operation belongs to that trace, spans the call to its correlated response, and carries no argument.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { connectMcp, MCP_KINDS, type ConnectedClient } from '../fixtures/mcp-client.ts';
import { otlpEnv, startOtlpReceiver, type OtlpReceiver } from '../fixtures/otlp-receiver.ts';
import { startSidecar, type TestSidecar } from '../fixtures/sidecar.ts';

let composer: DemoComposer | undefined;
let sidecar: TestSidecar | undefined;
let receiver: OtlpReceiver | undefined;
const clients: ConnectedClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.client.close();
  await sidecar?.close();
  await composer?.close();
  await receiver?.close();
  sidecar = composer = receiver = undefined;
});

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

describe.each(MCP_KINDS)('MCP spans over %s', (kind) => {
  it('a tools/call with _meta.traceparent yields a span in that trace, timed to its response, without arguments', async () => {
    receiver = await startOtlpReceiver();
    composer = await startDemoComposer();
    sidecar = await startSidecar(composer.url, [], otlpEnv(receiver, { traces: true }));
    const c = await connectMcp(kind, sidecar.proxyUrl);
    clients.push(c);
    const result = await c.client.callTool({
      name: 'clock_sleep',
      arguments: { ms: 200, secret: 'ARG-SECRET-77' },
      _meta: { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` },
    });
    expect(result.isError ?? false).toBe(false);
    const r = receiver;
    const span = await waitFor(() => r.spans().find((s) => s.name === 'tools/call clock_sleep'), { what: 'the tools/call span', timeoutMs: 15_000 });
    expect(span.traceId).toBe(TRACE_ID);
    expect(span.parentSpanId).toBe(CLIENT_SPAN);
    expect(span.attributes['mcp.method.name']).toBe('tools/call');
    expect(span.attributes['gen_ai.tool.name']).toBe('clock_sleep');
    const durationMs = Number((BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1_000_000n);
    expect(durationMs).toBeGreaterThanOrEqual(200);
    expect(JSON.stringify(r.requests.traces)).not.toContain('ARG-SECRET-77');
  });
});
