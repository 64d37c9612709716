/**
 * Tracing, when `OTEL_TRACES_EXPORTER=otlp`: a TracerProvider (@opentelemetry/sdk-trace 3.x) with the
 * configured sampler and a BatchSpanProcessor in front of the OTLP span exporter, the W3C trace-context
 * propagator, and the two span sources, both observers on the observation bus — HTTP SERVER spans from
 * the proxy's exchanges and MCP operation spans from the MCP tap's operations.
 *
 * Nothing is global except the context manager: an AsyncLocalStorage context manager is registered (when
 * none is) so that log lines written inside `context.with(…)` carry the active span's ids (log.ts); it is
 * unregistered at shutdown. The tracer provider and the propagator are used directly, never registered
 * as the API's globals, so several sidecars (tests) can live in one process.
 *
 * When tracing is off, main.ts does not even load this module: no observer, no context propagation, no
 * per-request work.
 */
import { context, type SpanContext, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import type { TracesConfig } from '../config/otel-env.ts';
import type { McpOperation } from '../sources/mcp/operations.ts';
import type { ObserverRegistry } from '../observe/bus.ts';
import type { Exchange } from '../observe/exchange.ts';
import { McpSpans } from './mcp-spans.ts';
import { ServerSpans } from './server-spans.ts';

export const TRACER_NAME = 'mcp-composer-sidecar';

/** The sampler named by `OTEL_TRACES_SAMPLER` (and `OTEL_TRACES_SAMPLER_ARG`). */
export function createSampler(name: TracesConfig['sampler'], ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

export interface TracingOptions {
  readonly config: TracesConfig;
  readonly exporter: SpanExporter;
  readonly resource: Resource;
  readonly version: string;
  /** Extract and inject W3C trace context (`OTEL_PROPAGATORS` has `tracecontext`). @default true */
  readonly propagate: boolean;
  /** Distinct routes in span names. @default 200 (`--max-label-values`) */
  readonly maxRoutes: number;
}

export class Tracing {
  readonly provider: TracerProvider;
  readonly #server: ServerSpans;
  readonly #mcp: McpSpans;
  #contextManager: AsyncLocalStorageContextManager | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(opts: TracingOptions) {
    const { batch } = opts.config;
    this.provider = new TracerProvider({
      resource: opts.resource,
      sampler: createSampler(opts.config.sampler, opts.config.samplerRatio),
      spanProcessors: [
        new BatchSpanProcessor({
          exporter: opts.exporter,
          scheduledDelayMillis: batch.scheduledDelayMs,
          exportTimeoutMillis: batch.exportTimeoutMs,
          maxQueueSize: batch.maxQueueSize,
          maxExportBatchSize: batch.maxExportBatchSize,
        }),
      ],
    });
    const tracer = this.provider.getTracer(TRACER_NAME, opts.version);
    const propagator: TextMapPropagator | undefined = opts.propagate ? new W3CTraceContextPropagator() : undefined;
    this.#server = new ServerSpans({ tracer, propagator, maxRoutes: opts.maxRoutes });
    this.#mcp = new McpSpans({ tracer, propagator, serverSpanOf: (ex) => this.#server.spanOf(ex) });
  }

  /** Registers the context manager and both span sources on the observation bus. */
  start(bus: ObserverRegistry<McpOperation>): void {
    if (this.#unsubscribe !== undefined) return;
    const manager = new AsyncLocalStorageContextManager().enable();
    if (context.setGlobalContextManager(manager)) this.#contextManager = manager;
    else manager.disable();
    const server = this.#server.register(bus);
    const mcp = this.#mcp.register(bus);
    this.#unsubscribe = () => {
      server.unregister();
      mcp.unregister();
    };
  }

  /**
   * The span context of what a measurement was taken on — an MCP operation (its own span) or an exchange
   * (its SERVER span) — for exemplars; `undefined` for anything else.
   */
  contextOf(origin: object): SpanContext | undefined {
    return this.#mcp.spanContextOf(origin) ?? this.#server.spanContextOf(origin);
  }

  /** The context of an exchange's SERVER span (for log lines about that exchange). */
  spanContextOf(ex: Exchange): SpanContext | undefined {
    return this.#server.spanOf(ex)?.spanContext();
  }

  /** Unregisters, then exports what is queued (within `timeoutMs`) and shuts the exporter down. */
  async shutdown(timeoutMs: number): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    });
    try {
      await Promise.race([this.provider.shutdown(), timeout]);
    } finally {
      clearTimeout(timer);
      if (this.#contextManager !== undefined) {
        context.disable();
        this.#contextManager = undefined;
      }
    }
  }
}
