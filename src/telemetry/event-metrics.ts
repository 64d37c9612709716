/**
 * The event stream's own health families. Reconnections, gaps and invalid events by reason are exported
 * at 0 from start-up (their first occurrence must be an increase); events received stay on demand: the
 * rules read their presence as "the stream has delivered something".
 */
import type { Counter } from '@opentelemetry/api';
import type { EventType } from '../sources/events/event-map.ts';
import type { EventStreamMetrics, EventSubscriber, SkipReason } from '../sources/events/subscriber.ts';
import { vocabulary, type Instruments } from './instruments.ts';

/** Every reason an event is skipped (sources/events/sequence.ts): each `sidecar_events_invalid_total{reason}` starts at 0. */
const INVALID_REASONS = vocabulary<SkipReason>({
  malformed_json: true,
  bad_envelope: true,
  unknown_type: true,
  bad_data: true,
  duplicate_id: true,
  out_of_order_id: true,
  repeated_snapshot: true,
});

export class EventMetrics implements EventStreamMetrics {
  readonly #received: Counter;
  readonly #invalid: Counter;
  readonly #reconnects: Counter;
  readonly #gaps: Counter;

  constructor(instruments: Instruments) {
    this.#received = instruments.counter('sidecar_events_received_total');
    this.#invalid = instruments.counter('sidecar_events_invalid_total');
    this.#reconnects = instruments.counter('sidecar_event_stream_reconnects_total');
    this.#gaps = instruments.counter('sidecar_event_gaps_total');
    for (const reason of INVALID_REASONS) instruments.startAtZero('sidecar_events_invalid_total', { reason });
    instruments.startAtZero('sidecar_event_stream_reconnects_total');
    instruments.startAtZero('sidecar_event_gaps_total');
  }

  /** Observes `sidecar_event_stream_connected` from the subscriber's status. */
  observe(instruments: Instruments, subscriber: EventSubscriber): void {
    instruments.observeGauge('sidecar_event_stream_connected', (observe) => observe(subscriber.status === 'connected' ? 1 : 0));
  }

  received(type: EventType): void {
    this.#received.add(1, { type });
  }

  invalid(reason: SkipReason): void {
    this.#invalid.add(1, { reason });
  }

  reconnected(): void {
    this.#reconnects.add(1);
  }

  gap(): void {
    this.#gaps.add(1);
  }
}
