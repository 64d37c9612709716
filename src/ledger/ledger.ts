/**
 * The ledger: the only place that decides what is counted. Sources (proxied REST, proxied MCP, the event
 * stream, inventory polls) hand it facts; it applies "one source per fact" and passes records to a
 * {@link CatalogSink} (implemented by telemetry/, which the ledger never imports).
 *
 * - Request-level facts — tool calls and resource reads that pass through the sidecar, authentication,
 *   authorization, rate limiting — come from proxying alone. The event stream's `tool.invoked` and
 *   `resource.read` are counted only for transports the sidecar does not proxy (stdio), so a proxied call
 *   is never counted twice.
 * - Lifecycle and configuration facts go through {@link LifecycleLedger}: events while the stream is
 *   connected, inference (REST calls, poll differences) while it is not, each occurrence once. A config
 *   validation refused in a REST answer is request-level: the stream does not report it.
 */
import type { RequestFact, ResourceReadFact, ToolCallFact } from './facts.ts';
import { LifecycleLedger, type LifecycleLedgerOptions, type LifecycleSink } from './lifecycle.ts';

/** Where the ledger's records go (telemetry/catalog-recorder.ts). */
export interface CatalogSink extends LifecycleSink {
  toolCall(fact: ToolCallFact): void;
  resourceRead(fact: ResourceReadFact): void;
  request(fact: RequestFact): void;
}

/** Transports whose traffic passes through the sidecar: event-stream facts about them are duplicates. */
export const PROXIED_TRANSPORTS: ReadonlySet<string> = new Set(['sse', 'streamable_http', 'http', 'rest', 'websocket']);

export class Ledger {
  readonly #sink: CatalogSink;
  readonly lifecycle: LifecycleLedger;

  constructor(sink: CatalogSink, lifecycleOptions?: LifecycleLedgerOptions) {
    this.#sink = sink;
    this.lifecycle = new LifecycleLedger(sink, lifecycleOptions);
  }

  /** A tool call seen by some source. */
  toolCall(fact: ToolCallFact): void {
    if (fact.source === 'event' && PROXIED_TRANSPORTS.has(fact.transport ?? '')) return;
    this.#sink.toolCall(fact);
  }

  /** A resource read seen by some source. */
  resourceRead(fact: ResourceReadFact): void {
    if (fact.source === 'event' && PROXIED_TRANSPORTS.has(fact.transport ?? '')) return;
    this.#sink.resourceRead(fact);
  }

  /** An authentication, authorization, rate-limit or classification fact from a proxied request. */
  request(fact: RequestFact): void {
    this.#sink.request(fact);
  }

  /**
   * A config validation the composer refused in answer to a proxied `POST /config/validate` or
   * `PUT /config`. It is a request-level fact: the answer says it, the composer's stream does not
   * (its `config.validation_failed` is for files it reloads by itself), so it counts whether or not the
   * stream is connected.
   */
  configValidationRefused(errorType: string): void {
    this.#sink.lifecycle({ kind: 'config_validation_error', errorType });
  }
}
