/**
 * The names the composer's own inventory has given the sidecar since it started: tool ids and names,
 * prompt ids and names, resource URIs, and the servers whose state it has seen. They are the label values
 * known in advance: their bounded labels admit them outside the race for `--max-label-values` (so junk
 * traffic cannot push them into `__other__`), and their counters are exported at 0 from the moment they are
 * known (telemetry/known-series.ts).
 *
 * A name once known stays known: its series exist from then on, and a tool that goes and comes back keeps
 * its label. Each kind holds at most `max` names (`--max-known-values`); later names are traffic like any
 * other. Only names a label can hold are kept (ledger/name-bounds.ts).
 */
import { MAX_NAME_LENGTH, MAX_SERVER_ID_LENGTH, MAX_URI_LENGTH } from './name-bounds.ts';

export const KNOWN_KINDS = ['tools', 'prompts', 'resources', 'servers'] as const;
export type KnownKind = (typeof KNOWN_KINDS)[number];

const MAX_LENGTH: Readonly<Record<KnownKind, number>> = {
  tools: MAX_NAME_LENGTH,
  prompts: MAX_NAME_LENGTH,
  resources: MAX_URI_LENGTH,
  servers: MAX_SERVER_ID_LENGTH,
};

/** Told of each name the first time it becomes known. */
export type KnownNameListener = (kind: KnownKind, name: string) => void;

/** What readers see of the known names. */
export interface ReadonlyKnownNames {
  has(kind: KnownKind, name: string): boolean;
  /** The names of a kind, in the order they became known. */
  names(kind: KnownKind): ReadonlySet<string>;
  /** Calls `listener` for every name known now, then for each new one. */
  subscribe(listener: KnownNameListener): void;
}

export class KnownNames implements ReadonlyKnownNames {
  readonly #max: number;
  readonly #names: Record<KnownKind, Set<string>> = { tools: new Set(), prompts: new Set(), resources: new Set(), servers: new Set() };
  readonly #listeners: KnownNameListener[] = [];

  /** @param max names kept per kind. */
  constructor(max: number) {
    this.#max = max;
  }

  /** Adds the names a source listed; the ones new to this set are told to every listener. */
  add(kind: KnownKind, names: Iterable<string>): void {
    const set = this.#names[kind];
    const maxLength = MAX_LENGTH[kind];
    for (const name of names) {
      if (set.size >= this.#max) return;
      if (set.has(name) || name === '' || name.length > maxLength) continue;
      set.add(name);
      for (const listener of this.#listeners) listener(kind, name);
    }
  }

  has(kind: KnownKind, name: string): boolean {
    return this.#names[kind].has(name);
  }

  /** The names of a kind, in the order they became known. */
  names(kind: KnownKind): ReadonlySet<string> {
    return this.#names[kind];
  }

  /** Calls `listener` for every name known now, then for each new one. */
  subscribe(listener: KnownNameListener): void {
    for (const kind of KNOWN_KINDS) for (const name of this.#names[kind]) listener(kind, name);
    this.#listeners.push(listener);
  }
}
