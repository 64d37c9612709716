/**
 * Families the exposition leaves out: the serializers drop a family whose Prometheus name another family
 * already has with another type (or, in OpenMetrics, whose family name another family already has), and
 * report its name ({@link SerializeResult.conflicts}). Each family left out of a scrape counts once in
 * `sidecar_exposition_conflicts_total`, and each name is logged once for the process's life — not once
 * per scrape, which would flood the log at every scrape interval. Since every instrument comes from the
 * catalog table, a conflict is a bug of the sidecar: the names are its own, never the traffic's.
 */
import type { Counter } from '@opentelemetry/api';
import type { Logger } from '../log.ts';

/** Names logged at most, so that the set of logged names stays bounded whatever is reported. */
const MAX_LOGGED_NAMES = 1000;

export class ExpositionConflicts {
  readonly #logger: Logger;
  readonly #logged = new Set<string>();
  #counter: Counter | undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** The counter to count in (made after the scraper: the instruments live on the reader's provider). */
  attach(counter: Counter): void {
    this.#counter = counter;
  }

  /** The scraper's `onConflict`: the families one scrape left out. */
  readonly report = (names: readonly string[]): void => {
    for (const name of names) {
      this.#counter?.add(1);
      if (this.#logged.has(name) || this.#logged.size >= MAX_LOGGED_NAMES) continue;
      this.#logged.add(name);
      this.#logger.error(
        { event: 'exposition_conflict', family: name },
        `metric family ${name} is left out of /metrics: another family has its name with another type (a bug of the sidecar; logged once)`,
      );
    }
  };
}
