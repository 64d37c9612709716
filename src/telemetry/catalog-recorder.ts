/**
 * Records the ledger's decisions on the catalog families, with bounded traffic labels.
 */
import type { Counter, Histogram } from '@opentelemetry/api';
import type { ResourceReadFact, ToolCallFact } from '../ledger/facts.ts';
import type { CatalogSink } from '../ledger/ledger.ts';
import type { BoundedLabel, Instruments } from './instruments.ts';

export class CatalogRecorder implements CatalogSink {
  readonly #toolCalls: Counter;
  readonly #toolDuration: Histogram;
  readonly #toolErrors: Counter;
  readonly #toolIdCalls: BoundedLabel;
  readonly #toolIdDuration: BoundedLabel;
  readonly #toolIdErrors: BoundedLabel;
  readonly #reads: Counter;
  readonly #readDuration: Histogram;
  readonly #uriReads: BoundedLabel;
  readonly #uriDuration: BoundedLabel;

  constructor(instruments: Instruments) {
    this.#toolCalls = instruments.counter('mcp_tool_invocations_total');
    this.#toolDuration = instruments.histogram('mcp_tool_invocation_duration_seconds');
    this.#toolErrors = instruments.counter('mcp_tool_invocation_errors_total');
    this.#toolIdCalls = instruments.label('mcp_tool_invocations_total', 'tool_id');
    this.#toolIdDuration = instruments.label('mcp_tool_invocation_duration_seconds', 'tool_id');
    this.#toolIdErrors = instruments.label('mcp_tool_invocation_errors_total', 'tool_id');
    this.#reads = instruments.counter('mcp_resource_reads_total');
    this.#readDuration = instruments.histogram('mcp_resource_read_duration_seconds');
    this.#uriReads = instruments.label('mcp_resource_reads_total', 'resource_uri');
    this.#uriDuration = instruments.label('mcp_resource_read_duration_seconds', 'resource_uri');
  }

  toolCall(fact: ToolCallFact): void {
    this.#toolCalls.add(1, { tool_id: this.#toolIdCalls.value(fact.toolId), status: fact.ok ? 'success' : 'error' });
    this.#toolDuration.record(fact.durationSeconds, { tool_id: this.#toolIdDuration.value(fact.toolId) });
    if (!fact.ok) {
      this.#toolErrors.add(1, { tool_id: this.#toolIdErrors.value(fact.toolId), error_type: fact.errorType ?? 'tool_error' });
    }
  }

  resourceRead(fact: ResourceReadFact): void {
    this.#reads.add(1, { resource_uri: this.#uriReads.value(fact.resourceUri), status: fact.ok ? 'success' : 'error' });
    this.#readDuration.record(fact.durationSeconds, { resource_uri: this.#uriDuration.value(fact.resourceUri) });
  }
}
