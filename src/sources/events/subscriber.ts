/**
 * Subscribes to the composer's event stream: the stream client (`stream.ts`) moves the bytes, the event
 * sequence (`sequence.ts`) decides what each event means for the ledger and the inventory.
 *
 * - While connected, the stream is the source of lifecycle and config facts (the ledger ignores inference).
 * - Replays after a reconnection (`Last-Event-ID`) are told from live events by the snapshot's
 *   `last_event_id`, or by their time when a composer does not send it; replayed events that inference
 *   already counted during the gap are not counted again. An answer that was held on its way while facts
 *   were inferred is discarded and asked again.
 * - An id already applied is never applied again; an id going backwards, a `reset`, or a composer restart
 *   is a gap the stream cannot fill: the inventory is re-read at once and the gap is counted in
 *   `sidecar_event_gaps_total`, never guessed.
 *
 * A {@link Source} (`event_stream`) that runs from start to stop: it finds out by itself whether the
 * composer serves the stream (a 404 is re-probed), so detection does not switch it.
 */
import { feedsOf, type Feed, type Source } from '../source.ts';
import { EventSequence, type EventSequenceDeps, type StreamStatus } from './sequence.ts';
import { EventStreamClient, type EventStreamOptions } from './stream.ts';

export type { EventStreamMetrics, SkipReason, StreamStatus } from './sequence.ts';
export type EventSubscriberDeps = EventSequenceDeps;

export class EventSubscriber implements Source {
  readonly name = 'event_stream';
  readonly feeds: readonly Feed[] = feedsOf('event_stream');
  readonly #sequence: EventSequence;
  readonly #client: EventStreamClient;

  constructor(opts: EventStreamOptions, deps: EventSubscriberDeps) {
    const sequence = new EventSequence(deps);
    this.#sequence = sequence;
    this.#client = new EventStreamClient(opts, {
      resumeFrom: () => sequence.resumeFrom,
      onRequest: () => sequence.requestSent(),
      onConnected: (resumed) => sequence.connected(resumed),
      onEvent: (m) => sequence.event(m),
      onDisconnected: (reason) => sequence.disconnected(reason),
      onUnavailable: () => sequence.unavailable(),
      onRefused: (status) => sequence.refused(status),
    });
  }

  /** `undefined` until the first attempt ends one way or another. */
  get status(): StreamStatus | undefined {
    return this.#sequence.status;
  }

  start(): void {
    this.#client.start();
  }

  stop(): Promise<void> {
    return this.#client.stop();
  }
}
