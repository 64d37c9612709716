// The last lines a child server wrote on stderr (plus the supervisor's own notes about it), with live
// listeners for GET /api/v1/servers/{id}/logs.

export interface LogEntry {
  readonly time: Date;
  /** Python logging level name: DEBUG, INFO, WARNING, ERROR. */
  readonly level: string;
  readonly message: string;
}

export type LogListener = (entry: LogEntry) => void;

const LEVELS = new Set(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']);

export class LogRing {
  #capacity: number;
  #entries: LogEntry[] = [];
  #listeners = new Set<LogListener>();

  /** `capacity`: lines kept (default 500). */
  constructor(capacity = 500) {
    this.#capacity = capacity;
  }

  /** Adds a stderr line; a leading level word (`INFO …`) is split off, else the level is INFO. */
  addLine(line: string): void {
    const space = line.indexOf(' ');
    const head = space > 0 ? line.slice(0, space) : '';
    if (LEVELS.has(head)) this.add(head, line.slice(space + 1));
    else this.add('INFO', line);
  }

  add(level: string, message: string): void {
    const entry: LogEntry = { time: new Date(), level, message };
    this.#entries.push(entry);
    if (this.#entries.length > this.#capacity) this.#entries.shift();
    for (const l of [...this.#listeners]) l(entry);
  }

  entries(): readonly LogEntry[] {
    return [...this.#entries];
  }

  subscribe(listener: LogListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
