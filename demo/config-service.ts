// The config file as the composer lives with it: loaded at startup, watched on disk (a change reloads it,
// trigger `file_watch`), reloaded on SIGHUP (`signal`) or POST /config/reload (`api`), replaced by PUT
// /config (written back to the file; no config.reloaded event), validated by POST /config/validate.
//
// Events: a reload emits `config.reloaded {success, error?, trigger}`; a reload whose file is invalid also
// emits `config.validation_failed {error_type, errors}` first. Dry-run validation and PUT answer over REST
// only (no event), so that a consumer never counts one failure twice.
import { watch, type FSWatcher } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { parseConfigText, serializeConfig, validateConfig, type ComposerConfig, type ConfigCheck } from './config.ts';
import type { Catalog } from './metrics/catalog.ts';

export type ReloadTrigger = 'api' | 'file_watch' | 'signal';

export interface ConfigServiceDeps {
  readonly emit: (type: string, data: Record<string, unknown>) => void;
  /** Applies an accepted config to the supervisor. */
  readonly apply: (config: ComposerConfig) => Promise<void>;
  readonly catalog: Catalog;
  readonly log: Logger;
}

export type ReloadResult = { readonly ok: true; readonly reloadedAt: Date } | { readonly ok: false; readonly message: string };
export type ReplaceResult =
  | { readonly ok: true; readonly config: ComposerConfig }
  | { readonly ok: false; readonly message: string; readonly errors: readonly string[] };

/** Debounce of file-watch notifications (editors write in several steps), in ms. */
const WATCH_DEBOUNCE_MS = 100;

export class ConfigService {
  readonly path: string;
  current: ComposerConfig;
  /** The file content last read or written by the composer: the watcher ignores events that leave it unchanged. */
  #lastText: string;
  #deps: ConfigServiceDeps;
  #queue: Promise<unknown> = Promise.resolve();
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;

  private constructor(path: string, config: ComposerConfig, text: string, deps: ConfigServiceDeps) {
    this.path = path;
    this.current = config;
    this.#lastText = text;
    this.#deps = deps;
  }

  /** Loads the file; throws an Error whose message lists the problems when it is unreadable or invalid. */
  static async open(path: string, deps: ConfigServiceDeps): Promise<ConfigService> {
    const text = await readFile(path, 'utf8');
    const check = parseConfigText(text);
    if (!check.ok) throw new Error(`invalid config ${path}: ${check.errors.join('; ')}`);
    return new ConfigService(path, check.config, text, deps);
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(op, op);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Dry run (POST /config/validate): never emits, counts a validation error in the catalog. */
  validate(value: unknown): ConfigCheck {
    const check = validateConfig(value);
    if (!check.ok) this.#deps.catalog.configValidationErrors.inc({ error_type: check.errorType });
    return check;
  }

  /** Re-reads the file and applies it. */
  reload(trigger: ReloadTrigger): Promise<ReloadResult> {
    return this.#serial(async () => {
      let text: string;
      try {
        text = await readFile(this.path, 'utf8');
      } catch (err) {
        const message = `Cannot read config file: ${err instanceof Error ? err.message : String(err)}`;
        return this.#failed(trigger, message, undefined);
      }
      this.#lastText = text;
      const check = parseConfigText(text);
      if (!check.ok) return this.#failed(trigger, `Invalid configuration: ${check.errors.join('; ')}`, check);
      this.current = check.config;
      if (trigger === 'api') this.#deps.catalog.configReloads.inc({ status: 'success' });
      this.#deps.emit('config.reloaded', { success: true, trigger });
      this.#deps.log.info({ trigger, path: this.path }, 'config reloaded');
      await this.#deps.apply(check.config);
      return { ok: true, reloadedAt: new Date() };
    });
  }

  #failed(trigger: ReloadTrigger, message: string, check: ConfigCheck | undefined): ReloadResult {
    if (check && !check.ok) {
      this.#deps.emit('config.validation_failed', { error_type: check.errorType, errors: check.errors });
      if (trigger === 'api') this.#deps.catalog.configValidationErrors.inc({ error_type: check.errorType });
    }
    if (trigger === 'api') this.#deps.catalog.configReloads.inc({ status: 'failed' });
    this.#deps.emit('config.reloaded', { success: false, error: message, trigger });
    this.#deps.log.warn({ trigger, path: this.path, err: message }, 'config reload failed');
    return { ok: false, message };
  }

  /** PUT /config: validates, writes the file, applies. No config.reloaded event (the REST answer says it). */
  replace(value: unknown): Promise<ReplaceResult> {
    return this.#serial(async () => {
      const check = validateConfig(value);
      if (!check.ok) {
        this.#deps.catalog.configValidationErrors.inc({ error_type: check.errorType });
        return { ok: false, message: `Invalid configuration: ${check.errors.join('; ')}`, errors: check.errors };
      }
      const text = serializeConfig(check.config);
      this.#lastText = text;
      this.current = check.config;
      await writeFile(this.path, text, { mode: 0o600 });
      await this.#deps.apply(check.config);
      return { ok: true, config: check.config };
    });
  }

  /** Watches the file's directory; a change of the file's content reloads it with trigger `file_watch`. */
  watch(): void {
    const name = basename(this.path);
    try {
      this.#watcher = watch(dirname(this.path), (_event, filename) => {
        if (filename !== null && filename !== name) return;
        if (this.#debounce) clearTimeout(this.#debounce);
        this.#debounce = setTimeout(() => void this.#onFileEvent(), WATCH_DEBOUNCE_MS);
      });
      this.#watcher.on('error', (err) => this.#deps.log.warn({ err: err.message }, 'config watcher error'));
    } catch (err) {
      this.#deps.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'cannot watch the config file');
    }
  }

  async #onFileEvent(): Promise<void> {
    let text: string | undefined;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      text = undefined;
    }
    if (text === this.#lastText) return;
    await this.reload('file_watch');
  }

  close(): void {
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#watcher?.close();
  }
}
