/**
 * Which sources run, as detection says: detection results in, sources started and stopped, one log line
 * per change. The sources that observe the bus (the REST observer, the MCP tap) and the event stream run
 * from start to stop whatever the composer serves (a surface it does not serve carries no traffic, and the
 * event stream re-probes by itself); of the inventory's sources the first that wants what was found runs,
 * and no other — REST polls where there is a REST API, else the MCP-native inventory.
 *
 * Detection runs at start, whenever the upstream comes back ({@link SourceSelector.upstreamUp}; joined with
 * one already under way) and `intervalMs` after each one ends. A surface that could not be asked (the
 * composer is down, or detection failed) keeps what was known of it; a detection that changes nothing
 * logs nothing and restarts nothing. No sockets and no clock of its own beyond the detect timer: the
 * detector and the sources are given.
 */
import type { Logger } from '../log.ts';
import { feedsSeen, type Source, type SwitchedSource } from './source.ts';
import { describeSources, SURFACES, type Detection, type Surface, type SurfaceSet } from './surfaces.ts';

export interface SourceSelectorOptions {
  /** One detection of what the composer serves (sources/detect/detect.ts, with the sidecar's options and token). */
  readonly detect: () => Promise<Detection>;
  /** Sources that run from start to stop whatever detection finds, started in this order (stopped in reverse). */
  readonly always: readonly Source[];
  /** The inventory's sources, in order of preference: the first that wants the surfaces found runs. */
  readonly switched: readonly SwitchedSource[];
  /** `--detect-interval`: from the end of one detection to the next. */
  readonly intervalMs: number;
  readonly logger: Logger;
}

type Phase = 'new' | 'started' | 'stopped';

const detail = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class SourceSelector {
  readonly #opts: SourceSelectorOptions;
  #phase: Phase = 'new';
  /** Every surface as last found; meaningful once {@link SourceSelector.surfaces} is defined. */
  readonly #available: Record<Surface, boolean> = { rest: false, events: false, sse: false, streamable_http: false, tools_list: false };
  #detected = false;
  /** The always-on sources started, in order. */
  readonly #started: Source[] = [];
  /** The inventory's source that runs (`undefined`: none, or a switch under way). */
  #current: SwitchedSource | undefined = undefined;
  #detecting: Promise<void> | undefined = undefined;
  #timer: NodeJS.Timeout | undefined = undefined;
  #stopping: Promise<void> | undefined = undefined;
  /** The last detection threw (logged once until one succeeds). */
  #failing = false;

  constructor(opts: SourceSelectorOptions) {
    this.#opts = opts;
  }

  /** The surfaces found so far; `undefined` until a detection got an answer. */
  get surfaces(): SurfaceSet | undefined {
    return this.#detected ? { ...this.#available } : undefined;
  }

  /** The inventory's source that runs now (`undefined`: none fits, or a switch is under way). */
  get inventory(): SwitchedSource | undefined {
    return this.#current;
  }

  /** The sources running now, in the order they started. */
  running(): Source[] {
    return this.#current === undefined ? [...this.#started] : [...this.#started, this.#current];
  }

  /** Starts the always-on sources, then the first detection and the detect timer. Once; never after `stop()`. */
  start(): void {
    if (this.#phase !== 'new') return;
    this.#phase = 'started';
    for (const source of this.#opts.always) {
      source.start();
      this.#started.push(source);
    }
    void this.detect().finally(() => this.#schedule());
  }

  /** The upstream came back: detects now (joining a detection under way). Before `start()` or after `stop()`, nothing. */
  upstreamUp(): void {
    if (this.#phase === 'started') void this.detect();
  }

  /** Detects now, or joins the detection under way; resolves once the sources follow it. Never rejects. */
  detect(): Promise<void> {
    if (this.#phase !== 'started') return Promise.resolve();
    this.#detecting ??= this.#detectOnce().finally(() => (this.#detecting = undefined));
    return this.#detecting;
  }

  /** The inventory's source reads again now (the event stream lost events). */
  reread(): void {
    this.#current?.reread();
  }

  /** Stops the detect timer, waits for a detection under way, then stops every source it started, once each. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#phase = 'stopped';
    clearTimeout(this.#timer);
    await this.#detecting;
    const current = this.#current;
    this.#current = undefined;
    if (current !== undefined) await this.#stopOne(current);
    for (const source of this.#started.splice(0).reverse()) await this.#stopOne(source);
  }

  #schedule(): void {
    if (this.#phase !== 'started') return;
    this.#timer = setTimeout(() => void this.detect().finally(() => this.#schedule()), this.#opts.intervalMs);
    this.#timer.unref();
  }

  async #detectOnce(): Promise<void> {
    let detection: Detection;
    try {
      detection = await this.#opts.detect();
    } catch (err) {
      if (!this.#failing) {
        this.#opts.logger.warn({ event: 'source_detection_failed', detail: detail(err) }, 'source detection failed: keeping what was found before');
      }
      this.#failing = true;
      return;
    }
    this.#failing = false;
    if (this.#phase !== 'started') return;
    const found = detection.surfaces;
    // Nothing answered (the composer is down): what was known stays.
    if (Object.keys(found).length === 0) return;
    let changed = !this.#detected;
    for (const s of SURFACES) {
      const v = found[s];
      if (v !== undefined && v !== this.#available[s]) {
        this.#available[s] = v;
        changed = true;
      }
    }
    this.#detected = true;
    const surfaces: SurfaceSet = { ...this.#available };
    for (const source of this.#opts.switched) source.detected?.(surfaces, detection.composer);
    const want = this.#opts.switched.find((source) => source.wants(surfaces));
    if (changed) this.#log(surfaces, want);
    await this.#switchTo(want);
  }

  /** The one line per change: what the composer serves, which sources run, what they see and what stays blind. */
  #log(surfaces: SurfaceSet, want: SwitchedSource | undefined): void {
    const d = describeSources(surfaces);
    const running = want === undefined ? this.#started : [...this.#started, want];
    const blind = d.blind.length > 0 ? `; it cannot see ${d.blind.join('; ')}` : '';
    this.#opts.logger.info(
      {
        event: 'sources_detected',
        found: d.found,
        missing: d.missing,
        sees: d.sees,
        blind: d.blind,
        sources: running.map((s) => s.name),
        feeds: feedsSeen(running, surfaces),
      },
      `composer serves: ${d.found.join(', ') || 'nothing the sidecar recognises'}; the sidecar sees ${d.sees.join('; ')}${blind}`,
    );
  }

  async #switchTo(want: SwitchedSource | undefined): Promise<void> {
    if (want === this.#current) return;
    const old = this.#current;
    this.#current = undefined;
    if (old !== undefined) await this.#stopOne(old);
    // A stop() that came meanwhile waits for this detection, then stops what runs: start nothing more.
    if (want === undefined || this.#phase !== 'started') return;
    want.start();
    this.#current = want;
  }

  async #stopOne(source: Source): Promise<void> {
    try {
      await source.stop();
    } catch (err) {
      this.#opts.logger.warn({ event: 'source_stop_failed', source: source.name, detail: detail(err) }, `${source.name} did not stop cleanly`);
    }
  }
}
