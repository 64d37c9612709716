/**
 * One span per MCP operation, from the MCP operations on the observation bus (observer `mcp_spans`; the
 * contract is src/sources/mcp/operations.ts): started when the
 * JSON-RPC request is seen, ended when its response, a timeout or a cancellation is correlated — on both
 * transports (legacy SSE, where the answer comes on another HTTP exchange, and streamable HTTP).
 *
 * Parent, as the MCP semantic conventions ask: the context the client put in `params._meta`
 * (`traceparent`/`tracestate`) when it is valid, with a link to the HTTP SERVER span that carried the
 * request; otherwise that SERVER span itself; otherwise a new trace.
 *
 * Name `{mcp.method.name} {target}` (target = tool or prompt name; a resource URI is never in a name).
 * Attributes: `mcp.method.name`, `mcp.protocol.version`, `gen_ai.tool.name` (+ `gen_ai.operation.name =
 * execute_tool`), `gen_ai.prompt.name`, `mcp.resource.uri` (without credentials, query or fragment),
 * `network.transport=tcp`, `network.protocol.name=http`, `network.protocol.version`, `error.type`,
 * `rpc.response.status_code`. Never tool arguments or results, tokens, the session id (nor its hash), or
 * the JSON-RPC request id (not part of the operation contract).
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  isSpanContextValid,
  trace,
  type Attributes,
  type Link,
  type Span,
  type SpanContext,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';
import type { ErrorType } from '../ledger/facts.ts';
import type { McpOperation } from '../sources/mcp/operations.ts';
import type { ObserverHandle, ObserverRegistry } from '../observe/bus.ts';
import type { Exchange } from '../observe/exchange.ts';

/** Longest tool or prompt name put in a span name or attribute; longer ones are cut. */
export const MAX_NAME_LENGTH = 256;

/** JSON-RPC error codes of the `error_type` names that stand for one code. */
const JSONRPC_CODES: Partial<Record<ErrorType, string>> = {
  parse_error: '-32700',
  invalid_request: '-32600',
  method_not_found: '-32601',
  invalid_params: '-32602',
  internal_error: '-32603',
  resource_not_found: '-32002',
};

/** A resource URI as it may be exported: without userinfo, query or fragment. */
export function safeResourceUri(uri: string): string {
  const cut = uri.search(/[?#]/);
  const noQuery = cut === -1 ? uri : uri.slice(0, cut);
  return noQuery.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

function bounded(name: string): string {
  return name.length > MAX_NAME_LENGTH ? name.slice(0, MAX_NAME_LENGTH) : name;
}

export interface McpSpansOptions {
  readonly tracer: Tracer;
  /** W3C trace context; `undefined` when `OTEL_PROPAGATORS` leaves it out (`_meta` is then ignored). */
  readonly propagator: TextMapPropagator | undefined;
  /** The HTTP SERVER span of an exchange, if tracing started one. */
  readonly serverSpanOf: (ex: Exchange) => Span | undefined;
}

export class McpSpans {
  readonly #tracer: Tracer;
  readonly #propagator: TextMapPropagator | undefined;
  readonly #serverSpanOf: (ex: Exchange) => Span | undefined;
  // Keyed by object so that exemplars can ask with an opaque fact origin (spanContextOf).
  readonly #spans = new WeakMap<object, Span>();

  constructor(opts: McpSpansOptions) {
    this.#tracer = opts.tracer;
    this.#propagator = opts.propagator;
    this.#serverSpanOf = opts.serverSpanOf;
  }

  /**
   * Registers on the observation bus as `mcp_spans`. Operations carry values from client JSON: a surprise
   * is a failure the bus counts (no span for that operation), never one the proxy sees.
   */
  register(bus: ObserverRegistry<McpOperation>): ObserverHandle {
    return bus.register('mcp_spans', { onOperationStart: (op) => this.onStart(op), onOperationEnd: (op) => this.onEnd(op) });
  }

  /**
   * The context of the span of `origin` when it is an MCP operation that has one, until the operation's
   * `end` is published — after its measurements are recorded (for exemplars).
   */
  spanContextOf(origin: object): SpanContext | undefined {
    return this.#spans.get(origin)?.spanContext();
  }

  onStart(op: McpOperation): void {
    const httpSpan = this.#serverSpanOf(op.requestExchange);
    let parent = httpSpan === undefined ? ROOT_CONTEXT : trace.setSpan(ROOT_CONTEXT, httpSpan);
    let links: Link[] | undefined;
    if (this.#propagator !== undefined && typeof op.traceparent === 'string') {
      const carrier: Record<string, string> = { traceparent: op.traceparent };
      if (typeof op.tracestate === 'string') carrier['tracestate'] = op.tracestate;
      const fromMeta = this.#propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
      const metaContext = trace.getSpanContext(fromMeta);
      if (metaContext !== undefined && isSpanContextValid(metaContext)) {
        parent = fromMeta;
        if (httpSpan !== undefined) links = [{ context: httpSpan.spanContext() }];
      }
    }

    const attrs: Attributes = {
      'mcp.method.name': op.method,
      'network.transport': 'tcp',
      'network.protocol.name': 'http',
      'network.protocol.version': op.requestExchange.httpVersion,
    };
    let name = String(op.method);
    if (typeof op.toolName === 'string') {
      const tool = bounded(op.toolName);
      attrs['gen_ai.tool.name'] = tool;
      name = `${op.method} ${tool}`;
    }
    if (op.method === 'tools/call') attrs['gen_ai.operation.name'] = 'execute_tool';
    if (typeof op.promptName === 'string') {
      const prompt = bounded(op.promptName);
      attrs['gen_ai.prompt.name'] = prompt;
      name = `${op.method} ${prompt}`;
    }
    if (typeof op.resourceUri === 'string') attrs['mcp.resource.uri'] = safeResourceUri(op.resourceUri);
    if (typeof op.protocolVersion === 'string') attrs['mcp.protocol.version'] = op.protocolVersion;

    const span = this.#tracer.startSpan(
      name,
      { kind: SpanKind.SERVER, startTime: op.startTime, attributes: attrs, ...(links !== undefined ? { links } : {}) },
      parent,
    );
    this.#spans.set(op, span);
  }

  onEnd(op: McpOperation): void {
    const span = this.#spans.get(op);
    if (span === undefined) return;
    this.#spans.delete(op);
    if (span.isRecording() && op.outcome !== undefined && op.outcome !== 'ok') {
      const errorType: string = op.errorType ?? (op.outcome === 'error' ? 'jsonrpc_error' : op.outcome);
      const code = JSONRPC_CODES[errorType as ErrorType];
      span.setAttribute('error.type', code ?? errorType);
      if (code !== undefined) span.setAttribute('rpc.response.status_code', code);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end(op.endTime ?? performance.now());
  }
}
