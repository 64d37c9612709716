/**
 * One source per fact, for server lifecycle and configuration (docs/events.md).
 *
 * Two kinds of source see these occurrences:
 * - the composer's event stream (`event`), authoritative while it is connected;
 * - inference (`rest` calls that caused them and `poll` differences), used while the stream is absent or down.
 *
 * Rules, applied here and nowhere else:
 * 1. While the stream is connected, inference facts are not counted: events alone are.
 * 2. While it is down, inference facts are counted at once (alerts must not wait) and remembered.
 * 3. When it reconnects and replays the gap (`Last-Event-ID`), each replayed event that matches a
 *    remembered inference fact (same kind, server and detail) is the same occurrence: not counted again.
 *    The caller says which events are replays (ids up to the snapshot's `last_event_id`, or, without
 *    one, on a resumed connection, events older than the snapshot's time). The first live event ends
 *    the replay: what inference counted and no replay matched stands.
 * 4. An inference fact that arrives just after a disconnection but describes an occurrence the stream
 *    already delivered (e.g. the response of a REST restart whose event came first) matches that recent
 *    event and is not counted again.
 * 5. After a `reset` the composer replays only what it still holds (matched as in 3); what it lost is
 *    counted by the caller as a gap, never guessed. After a composer restart, what the new process holds
 *    is its replay, matched the same way.
 *
 * What the caller guarantees (src/sources/events/sequence.ts): each event reaches `fromEvent` at most once, in id
 * order, replays before live events; and no connection is used whose answer was on its way while an
 * inference fact arrived ({@link LifecycleLedger.inferenceMark}) or a poll changed the per-server memory. So every replay of an occurrence inferred
 * before the request left comes before the first live event (rule 3 may end the replay there), and nothing
 * inferred later can be the twin of a live event: it is asked for again, as a replay.
 */

export type LifecycleFact =
  | { readonly kind: 'start' | 'stop'; readonly serverId: string; readonly ok: boolean }
  | { readonly kind: 'restart'; readonly serverId: string; readonly reason: 'manual' | 'crash' | 'config_change' }
  | { readonly kind: 'crash'; readonly serverId: string }
  | { readonly kind: 'config_reload'; readonly ok: boolean }
  | { readonly kind: 'config_validation_error'; readonly errorType: string };

export interface LifecycleSink {
  lifecycle(fact: LifecycleFact): void;
}

/** The identity of an occurrence, for matching the same occurrence seen by two sources. */
export function occurrenceKey(f: LifecycleFact): string {
  switch (f.kind) {
    case 'start':
    case 'stop':
      return `${f.kind}|${f.serverId}|${f.ok}`;
    case 'restart':
      return `restart|${f.serverId}|${f.reason}`;
    case 'crash':
      return `crash|${f.serverId}`;
    case 'config_reload':
      return `config_reload|${f.ok}`;
    case 'config_validation_error':
      return `config_validation_error|${f.errorType}`;
  }
}

interface Remembered {
  readonly key: string;
  readonly at: number;
  claimed: boolean;
}

export interface LifecycleLedgerOptions {
  /** How long a live event can still match a late inference fact (rule 4). @default 30s */
  readonly eventMatchWindowMs?: number;
  /** Most remembered facts kept (oldest dropped first), so a long outage stays bounded. @default 10000 */
  readonly maxRemembered?: number;
  /** Clock (tests pass a fake one). @default Date.now */
  readonly now?: () => number;
}

export class LifecycleLedger {
  readonly #sink: LifecycleSink;
  readonly #window: number;
  readonly #max: number;
  readonly #now: () => number;
  #connected = false;
  #inferenceMark = 0;
  /** Inference facts counted while the stream was down, awaiting a possible replayed twin. */
  #inferred: Remembered[] = [];
  /** Events counted recently, awaiting a possible late inference twin. */
  #events: Remembered[] = [];

  constructor(sink: LifecycleSink, opts: LifecycleLedgerOptions = {}) {
    this.#sink = sink;
    this.#window = opts.eventMatchWindowMs ?? 30_000;
    this.#max = opts.maxRemembered ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Whether the event stream is the source of lifecycle facts now. */
  get streamConnected(): boolean {
    return this.#connected;
  }

  /**
   * Changes whenever an inference fact arrives while the stream is down (counted or matched): the caller
   * compares it across a connection attempt to know whether inference saw something meanwhile.
   */
  get inferenceMark(): number {
    return this.#inferenceMark;
  }

  /** The stream connected (or reconnected, replaying from `Last-Event-ID`). */
  onStreamConnected(): void {
    this.#connected = true;
  }

  /** The stream is down: inference takes over. */
  onStreamDisconnected(): void {
    this.#connected = false;
  }

  /** A fact from a proxied REST call or a poll difference. */
  fromInference(fact: LifecycleFact): void {
    if (this.#connected) return;
    this.#inferenceMark++;
    const key = occurrenceKey(fact);
    const now = this.#now();
    this.#events = this.#events.filter((e) => now - e.at <= this.#window);
    const twin = this.#events.find((e) => !e.claimed && e.key === key);
    if (twin !== undefined) {
      twin.claimed = true;
      return;
    }
    this.#remember(this.#inferred, { key, at: now, claimed: false });
    this.#sink.lifecycle(fact);
  }

  /**
   * A fact from the event stream.
   * @param replay whether the event is a replay of the gap after a reconnection (see rule 3).
   */
  fromEvent(fact: LifecycleFact, replay: boolean): void {
    const key = occurrenceKey(fact);
    const now = this.#now();
    if (replay) {
      const twin = this.#inferred.find((r) => !r.claimed && r.key === key);
      if (twin !== undefined) {
        twin.claimed = true;
        return;
      }
    } else if (this.#inferred.length > 0) {
      // A live event: the replay is over, nothing older can still arrive to match.
      this.#inferred = [];
    }
    this.#events = this.#events.filter((e) => now - e.at <= this.#window);
    this.#remember(this.#events, { key, at: now, claimed: false });
    this.#sink.lifecycle(fact);
  }

  #remember(list: Remembered[], r: Remembered): void {
    list.push(r);
    if (list.length > this.#max) list.splice(0, list.length - this.#max);
  }
}
