/**
 * The order and multiplicity of the composer's events, decided without sockets or timers: for each
 * connection and each event, whether it is new, a replay of a gap, a copy of one already applied, or a
 * sign that events were lost — and the new ones applied: facts to the ledger (with the replay flag),
 * snapshots and state changes to the inventory. `stream.ts` moves the bytes; `subscriber.ts` wires the two.
 *
 * The rules (docs/events.md, "Order and multiplicity"):
 * - Ids are strictly increasing within one composer process. The **position** is the highest id applied in
 *   the current process (or covered by the snapshot of a connection that did not resume); it is what the
 *   next connection sends as `Last-Event-ID`. An event at or below it is never applied again: a copy of an
 *   id applied recently is a duplicate (`duplicate_id`), any other is out of order (`out_of_order_id`) and
 *   a gap.
 * - The process changes only when the composer says so: a snapshot whose `last_event_id` is below the
 *   position, or — from a composer that sends no `last_event_id` — a `reset` (other than `expired`) followed
 *   by ids at or below the position. That is a gap; the position starts again from 0, and what follows is the new process's replay.
 * - An answer is used only if no fact was inferred while it was on its way. The composer takes the snapshot
 *   when the request reaches it, so every event older than the request is a replay (at or below the
 *   snapshot's `last_event_id`) and is matched against inference; but an occurrence inferred after the
 *   request left may have happened after the snapshot and would arrive as live. Such an answer (a stalled
 *   reconnection) is discarded unread and the stream asks again, from the same position.
 * - One snapshot per connection, the first; a later one (a copy sent again) is skipped (`repeated_snapshot`).
 * - Replays are ids above the position and up to the snapshot's `last_event_id`; from a composer that does
 *   not send it, events whose `time` is older than the connection.
 */
import type { EventSourceMessage } from 'eventsource-parser';
import type { InventoryWriter } from '../../ledger/inventory.ts';
import { CAPABILITY_KINDS } from '../../ledger/inventory-change.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import type { Logger } from '../../log.ts';
import { mapEvent, type EventType, type InvalidReason } from './event-map.ts';
import type { DisconnectReason } from './stream.ts';

/** Why an event was skipped: invalid in itself, or not new (already applied, out of order, a second snapshot). */
export type SkipReason = InvalidReason | 'duplicate_id' | 'out_of_order_id' | 'repeated_snapshot';

/** What the subscriber reports for the sidecar's own families (implemented by telemetry/). */
export interface EventStreamMetrics {
  received(type: EventType): void;
  invalid(reason: SkipReason): void;
  reconnected(): void;
  gap(): void;
}

export interface EventSequenceDeps {
  readonly ledger: Ledger;
  /** Where snapshots and server events go, as changes (the inventory is their one writer). */
  readonly inventory: InventoryWriter;
  readonly metrics: EventStreamMetrics;
  readonly logger: Logger;
  /** Re-reads the inventory now (after a gap). */
  readonly reread: () => void;
  /** Where lifecycle facts come from without the stream, in words, from the detected sources (`undefined` before detection). */
  readonly withoutStream?: () => string | undefined;
  /** Clock (tests pass a fake one). @default Date.now */
  readonly now?: () => number;
}

export type StreamStatus = 'connected' | 'disconnected' | 'unavailable';

/** Ids remembered to tell a duplicate from an id out of order (older ones below the position are out of order). */
const RECENT_IDS = 1024;

export class EventSequence {
  readonly #deps: EventSequenceDeps;
  readonly #now: () => number;
  #status: StreamStatus | undefined;
  #everConnected = false;
  /** Highest id applied in the current composer process; `undefined` before any. */
  #position: number | undefined;
  readonly #recent = new Set<number>();
  readonly #recentRing: number[] = [];
  #recentNext = 0;
  // Per connection.
  #inferenceAtRequest = -1;
  /** The inventory's change mark when the request left: the snapshot is at least that recent. */
  #viewAtRequest = 0;
  /** The composer's time of this connection's snapshot: without `last_event_id`, older events are replays. */
  #snapshotTime: number | undefined;
  #resumed = false;
  #connectedAt = 0;
  /** Highest id that existed when this connection's snapshot was taken: ids up to it are replays. */
  #replayUpTo: number | undefined;
  /** A `reset` on this connection that may mean a new composer process (any reason but `expired`/`invalid_id`). */
  #resetMayRestart = false;
  #snapshotSeen = false;
  /** Whether this connection has said which composer process its ids belong to. */
  #processKnown = false;
  #gapCounted = false;

  constructor(deps: EventSequenceDeps) {
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** `undefined` until the first attempt ends one way or another. */
  get status(): StreamStatus | undefined {
    return this.#status;
  }

  /** The `Last-Event-ID` for the next connection (`undefined`: nothing to resume). */
  get resumeFrom(): string | undefined {
    return this.#position === undefined ? undefined : String(this.#position);
  }

  /** A request for the stream is about to be sent. */
  requestSent(): void {
    this.#inferenceAtRequest = this.#deps.ledger.lifecycle.inferenceMark;
    this.#viewAtRequest = this.#deps.inventory.mark();
  }

  /**
   * The answer's headers arrived. Returns `false` when the answer must be discarded unread: facts were
   * inferred, or a poll changed the per-server memory, since the request left, so its snapshot may
   * predate occurrences already counted or seen.
   */
  connected(resumed: boolean): boolean {
    const { ledger, inventory, logger, metrics } = this.#deps;
    if (ledger.lifecycle.inferenceMark !== this.#inferenceAtRequest || inventory.mark() !== this.#viewAtRequest) {
      logger.debug(
        { event: 'event_stream_answer_discarded', resumed },
        'polls or proxied calls saw changes while the event stream answer was on its way: asking again',
      );
      return false;
    }
    if (this.#everConnected) metrics.reconnected();
    this.#everConnected = true;
    this.#connectedAt = this.#now();
    this.#resumed = resumed;
    this.#replayUpTo = undefined;
    this.#snapshotTime = undefined;
    this.#resetMayRestart = false;
    this.#snapshotSeen = false;
    this.#processKnown = false;
    this.#gapCounted = false;
    ledger.lifecycle.onStreamConnected();
    inventory.apply({ kind: 'stream', connected: true });
    this.#setStatus('connected', () =>
      logger.info({ event: 'event_stream_connected', resumed, lastEventId: this.resumeFrom }, 'event stream connected: lifecycle facts now come from events'),
    );
    return true;
  }

  disconnected(reason: DisconnectReason): void {
    this.#down();
    if (reason === 'stopped') return;
    this.#setStatus('disconnected', () =>
      this.#deps.logger.warn(
        { event: 'event_stream_disconnected', reason },
        'event stream lost: lifecycle facts come from polling and proxied calls until it is back',
      ),
    );
  }

  unavailable(): void {
    this.#down();
    this.#setStatus('unavailable', () => {
      const lifecycle = this.#deps.withoutStream?.() ?? 'from REST polling and proxied REST calls, if the composer serves its REST API (see sources_detected)';
      this.#deps.logger.info({ event: 'event_stream_unavailable', lifecycle }, `the composer serves no event stream (404): lifecycle facts come ${lifecycle}`);
    });
  }

  refused(status: number): void {
    this.#down();
    this.#setStatus('disconnected', () =>
      this.#deps.logger.warn({ event: 'event_stream_refused', status }, `the composer refused the event stream (${status}); check --upstream-token-file`),
    );
  }

  #down(): void {
    this.#deps.ledger.lifecycle.onStreamDisconnected();
    this.#deps.inventory.apply({ kind: 'stream', connected: false });
  }

  /** One SSE event of the current connection, in stream order. */
  event(message: Pick<EventSourceMessage, 'id' | 'event' | 'data'>): void {
    const { type, time, outcome } = mapEvent(message.event, message.data);
    const { metrics, ledger, inventory } = this.#deps;
    // Every id is an event of the composer's process, whether or not the sidecar understands it.
    const id = message.id !== undefined && /^\d{1,15}$/.test(message.id) ? Number(message.id) : undefined;
    if (outcome.kind === 'invalid') {
      if (id === undefined || this.#admit(id)) metrics.invalid(outcome.reason);
      return;
    }
    if (outcome.kind === 'reset') {
      metrics.received('reset');
      // `expired`: the same process no longer holds the events after our id; `invalid_id`: it could not read it.
      this.#resetMayRestart = outcome.reason !== 'expired' && outcome.reason !== 'invalid_id';
      this.#gap(`reset: ${outcome.reason}`);
      return;
    }
    if (outcome.kind === 'snapshot') {
      // The snapshot is where a connection starts. Another one later (a copy sent again) is older than
      // what the events since have said: it must not move the position or the memory back.
      if (this.#snapshotSeen) {
        metrics.invalid('repeated_snapshot');
        return;
      }
      this.#snapshotSeen = true;
      this.#snapshotTime = time;
      metrics.received('snapshot');
      this.#snapshot(outcome.lastEventId);
      // At least as recent as the request: a proxied call that ended since is not seen settled by it.
      inventory.apply({ kind: 'servers', servers: outcome.servers, from: 'snapshot', takenAfter: this.#viewAtRequest });
      if (outcome.capabilities !== undefined) inventory.apply({ kind: 'totals', totals: outcome.capabilities });
      if (outcome.conflicts !== undefined) inventory.apply({ kind: 'conflicts', count: outcome.conflicts });
      const perServer = outcome.perServer;
      if (perServer !== undefined) {
        for (const of of CAPABILITY_KINDS) inventory.apply({ kind: 'per_server', of, counts: new Map([...perServer].map(([sid, c]) => [sid, c[of]])) });
      }
      return;
    }
    if (id !== undefined && !this.#admit(id)) return;
    if (type !== undefined) metrics.received(type);
    switch (outcome.kind) {
      case 'lifecycle': {
        const replay = this.#isReplay(id, time);
        if (outcome.fact !== undefined) ledger.lifecycle.fromEvent(outcome.fact, replay);
        // A replay changes only whether a counted crash is pending; a new event also the server counts.
        if (outcome.note !== undefined) inventory.apply({ kind: 'server_event', note: outcome.note, replay });
        return;
      }
      case 'capabilities':
        inventory.apply({ kind: 'server_capabilities', serverId: outcome.serverId, counts: outcome.counts });
        if (outcome.conflicts !== undefined) inventory.apply({ kind: 'conflicts', count: outcome.conflicts });
        return;
      case 'tool_call':
        ledger.toolCall(outcome.fact);
        return;
      case 'resource_read':
        ledger.resourceRead(outcome.fact);
        return;
    }
  }

  /** The snapshot's `last_event_id` says where this connection's ids stand. */
  #snapshot(lastEventId: number | undefined): void {
    if (lastEventId === undefined) return;
    if (this.#position !== undefined && lastEventId < this.#position) {
      this.#gap('the snapshot is behind the last event seen: the composer restarted');
      this.#newProcess();
    } else if (this.#position === undefined) {
      // Nothing was asked to be replayed: the snapshot already reflects every event up to its id.
      this.#position = lastEventId;
    }
    this.#replayUpTo = lastEventId;
    this.#processKnown = true;
  }

  /** Whether an event with this id is new; records it when it is. */
  #admit(id: number): boolean {
    if (!this.#processKnown) {
      this.#processKnown = true;
      // A composer without `last_event_id` says it restarted by a reset followed by ids starting over.
      if (this.#resetMayRestart && this.#position !== undefined && id <= this.#position) {
        this.#gap('event ids started over after a reset: the composer restarted');
        this.#newProcess();
      }
    }
    if (this.#position !== undefined && id <= this.#position) {
      if (this.#recent.has(id)) {
        this.#deps.metrics.invalid('duplicate_id');
      } else {
        this.#deps.metrics.invalid('out_of_order_id');
        this.#gap('an event id went backwards: what the stream says it lost cannot be known');
      }
      return false;
    }
    this.#position = id;
    const evicted = this.#recentRing[this.#recentNext];
    if (evicted !== undefined) this.#recent.delete(evicted);
    this.#recentRing[this.#recentNext] = id;
    this.#recentNext = (this.#recentNext + 1) % RECENT_IDS;
    this.#recent.add(id);
    return true;
  }

  #newProcess(): void {
    this.#position = 0;
    this.#recent.clear();
    this.#recentRing.length = 0;
    this.#recentNext = 0;
  }

  /** Whether an event is older than this connection's snapshot (only a resumed connection replays anything). */
  #isReplay(id: number | undefined, time: number | undefined): boolean {
    if (this.#replayUpTo !== undefined && id !== undefined) return id <= this.#replayUpTo;
    if (!this.#resumed || time === undefined) return false;
    return time < (this.#snapshotTime ?? this.#connectedAt);
  }

  #gap(why: string): void {
    if (this.#gapCounted) return;
    this.#gapCounted = true;
    this.#deps.metrics.gap();
    this.#deps.logger.warn({ event: 'event_stream_gap', why }, 'events were lost and cannot be replayed: inventory re-read, the gap is counted, not guessed');
    this.#deps.reread();
  }

  #setStatus(status: StreamStatus, log: () => void): void {
    if (this.#status === status) return;
    this.#status = status;
    log();
  }
}
