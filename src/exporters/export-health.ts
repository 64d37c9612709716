/**
 * Accounting of OTLP export failures: each failed export (after the SDK's own retries) counts in
 * `sidecar_otlp_export_failures_total{signal}`, and is logged without flooding — the first failure of an
 * outage at once, then one summary per `summaryIntervalMs` while it lasts, then one "recovered" line.
 * Summaries are written when a failure arrives, so no timer is needed. Messages name the endpoint
 * without credentials or query, and the error by its code, never by a response body.
 *
 * The exporter wrappers ({@link AccountedMetricExporter}, {@link AccountedSpanExporter}) are decorators of
 * the SDK's exporter interfaces: the SDK calls them, they call the real exporter and observe its result.
 */
import type { Attributes, Counter } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  AggregationTemporality,
  AggregationType,
  type AggregationOption,
  type InstrumentType,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { mergeScopes } from './late-producer.ts';
import { scrubUrls, type Logger } from '../log.ts';

export type OtlpSignal = 'metrics' | 'traces';

export interface ExportHealthOptions {
  /** Shortest time between two summary lines of one outage. @default 60000 */
  readonly summaryIntervalMs?: number;
  /** Clock, for tests. @default Date.now */
  readonly now?: () => number;
}

interface SignalState {
  readonly endpoint: string;
  readonly attrs: Attributes;
  failing: boolean;
  outageStart: number;
  outageFailures: number;
  sinceSummary: number;
  lastSummary: number;
}

/** A short, secret-free description of an export error: its code, else its first words (see {@link scrubUrls}). */
export function describeExportError(err: unknown): string {
  if (err === undefined || err === null) return 'unknown';
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e.code === 'string' && e.code !== '') return e.code;
  if (typeof e.code === 'number') return `http_${e.code}`;
  return scrubUrls(typeof e.message === 'string' ? e.message : String(err)).slice(0, 120);
}

export class ExportHealth {
  readonly #logger: Logger;
  readonly #summaryIntervalMs: number;
  readonly #now: () => number;
  readonly #signals = new Map<OtlpSignal, SignalState>();
  #counter: Counter | undefined;

  constructor(logger: Logger, opts: ExportHealthOptions = {}) {
    this.#logger = logger;
    this.#summaryIntervalMs = opts.summaryIntervalMs ?? 60_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Declares a pushed signal and the endpoint to name in log lines (already stripped of secrets). */
  register(signal: OtlpSignal, endpoint: string): void {
    this.#signals.set(signal, { endpoint, attrs: { signal }, failing: false, outageStart: 0, outageFailures: 0, sinceSummary: 0, lastSummary: 0 });
    this.#counter?.add(0, { signal });
  }

  /**
   * Binds the failure counter. It lives on the meter provider whose OTLP reader this accounting serves,
   * so it can only exist after the reader: the series start at 0 for every registered signal.
   */
  attach(counter: Counter): void {
    this.#counter = counter;
    for (const s of this.#signals.values()) counter.add(0, s.attrs);
  }

  /** Observes the result of one export. */
  observe(signal: OtlpSignal, result: ExportResult): void {
    const s = this.#signals.get(signal);
    if (s === undefined) return;
    if (result.code === ExportResultCode.SUCCESS) {
      if (s.failing) {
        s.failing = false;
        this.#logger.info(
          { event: 'otlp_export_recovered', signal, endpoint: s.endpoint, failures: s.outageFailures, outageMs: this.#now() - s.outageStart },
          `OTLP ${signal} export recovered after ${s.outageFailures} failed export(s)`,
        );
      }
      return;
    }
    this.#counter?.add(1, s.attrs);
    const now = this.#now();
    const error = describeExportError(result.error);
    if (!s.failing) {
      s.failing = true;
      s.outageStart = now;
      s.outageFailures = 1;
      s.sinceSummary = 0;
      s.lastSummary = now;
      this.#logger.warn(
        { event: 'otlp_export_failed', signal, endpoint: s.endpoint, error },
        `OTLP ${signal} export failed (${error}); proxying is unaffected. Further failures are summarised every ${Math.round(this.#summaryIntervalMs / 1000)}s until it recovers`,
      );
      return;
    }
    s.outageFailures++;
    s.sinceSummary++;
    if (now - s.lastSummary >= this.#summaryIntervalMs) {
      this.#logger.warn(
        { event: 'otlp_export_failing', signal, endpoint: s.endpoint, error, failures: s.sinceSummary, outageMs: now - s.outageStart },
        `OTLP ${signal} export still failing (${error}): ${s.sinceSummary} more failed export(s)`,
      );
      s.sinceSummary = 0;
      s.lastSummary = now;
    }
  }
}

/** A metric exporter whose results are observed by an {@link ExportHealth}. */
export class AccountedMetricExporter implements PushMetricExporter {
  readonly #inner: PushMetricExporter;
  readonly #health: ExportHealth;
  readonly #rank: ((name: string) => number | undefined) | undefined;

  /** @param rank with it, repeated scopes are merged first (late-producer.ts `mergeScopes`). */
  constructor(inner: PushMetricExporter, health: ExportHealth, rank?: (name: string) => number | undefined) {
    this.#inner = inner;
    this.#health = health;
    this.#rank = rank;
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const rank = this.#rank;
    this.#inner.export(rank === undefined ? metrics : mergeScopes(metrics, rank), (result) => {
      this.#health.observe('metrics', result);
      resultCallback(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush();
  }

  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    return this.#inner.selectAggregationTemporality?.(instrumentType) ?? AggregationTemporality.CUMULATIVE;
  }

  selectAggregation(instrumentType: InstrumentType): AggregationOption {
    return this.#inner.selectAggregation?.(instrumentType) ?? { type: AggregationType.DEFAULT };
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
}

/** A span exporter whose results are observed by an {@link ExportHealth}. */
export class AccountedSpanExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #health: ExportHealth;

  constructor(inner: SpanExporter, health: ExportHealth) {
    this.#inner = inner;
    this.#health = health;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.#inner.export(spans, (result) => {
      this.#health.observe('traces', result);
      resultCallback(result);
    });
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
}
