// The event bus behind GET /api/v1/events: strictly increasing integer ids per process, envelopes
// `{type, time, composer, data}`, a bounded replay buffer, and the replay decision for a Last-Event-ID.

export interface StoredEvent {
  readonly id: number;
  readonly type: string;
  /** The `data:` payload exactly as sent (normally the JSON envelope; test injection may store anything). */
  readonly data: string;
  /** `data.transport` of a `tool.invoked` or `resource.read` event: what `exclude_transports` filters on. */
  readonly transport?: string;
}

export interface ReplayPlan {
  /** True when the client must re-read state: `event: reset` goes first. */
  readonly reset: boolean;
  /** Why a reset is sent: `expired` (buffer no longer holds the ids after it), `unknown_id` (newer than any id of this process), `invalid_id`. */
  readonly reason?: 'expired' | 'unknown_id' | 'invalid_id';
  /** Events to replay, oldest first. */
  readonly events: readonly StoredEvent[];
}

export interface EventBusOptions {
  /** `composer` field of every envelope. */
  readonly composer: string;
  /** Events kept for replay (at least 1). */
  readonly capacity: number;
  /** Clock, replaceable in unit tests. Default: the system clock. */
  readonly now?: () => Date;
}

export type EventListener = (event: StoredEvent) => void;

export class EventBus {
  #composer: string;
  #capacity: number;
  #now: () => Date;
  #buffer: StoredEvent[] = [];
  #lastId = 0;
  #listeners = new Set<EventListener>();

  constructor(options: EventBusOptions) {
    this.#composer = options.composer;
    this.#capacity = Math.max(1, options.capacity);
    this.#now = options.now ?? (() => new Date());
  }

  /** Highest id issued so far (0 before the first event). */
  get lastId(): number {
    return this.#lastId;
  }

  /** Number of events currently held for replay. */
  get held(): number {
    return this.#buffer.length;
  }

  /** The JSON envelope text for `type` and `data`, stamped now. */
  envelope(type: string, data: unknown): string {
    return JSON.stringify({ type, time: this.#now().toISOString(), composer: this.#composer, data });
  }

  /** Issues the next id, stores the event and hands it to every listener. */
  emit(type: string, data: unknown): StoredEvent {
    const transport =
      (type === 'tool.invoked' || type === 'resource.read') &&
      typeof data === 'object' &&
      data !== null &&
      'transport' in data &&
      typeof data.transport === 'string'
        ? data.transport
        : undefined;
    return this.emitRaw(type, this.envelope(type, data), transport);
  }

  /** Like emit, with the `data:` payload given verbatim (test control uses it to inject malformed events). */
  emitRaw(type: string, payload: string, transport?: string): StoredEvent {
    this.#lastId += 1;
    const event: StoredEvent = transport === undefined ? { id: this.#lastId, type, data: payload } : { id: this.#lastId, type, data: payload, transport };
    this.#buffer.push(event);
    if (this.#buffer.length > this.#capacity) this.#buffer.splice(0, this.#buffer.length - this.#capacity);
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // A listener failing (a socket gone) never stops the others.
      }
    }
    return event;
  }

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Events with an id above `afterId`, oldest first. */
  since(afterId: number): StoredEvent[] {
    return this.#buffer.filter((e) => e.id > afterId);
  }

  /**
   * What a client reconnecting with `lastEventId` (the header's raw value, or undefined) gets: nothing to
   * replay for a fresh client; the held events after the id when the buffer still holds all of them;
   * otherwise a reset followed by every held event after the id (all of them for an unknown id).
   */
  planReplay(lastEventId: string | undefined): ReplayPlan {
    if (lastEventId === undefined || lastEventId.trim() === '') return { reset: false, events: [] };
    const text = lastEventId.trim();
    if (!/^\d+$/.test(text)) return { reset: true, reason: 'invalid_id', events: [...this.#buffer] };
    const after = Number(text);
    if (after > this.#lastId) return { reset: true, reason: 'unknown_id', events: [...this.#buffer] };
    const oldest = this.#buffer[0]?.id ?? this.#lastId + 1;
    if (oldest > after + 1) return { reset: true, reason: 'expired', events: this.since(after) };
    return { reset: false, events: this.since(after) };
  }
}
