/**
 * The MCP span observer against the operation contract (src/sources/mcp/operations.ts), driven the way the proxy
 * and the MCP tap drive it: an Exchange given to the observation bus's `start`, McpOperation objects given
 * to its operation hooks (start when the JSON-RPC request is seen, end — the same object, with `endTime`
 * and `outcome` set — when its response, a timeout or a cancellation is correlated). Real SDK, in-memory
 * exporter.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import type { TracesConfig } from '../../src/config/otel-env.ts';
import { createLogger } from '../../src/log.ts';
import type { McpOperation } from '../../src/sources/mcp/operations.ts';
import { ObservationBus } from '../../src/observe/bus.ts';
import { Exchange } from '../../src/observe/exchange.ts';
import { safeResourceUri } from '../../src/telemetry/mcp-spans.ts';
import { createResource } from '../../src/telemetry/resource.ts';
import { Tracing } from '../../src/telemetry/tracing.ts';

const META_TRACE = '0af7651916cd43dd8448eb211c80319c';
const META_SPAN = 'b7ad6b7169203331';
const HTTP_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const HTTP_PARENT = '00f067aa0ba902b7';

const config: TracesConfig = {
  exporter: { protocol: 'http/json', url: 'http://unused/v1/traces', headers: {}, timeoutMs: 1000, compression: 'none' },
  sampler: 'parentbased_always_on',
  samplerRatio: 1,
  batch: { scheduledDelayMs: 10_000, exportTimeoutMs: 1000, maxQueueSize: 100, maxExportBatchSize: 100 },
};

let tracing: Tracing | undefined;
let bus = new ObservationBus<McpOperation>({ logger: createLogger({ level: 'silent' }) });
afterEach(async () => {
  await tracing?.shutdown(1000);
  tracing = undefined;
});

function start(propagate = true): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  tracing = new Tracing({
    config,
    exporter,
    resource: createResource({ serviceName: 'test', resourceAttributes: {} }, 'test'),
    version: 'test',
    propagate,
    maxRoutes: 10,
  });
  bus = new ObservationBus<McpOperation>({ logger: createLogger({ level: 'silent' }) });
  tracing.start(bus);
  return exporter;
}

/** An MCP POST as the proxy reports it, carrying the client's HTTP trace context and secrets. */
function mcpPost(): Exchange {
  const ex = new Exchange(
    'POST',
    '/mcp?api_key=QUERYSECRET',
    {
      host: 'sidecar:8080',
      traceparent: `00-${HTTP_TRACE}-${HTTP_PARENT}-01`,
      authorization: 'Bearer TOKENSECRET',
      'mcp-session-id': 'SESSIONSECRET',
    },
    performance.now(),
  );
  bus.start(ex);
  return ex;
}

function endExchange(ex: Exchange): void {
  ex.status = 200;
  ex.endTime = performance.now();
  bus.end(ex);
}

/** Runs one operation through the bus; extra fields play a careless tap that copied too much. */
function operation(ex: Exchange, fields: Partial<McpOperation>, end: Partial<McpOperation> = { outcome: 'ok' }): McpOperation {
  const op = {
    method: 'tools/call',
    transport: 'streamable_http',
    sessionKey: 'SESSIONHASH',
    requestExchange: ex,
    startTime: performance.now(),
    ...fields,
    arguments: { password: 'ARGSECRET' },
    params: { name: 'x', arguments: { token: 'ARGSECRET' } },
  } as McpOperation;
  bus.operationStart(op);
  Object.assign(op, { endTime: performance.now(), ...end });
  bus.operationEnd(op);
  return op;
}

async function finished(exporter: InMemorySpanExporter): Promise<{ http: ReadableSpan; mcp: ReadableSpan[] }> {
  await tracing!.provider.forceFlush();
  const spans = exporter.getFinishedSpans();
  const http = spans.find((s) => s.name.startsWith('POST'));
  if (http === undefined) throw new Error(`no HTTP span among ${spans.map((s) => s.name).join(', ')}`);
  return { http, mcp: spans.filter((s) => s !== http) };
}

describe('MCP operation spans', () => {
  it('an operation with _meta.traceparent yields a span in that trace, linked to the HTTP SERVER span', async () => {
    const exporter = start();
    const ex = mcpPost();
    operation(ex, { toolName: 'calc_add', protocolVersion: '2025-06-18', traceparent: `00-${META_TRACE}-${META_SPAN}-01`, tracestate: 'vendor=1' });
    endExchange(ex);
    const { http, mcp } = await finished(exporter);
    expect(mcp).toHaveLength(1);
    const span = mcp[0]!;
    expect(span.name).toBe('tools/call calc_add');
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.spanContext().traceId).toBe(META_TRACE);
    expect(span.parentSpanContext?.spanId).toBe(META_SPAN);
    expect(span.spanContext().traceState?.get('vendor')).toBe('1');
    expect(span.links.map((l) => l.context.spanId)).toEqual([http.spanContext().spanId]);
    expect(span.attributes).toEqual({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'calc_add',
      'gen_ai.operation.name': 'execute_tool',
      'mcp.protocol.version': '2025-06-18',
      'network.transport': 'tcp',
      'network.protocol.name': 'http',
      'network.protocol.version': '1.1',
    });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    // The HTTP span continues the client's HTTP trace, independent of the MCP one.
    expect(http.spanContext().traceId).toBe(HTTP_TRACE);
    expect(http.parentSpanContext?.spanId).toBe(HTTP_PARENT);
  });

  it("without _meta (or with an invalid one) the span is a child of the request's SERVER span", async () => {
    const exporter = start();
    const ex = mcpPost();
    operation(ex, { method: 'prompts/get', promptName: 'review' });
    operation(ex, { method: 'tools/list', traceparent: '00-not-a-valid-context-01' });
    endExchange(ex);
    const { http, mcp } = await finished(exporter);
    expect(mcp.map((s) => s.name)).toEqual(['prompts/get review', 'tools/list']);
    for (const span of mcp) {
      expect(span.spanContext().traceId).toBe(http.spanContext().traceId);
      expect(span.parentSpanContext?.spanId).toBe(http.spanContext().spanId);
      expect(span.links).toEqual([]);
    }
    expect(mcp[0]!.attributes['gen_ai.prompt.name']).toBe('review');
    expect(mcp[0]!.attributes).not.toHaveProperty('gen_ai.operation.name');
  });

  it('ignores _meta when OTEL_PROPAGATORS leaves trace context out', async () => {
    const exporter = start(false);
    const ex = mcpPost();
    operation(ex, { toolName: 't', traceparent: `00-${META_TRACE}-${META_SPAN}-01` });
    endExchange(ex);
    const { http, mcp } = await finished(exporter);
    expect(http.parentSpanContext).toBeUndefined();
    expect(mcp[0]!.parentSpanContext?.spanId).toBe(http.spanContext().spanId);
  });

  it('records failures as error.type (the JSON-RPC code when there is one) with an ERROR status', async () => {
    const exporter = start();
    const ex = mcpPost();
    operation(ex, { toolName: 'a' }, { outcome: 'error', errorType: 'invalid_params' });
    operation(ex, { toolName: 'b' }, { outcome: 'ok' });
    operation(ex, { toolName: 'c' }, { outcome: 'error', errorType: 'tool_error' });
    operation(ex, { toolName: 'd' }, { outcome: 'timeout', errorType: 'timeout' });
    operation(ex, { toolName: 'e' }, { outcome: 'cancelled' });
    endExchange(ex);
    const { mcp } = await finished(exporter);
    const byTool = Object.fromEntries(mcp.map((s) => [s.attributes['gen_ai.tool.name'], s]));
    expect(byTool['a']?.attributes['error.type']).toBe('-32602');
    expect(byTool['a']?.attributes['rpc.response.status_code']).toBe('-32602');
    expect(byTool['b']?.attributes).not.toHaveProperty('error.type');
    expect(byTool['c']?.attributes['error.type']).toBe('tool_error');
    expect(byTool['d']?.attributes['error.type']).toBe('timeout');
    expect(byTool['e']?.attributes['error.type']).toBe('cancelled');
    for (const t of ['a', 'c', 'd', 'e']) expect(byTool[t]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(byTool['b']?.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('names resources/read without the URI and records the URI without credentials, query or fragment', async () => {
    const exporter = start();
    const ex = mcpPost();
    operation(ex, { method: 'resources/read', resourceUri: 'postgres://admin:DBSECRET@db/customers?sslkey=QSECRET#frag' });
    endExchange(ex);
    const { mcp } = await finished(exporter);
    expect(mcp[0]!.name).toBe('resources/read');
    expect(mcp[0]!.attributes['mcp.resource.uri']).toBe('postgres://db/customers');
    expect(safeResourceUri('file:///home/a/readme.md')).toBe('file:///home/a/readme.md');
  });

  it('survives operations whose fields came from odd client JSON (never throws into the publisher)', async () => {
    const exporter = start();
    const ex = mcpPost();
    const odd = { toolName: 42, promptName: { x: 1 }, resourceUri: ['a'], protocolVersion: null, traceparent: 7 } as unknown as Partial<McpOperation>;
    expect(() => operation(ex, odd)).not.toThrow();
    bus.operationEnd({ method: 'tools/call' } as McpOperation);
    endExchange(ex);
    const { mcp } = await finished(exporter);
    expect(mcp.map((s) => s.name)).toEqual(['tools/call']);
    expect(Object.keys(mcp[0]!.attributes).sort()).toEqual([
      'gen_ai.operation.name',
      'mcp.method.name',
      'network.protocol.name',
      'network.protocol.version',
      'network.transport',
    ]);
  });

  it('never exports tool arguments, tokens, query strings or the session id', async () => {
    const exporter = start();
    const ex = mcpPost();
    operation(ex, { toolName: 'calc_add', traceparent: `00-${META_TRACE}-${META_SPAN}-01` });
    operation(ex, { method: 'resources/read', resourceUri: 'file:///x?token=QSECRET' });
    endExchange(ex);
    await tracing!.provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(3);
    const exported = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, links: s.links })));
    for (const secret of ['ARGSECRET', 'TOKENSECRET', 'QUERYSECRET', 'QSECRET', 'SESSIONSECRET', 'SESSIONHASH', 'api_key', 'arguments']) {
      expect(exported).not.toContain(secret);
    }
    for (const s of spans) {
      for (const key of Object.keys(s.attributes)) expect(key).not.toMatch(/session|argument|header|url\.(path|query|full)/);
    }
  });
});
