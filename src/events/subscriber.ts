/**
 * Subscribes to the composer's event stream and turns its events into ledger facts and inventory updates.
 *
 * - While connected, the stream is the source of lifecycle and config facts (the ledger ignores inference).
 * - Replays after a reconnection (`Last-Event-ID`) are told from live events by the snapshot's
 *   `last_event_id` (events up to it existed before this connection), or by their time when a composer
 *   does not send it; replayed events that inference already counted during the gap are not counted again.
 * - A `reset`, or a composer restart (ids starting over), is a gap the stream cannot fill: the inventory is
 *   re-read at once and the gap is counted in `sidecar_event_gaps_total`, never guessed.
 */
import type { EventSourceMessage } from 'eventsource-parser';
import type { Logger } from '../log.ts';
import type { Inventory } from '../ledger/inventory.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { mapEvent, type EventType, type InvalidReason } from './event-map.ts';
import { FAILED } from './inventory-parse.ts';
import { EventStreamClient, type DisconnectReason, type EventStreamOptions } from './stream.ts';

/** What the subscriber reports for the sidecar's own families (implemented by telemetry/). */
export interface EventStreamMetrics {
  received(type: EventType): void;
  invalid(reason: InvalidReason): void;
  reconnected(): void;
  gap(): void;
}

export interface EventSubscriberDeps {
  readonly ledger: Ledger;
  readonly inventory: Inventory;
  readonly metrics: EventStreamMetrics;
  readonly logger: Logger;
  /** Re-reads the inventory now (after a gap). */
  readonly reread: () => void;
  /** Where lifecycle facts come from without the stream, in words, from the detected sources (`undefined` before detection). */
  readonly withoutStream?: () => string | undefined;
}

export type StreamStatus = 'connected' | 'disconnected' | 'unavailable';

export class EventSubscriber {
  readonly #deps: EventSubscriberDeps;
  readonly #client: EventStreamClient;
  #status: StreamStatus | undefined;
  #everConnected = false;
  #connectedAt = 0;
  /** Highest id that existed when this connection's snapshot was taken: events up to it are replays. */
  #replayUpTo: number | undefined;
  #lastId: number | undefined;
  #gapCounted = false;

  constructor(opts: EventStreamOptions, deps: EventSubscriberDeps) {
    this.#deps = deps;
    this.#client = new EventStreamClient(opts, {
      onConnected: (resumed) => this.#connected(resumed),
      onEvent: (m) => this.#event(m),
      onDisconnected: (reason) => this.#disconnected(reason),
      onUnavailable: () => this.#unavailable(),
      onRefused: (status) => this.#refused(status),
    });
  }

  /** `undefined` until the first attempt ends one way or another. */
  get status(): StreamStatus | undefined {
    return this.#status;
  }

  start(): void {
    this.#client.start();
  }

  stop(): Promise<void> {
    return this.#client.stop();
  }

  #setStatus(status: StreamStatus, log: () => void): void {
    if (this.#status === status) return;
    this.#status = status;
    log();
  }

  #connected(resumed: boolean): void {
    if (this.#everConnected) this.#deps.metrics.reconnected();
    this.#everConnected = true;
    this.#connectedAt = Date.now();
    this.#replayUpTo = undefined;
    this.#gapCounted = false;
    this.#deps.ledger.lifecycle.onStreamConnected();
    this.#setStatus('connected', () =>
      this.#deps.logger.info({ event: 'event_stream_connected', resumed, lastEventId: this.#client.lastEventId }, 'event stream connected: lifecycle facts now come from events'),
    );
  }

  #disconnected(reason: DisconnectReason): void {
    this.#deps.ledger.lifecycle.onStreamDisconnected();
    if (reason === 'stopped') return;
    this.#setStatus('disconnected', () =>
      this.#deps.logger.warn({ event: 'event_stream_disconnected', reason }, 'event stream lost: lifecycle facts come from polling and proxied calls until it is back'),
    );
  }

  #unavailable(): void {
    this.#deps.ledger.lifecycle.onStreamDisconnected();
    this.#setStatus('unavailable', () => {
      const lifecycle = this.#deps.withoutStream?.() ?? 'from REST polling and proxied REST calls, if the composer serves its REST API (see sources_detected)';
      this.#deps.logger.info({ event: 'event_stream_unavailable', lifecycle }, `the composer serves no event stream (404): lifecycle facts come ${lifecycle}`);
    });
  }

  #refused(status: number): void {
    this.#deps.ledger.lifecycle.onStreamDisconnected();
    this.#setStatus('disconnected', () =>
      this.#deps.logger.warn({ event: 'event_stream_refused', status }, `the composer refused the event stream (${status}); check --upstream-token-file`),
    );
  }

  #gap(why: string): void {
    if (this.#gapCounted) return;
    this.#gapCounted = true;
    this.#deps.metrics.gap();
    this.#deps.logger.warn({ event: 'event_stream_gap', why }, 'events were lost and cannot be replayed: inventory re-read, the gap is counted, not guessed');
    this.#deps.reread();
  }

  #isReplay(id: number | undefined, time: number | undefined): boolean {
    if (this.#replayUpTo !== undefined && id !== undefined) return id <= this.#replayUpTo;
    return time !== undefined && time < this.#connectedAt;
  }

  #event(message: EventSourceMessage): void {
    const { type, time, outcome } = mapEvent(message.event, message.data);
    const { metrics, ledger, inventory } = this.#deps;
    if (outcome.kind === 'invalid') {
      metrics.invalid(outcome.reason);
      return;
    }
    if (type !== undefined) metrics.received(type);
    const id = message.id !== undefined && /^\d{1,15}$/.test(message.id) ? Number(message.id) : undefined;
    if (id !== undefined) {
      if (this.#lastId !== undefined && id <= this.#lastId && this.#replayUpTo === undefined) this.#gap('event ids started over: the composer restarted');
      this.#lastId = id;
    }
    switch (outcome.kind) {
      case 'reset':
        this.#gap(`reset: ${outcome.reason}`);
        return;
      case 'snapshot': {
        if (outcome.lastEventId !== undefined) {
          const restarted = this.#lastId !== undefined && outcome.lastEventId < this.#lastId;
          if (restarted) {
            this.#gap('the snapshot is behind the last event seen: the composer restarted');
            this.#lastId = outcome.lastEventId;
          }
          this.#replayUpTo = outcome.lastEventId;
          // Resume after what the snapshot already reflects (first connection), or in the new process's ids.
          if (this.#client.lastEventId === undefined || restarted) this.#client.setLastEventId(String(outcome.lastEventId));
        }
        inventory.applyServers(outcome.servers, false);
        this.#countServers();
        if (outcome.capabilities !== undefined) inventory.capabilities = outcome.capabilities;
        if (outcome.conflicts !== undefined) inventory.conflicts = outcome.conflicts;
        if (outcome.perServer !== undefined) {
          for (const kind of ['tools', 'prompts', 'resources'] as const) inventory.perServer[kind] = new Map([...outcome.perServer].map(([sid, c]) => [sid, c[kind]]));
        }
        return;
      }
      case 'lifecycle': {
        const replay = this.#isReplay(id, time);
        if (outcome.fact !== undefined) ledger.lifecycle.fromEvent(outcome.fact, replay);
        if (outcome.note !== undefined && !replay) {
          const { serverId, ...change } = outcome.note;
          inventory.noteServer(serverId, change);
          this.#countServers();
        }
        return;
      }
      case 'capabilities': {
        for (const kind of ['tools', 'prompts', 'resources'] as const) {
          const next = new Map(inventory.perServer[kind] ?? []);
          next.set(outcome.serverId, outcome.counts[kind]);
          inventory.perServer[kind] = next;
        }
        const sum = (kind: 'tools' | 'prompts' | 'resources') => [...(inventory.perServer[kind]?.values() ?? [])].reduce((a, b) => a + b, 0);
        inventory.capabilities = { tools: sum('tools'), prompts: sum('prompts'), resources: sum('resources') };
        if (outcome.conflicts !== undefined) inventory.conflicts = outcome.conflicts;
        return;
      }
      case 'tool_call':
        ledger.toolCall(outcome.fact);
        return;
      case 'resource_read':
        ledger.resourceRead(outcome.fact);
        return;
    }
  }

  /** Server counts from the per-server memory (polls of /status refine them). */
  #countServers(): void {
    const inv = this.#deps.inventory;
    const states = inv.knownStates();
    if (states.length === 0) return;
    inv.servers = {
      total: states.length,
      running: states.filter((s) => s === 'running').length,
      stopped: states.filter((s) => s === 'stopped').length,
      failed: states.filter((s) => FAILED.has(s)).length,
    };
  }
}
