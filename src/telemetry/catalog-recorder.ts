/**
 * Records the ledger's decisions on the catalog families, with bounded traffic labels.
 *
 * Series whose label values are known in advance are exported at 0 before their first increment, so that
 * the first occurrence is an increase Prometheus sees (`increase()` cannot see a series born at 1): from
 * start-up, the configuration reloads by status and the authentication attempts and failures by every
 * scheme and reason the sidecar can classify; for each server the inventory knows, as soon as it knows it,
 * its starts, stops, restarts and crashes; for each tool, its invocations by status. Error types, durations
 * and everything else stay on demand (docs/metrics.md says why).
 *
 * With exemplars on, a proxied tool call or resource read (its fact names the exchange or MCP operation it was seen on) is
 * offered, with that object's span, to the reservoirs of its duration series and of its tool counter series.
 */
import type { Attributes } from '@opentelemetry/api';
import type { AuthFailureReason, AuthScheme } from '../sources/rest/auth.ts';
import type { RequestFact, ResourceReadFact, ToolCallFact } from '../ledger/facts.ts';
import type { KnownKind } from '../ledger/known-names.ts';
import type { CatalogSink } from '../ledger/ledger.ts';
import type { LifecycleFact } from '../ledger/lifecycle.ts';
import type { BucketReservoir, CounterReservoir, Exemplars, FamilyReservoirs } from './exemplars.ts';
import type { LocalSum } from './local-sum.ts';
import type { BoundedLabelOf, FamilyName, LabelOf } from './catalog.ts';
import { vocabulary, type BoundedLabel, type HistogramOf, type Instruments } from './instruments.ts';

/** Every `method` of the auth families (sources/rest/auth.ts). */
const AUTH_SCHEMES = vocabulary<AuthScheme>({ bearer: true, api_key: true, basic: true, oauth2: true, none: true });
/** The `reason`s of `mcp_auth_failures_total` that sources/rest/auth.ts `authFailureReason` gives (never `unknown`). */
const AUTH_FAILURE_REASONS = vocabulary<AuthFailureReason>({
  missing: true,
  invalid_token: true,
  invalid_api_key: true,
  invalid_credentials: true,
  expired: true,
  unknown: false,
});
const RESTART_REASONS = vocabulary<Extract<LifecycleFact, { kind: 'restart' }>['reason']>({ manual: true, crash: true, config_change: true });
const UNCLASSIFIED_REASONS = vocabulary<Extract<RequestFact, { kind: 'unclassified' }>['reason']>({ too_large: true, not_json: true });

/** The exemplar reservoirs of the catalog families that have them. */
interface CatalogExemplars {
  readonly exemplars: Exemplars;
  readonly toolDuration: FamilyReservoirs<BucketReservoir>;
  readonly toolCalls: FamilyReservoirs<CounterReservoir>;
  readonly readDuration: FamilyReservoirs<BucketReservoir>;
}

/** The label values of a series as facts give them (labels `L`), before the bounded ones are bounded. */
type LabelValues<L extends string> = { readonly [K in L]?: string };

/** A counter and the bounded labels of its family; made by {@link boundedCounter}, which ties `L` to the family. */
class BoundedCounter<L extends string> {
  readonly #instruments: Instruments;
  readonly #name: FamilyName<'counter'>;
  /** Summed per series in process (local-sum.ts): an increment is `cell.value++`. */
  readonly #counter: LocalSum;
  readonly #bounded: ReadonlyMap<string, BoundedLabel>;

  constructor(instruments: Instruments, name: FamilyName<'counter'>, bounded: ReadonlyMap<string, BoundedLabel>) {
    this.#instruments = instruments;
    this.#name = name;
    this.#counter = instruments.counter(name);
    this.#bounded = bounded;
  }

  #attributes(attributes: LabelValues<L>): Attributes {
    const attrs: Attributes = {};
    for (const key in attributes) {
      const v = attributes[key] as string;
      attrs[key] = this.#bounded.get(key)?.value(v) ?? v;
    }
    return attrs;
  }

  add(attributes: LabelValues<L>): void {
    this.addCounted(attributes);
  }

  /** Adds 1 to the series `attributes` (bounded); returns the attributes recorded. */
  addCounted(attributes: LabelValues<L>): Attributes {
    const cell = this.#counter.cell(this.#attributes(attributes));
    cell.value++;
    return cell.attributes;
  }

  /** Exports the series at 0 (see {@link Instruments.startAtZero}). */
  startAtZero(attributes: LabelValues<L> = {}): void {
    this.#instruments.startAtZero(this.#name, this.#attributes(attributes));
  }
}

/** The {@link BoundedCounter} of counter family `N`. */
type CounterFor<N extends FamilyName<'counter'>> = BoundedCounter<LabelOf<N>>;

function boundedCounter<N extends FamilyName<'counter'>>(instruments: Instruments, name: N, bounded: readonly BoundedLabelOf<N>[] = []): CounterFor<N> {
  return new BoundedCounter(instruments, name, new Map(bounded.map((l) => [l, instruments.label(name, l)])));
}

export class CatalogRecorder implements CatalogSink {
  readonly #toolCalls: CounterFor<'mcp_tool_invocations_total'>;
  readonly #toolDuration: HistogramOf<'mcp_tool_invocation_duration_seconds'>;
  readonly #toolIdDuration: BoundedLabel;
  readonly #toolErrors: CounterFor<'mcp_tool_invocation_errors_total'>;
  readonly #reads: CounterFor<'mcp_resource_reads_total'>;
  readonly #readDuration: HistogramOf<'mcp_resource_read_duration_seconds'>;
  readonly #uriDuration: BoundedLabel;
  readonly #authAttempts: CounterFor<'mcp_auth_attempts_total'>;
  readonly #authFailures: CounterFor<'mcp_auth_failures_total'>;
  readonly #authzChecks: CounterFor<'mcp_authz_checks_total'>;
  readonly #authzDenials: CounterFor<'mcp_authz_denials_total'>;
  readonly #rateLimited: CounterFor<'mcp_rate_limit_exceeded_total'>;
  readonly #unclassified: CounterFor<'sidecar_rest_unclassified_total'>;
  readonly #starts: CounterFor<'mcp_server_starts_total'>;
  readonly #stops: CounterFor<'mcp_server_stops_total'>;
  readonly #restarts: CounterFor<'mcp_server_restarts_total'>;
  readonly #crashes: CounterFor<'mcp_server_crashes_total'>;
  readonly #reloads: CounterFor<'mcp_config_reloads_total'>;
  readonly #validationErrors: CounterFor<'mcp_config_validation_errors_total'>;
  readonly #exemplars: CatalogExemplars | undefined;

  /** @param exemplars with tracing on and a filter other than always_off. */
  constructor(instruments: Instruments, exemplars?: Exemplars) {
    const counter = <N extends FamilyName<'counter'>>(name: N, bounded?: readonly BoundedLabelOf<N>[]) => boundedCounter(instruments, name, bounded);
    this.#toolCalls = counter('mcp_tool_invocations_total', ['tool_id']);
    this.#toolDuration = instruments.histogram('mcp_tool_invocation_duration_seconds');
    this.#toolIdDuration = instruments.label('mcp_tool_invocation_duration_seconds', 'tool_id');
    this.#toolErrors = counter('mcp_tool_invocation_errors_total', ['tool_id', 'error_type']);
    this.#reads = counter('mcp_resource_reads_total', ['resource_uri']);
    this.#readDuration = instruments.histogram('mcp_resource_read_duration_seconds');
    this.#uriDuration = instruments.label('mcp_resource_read_duration_seconds', 'resource_uri');
    this.#authAttempts = counter('mcp_auth_attempts_total');
    this.#authFailures = counter('mcp_auth_failures_total');
    this.#authzChecks = counter('mcp_authz_checks_total', ['resource_type']);
    this.#authzDenials = counter('mcp_authz_denials_total', ['resource_type', 'reason']);
    this.#rateLimited = counter('mcp_rate_limit_exceeded_total', ['endpoint', 'user_id']);
    this.#unclassified = counter('sidecar_rest_unclassified_total');
    this.#starts = counter('mcp_server_starts_total', ['server_id']);
    this.#stops = counter('mcp_server_stops_total', ['server_id']);
    this.#restarts = counter('mcp_server_restarts_total', ['server_id']);
    this.#crashes = counter('mcp_server_crashes_total', ['server_id']);
    this.#reloads = counter('mcp_config_reloads_total');
    this.#validationErrors = counter('mcp_config_validation_errors_total', ['error_type']);
    this.#exemplars =
      exemplars === undefined
        ? undefined
        : {
            exemplars,
            toolDuration: exemplars.histogram('mcp_tool_invocation_duration_seconds'),
            toolCalls: exemplars.counter('mcp_tool_invocations_total'),
            readDuration: exemplars.histogram('mcp_resource_read_duration_seconds'),
          };

    for (const status of ['success', 'failed']) this.#reloads.startAtZero({ status });
    for (const method of AUTH_SCHEMES) {
      // A request without credentials never authenticates: `none` only fails.
      for (const status of method === 'none' ? ['failed'] : ['success', 'failed']) this.#authAttempts.startAtZero({ method, status });
      for (const reason of AUTH_FAILURE_REASONS) this.#authFailures.startAtZero({ method, reason });
    }
    for (const reason of UNCLASSIFIED_REASONS) this.#unclassified.startAtZero({ reason });
  }

  /**
   * A name the inventory now knows (ledger/known-names.ts): a server's lifecycle counters and a tool's
   * invocation counters are exported at 0 from now on. Prompts and resource URIs only keep their labels.
   */
  known(kind: KnownKind, name: string): void {
    if (kind === 'servers') {
      for (const status of ['success', 'failed']) {
        this.#starts.startAtZero({ server_id: name, status });
        this.#stops.startAtZero({ server_id: name, status });
      }
      for (const reason of RESTART_REASONS) this.#restarts.startAtZero({ server_id: name, reason });
      this.#crashes.startAtZero({ server_id: name });
    } else if (kind === 'tools') {
      for (const status of ['success', 'error']) this.#toolCalls.startAtZero({ tool_id: name, status });
    }
  }

  toolCall(fact: ToolCallFact): void {
    const counted = this.#toolCalls.addCounted({ tool_id: fact.toolId, status: fact.ok ? 'success' : 'error' });
    const timed = { tool_id: this.#toolIdDuration.value(fact.toolId) };
    this.#toolDuration.record(fact.durationSeconds, timed);
    if (!fact.ok) this.#toolErrors.add({ tool_id: fact.toolId, error_type: fact.errorType ?? 'tool_error' });
    const ex = this.#exemplars;
    const ctx = ex?.exemplars.contextFor(fact.origin);
    if (ex === undefined || ctx === undefined) return;
    ex.toolDuration.offer(timed, fact.durationSeconds, ctx);
    ex.toolCalls.offer(counted, 1, ctx);
  }

  resourceRead(fact: ResourceReadFact): void {
    this.#reads.add({ resource_uri: fact.resourceUri, status: fact.ok ? 'success' : 'error' });
    const timed = { resource_uri: this.#uriDuration.value(fact.resourceUri) };
    this.#readDuration.record(fact.durationSeconds, timed);
    const ex = this.#exemplars;
    const ctx = ex?.exemplars.contextFor(fact.origin);
    if (ex !== undefined && ctx !== undefined) ex.readDuration.offer(timed, fact.durationSeconds, ctx);
  }

  request(fact: RequestFact): void {
    switch (fact.kind) {
      case 'auth_attempt':
        return this.#authAttempts.add({ method: fact.scheme, status: fact.ok ? 'success' : 'failed' });
      case 'auth_failure':
        return this.#authFailures.add({ method: fact.scheme, reason: fact.reason });
      case 'authz_check':
        return this.#authzChecks.add({ resource_type: fact.resourceType, status: fact.allowed ? 'allowed' : 'denied' });
      case 'authz_denial':
        return this.#authzDenials.add({ resource_type: fact.resourceType, reason: fact.reason });
      case 'rate_limited':
        return this.#rateLimited.add({ endpoint: fact.endpoint, user_id: fact.userId });
      case 'unclassified':
        return this.#unclassified.add({ reason: fact.reason });
    }
  }

  lifecycle(fact: LifecycleFact): void {
    switch (fact.kind) {
      case 'start':
        return this.#starts.add({ server_id: fact.serverId, status: fact.ok ? 'success' : 'failed' });
      case 'stop':
        return this.#stops.add({ server_id: fact.serverId, status: fact.ok ? 'success' : 'failed' });
      case 'restart':
        return this.#restarts.add({ server_id: fact.serverId, reason: fact.reason });
      case 'crash':
        return this.#crashes.add({ server_id: fact.serverId });
      case 'config_reload':
        return this.#reloads.add({ status: fact.ok ? 'success' : 'failed' });
      case 'config_validation_error':
        return this.#validationErrors.add({ error_type: fact.errorType });
    }
  }
}
