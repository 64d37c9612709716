/**
 * The ledger: the only place that decides what is counted. Sources (proxied REST, proxied MCP, the event
 * stream, inventory polls) hand it facts; it applies "one source per fact" and passes records to a
 * {@link CatalogSink} (implemented by telemetry/, which the ledger never imports).
 *
 * Request-level facts — tool calls and resource reads that pass through the sidecar — come from proxying
 * alone; the event stream's `tool.invoked`/`resource.read` are counted only for transports the sidecar
 * does not proxy (stdio), so a proxied call is never counted twice.
 */
import type { ResourceReadFact, ToolCallFact } from './facts.ts';

/** Where the ledger's records go (telemetry/catalog-recorder.ts). */
export interface CatalogSink {
  toolCall(fact: ToolCallFact): void;
  resourceRead(fact: ResourceReadFact): void;
}

/** Transports whose traffic passes through the sidecar: event-stream facts about them are duplicates. */
export const PROXIED_TRANSPORTS: ReadonlySet<string> = new Set(['sse', 'streamable_http', 'http', 'rest', 'websocket']);

export class Ledger {
  readonly #sink: CatalogSink;

  constructor(sink: CatalogSink) {
    this.#sink = sink;
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
}
