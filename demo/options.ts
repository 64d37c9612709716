// Command-line options of the demo composer: one table of flags with their defaults, a parser that turns
// argv into a frozen DemoOptions object, and the --help text generated from the same table.
import { parseArgs } from 'node:util';

export type ApiShape = 'code' | 'doc';
export type Profile = 'released' | 'rest' | 'full';

export interface DemoOptions {
  /** TCP port; 0 picks a free one. Default 8000. */
  readonly port: number;
  /** Interface to bind. Default 127.0.0.1. */
  readonly host: string;
  /** Number of generated child MCP servers when no --config is given. Default 3. */
  readonly servers: number;
  /** Config file path; when absent a default config is generated in a fresh temp dir. Default: none. */
  readonly configPath: string | undefined;
  /** REST response shapes: the real code's (`code`) or the documented ones (`doc`). Default code. */
  readonly apiShape: ApiShape;
  /** Bearer token / API key with full rights on REST; none → REST is open. Default: none. */
  readonly authToken: string | undefined;
  /** Bearer token / API key accepted for GETs only (403 on writes). Default: none. */
  readonly readonlyToken: string | undefined;
  /** Requests per second per client on /api/v1 before 429; 0 disables. Default 0. */
  readonly rateLimit: number;
  /** Which kind of composer to emulate. Default full. */
  readonly profile: Profile;
  /** When true /api/v1/events answers 404. Default false (profiles released and rest force it on). */
  readonly noEvents: boolean;
  /** Interval of `: ping` comments on SSE streams, in ms. Default 15 s. */
  readonly keepaliveMs: number;
  /** Events kept for Last-Event-ID replay. Default 1000. */
  readonly eventBuffer: number;
  /** `retry:` value sent on the event stream, in ms. Default 3 s. */
  readonly eventRetryMs: number;
  /** Initial restart backoff after a crash, in ms; doubles per consecutive crash. Default 500 ms. */
  readonly restartBackoffMs: number;
  /** Upper bound of the restart backoff, in ms. Default 30 s. */
  readonly restartBackoffMaxMs: number;
  /** Auto-restart crashed children. Default: on, except profile released. */
  readonly autoRestart: boolean;
  /** DNS-rebinding protection on /sse, /messages/ and /mcp (421 for a non-local Host). Default: on only for released. */
  readonly dnsRebindingProtection: boolean;
  /** Enables the /__demo/ test-control routes. Default false. */
  readonly testControl: boolean;
  /** Value of the `composer` field of event envelopes. Default demo-composer. */
  readonly composerName: string;
  /** Exit when stdin reaches EOF (lets a parent that dies take the composer with it). Default false. */
  readonly exitOnStdinClose: boolean;
  /** pino level for the JSON logs on stderr. Default info. */
  readonly logLevel: string;
  /** Timeout of one forwarded tool call, in ms. Default 60 s. */
  readonly toolTimeoutMs: number;
}

/** Thrown for bad command-line input; the CLI prints `message` on one line and exits 2. */
export class UsageError extends Error {}

interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly help: string;
}

/** Every flag with its help line; the defaults named here are the ones parseOptions applies. */
export const FLAGS: Readonly<Record<string, FlagSpec>> = {
  port: { type: 'string', help: '--port N                TCP port, 0 picks a free one (default 8000)' },
  host: { type: 'string', help: '--host H                interface to bind (default 127.0.0.1)' },
  servers: { type: 'string', help: '--servers K             generated child servers when no --config (default 3)' },
  config: { type: 'string', help: '--config PATH           JSON config {"servers":[{id,command,args,env?}]}; watched (default: generated in a temp dir)' },
  'api-shape': { type: 'string', help: '--api-shape code|doc    REST shapes of the real code or of the docs (default code)' },
  'auth-token': { type: 'string', help: '--auth-token T          require this bearer token / X-API-Key on REST (default: REST open)' },
  'readonly-token': { type: 'string', help: '--readonly-token R      token accepted for GETs only, 403 on writes (default: none)' },
  'rate-limit': { type: 'string', help: '--rate-limit N          429 past N REST requests per second per client, 0 = off (default 0)' },
  profile: { type: 'string', help: '--profile released|rest|full   kind of composer to emulate (default full)' },
  'no-events': { type: 'boolean', help: '--no-events             /api/v1/events answers 404 (default: served in profile full)' },
  'keepalive-interval': { type: 'string', help: '--keepalive-interval D  `: ping` interval on SSE streams (default 15s)' },
  'event-buffer': { type: 'string', help: '--event-buffer N        events kept for Last-Event-ID replay (default 1000)' },
  'event-retry': { type: 'string', help: '--event-retry D         `retry:` sent on the event stream (default 3s)' },
  'restart-backoff': { type: 'string', help: '--restart-backoff D     first restart delay after a crash, doubling (default 500ms)' },
  'restart-backoff-max': { type: 'string', help: '--restart-backoff-max D cap of the restart delay (default 30s)' },
  'no-auto-restart': { type: 'boolean', help: '--no-auto-restart       leave crashed children crashed (default: restart, except profile released)' },
  'dns-rebinding': { type: 'string', help: '--dns-rebinding on|off  421 on /sse, /messages/, /mcp for a non-local Host (default: on only for released)' },
  'test-control': { type: 'boolean', help: '--test-control          enable the /__demo/ routes for tests (default off)' },
  'composer-name': { type: 'string', help: '--composer-name NAME    `composer` field of event envelopes (default demo-composer)' },
  'exit-on-stdin-close': { type: 'boolean', help: '--exit-on-stdin-close   shut down when stdin reaches EOF (default off)' },
  'log-level': { type: 'string', help: '--log-level L           pino level of the JSON logs on stderr (default info)' },
  'tool-timeout': { type: 'string', help: '--tool-timeout D        timeout of one forwarded tool call (default 60s)' },
  help: { type: 'boolean', help: '--help                  print this help and exit' },
};

export const HELP_TEXT = [
  'demo-composer: an emulator of the MCP Server Composer (REST, MCP over SSE and streamable HTTP, event stream).',
  'Durations are written 500ms, 15s, 2m or 1h; a plain number is seconds.',
  '',
  ...Object.values(FLAGS).map((f) => `  ${f.help}`),
].join('\n');

/** Parses `500ms`, `15s`, `2m`, `1h` or a plain number of seconds into milliseconds; undefined when invalid. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]);
  const unit = m[2] ?? 's';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  const ms = Math.round(value * factor);
  return Number.isFinite(ms) ? ms : undefined;
}

function intFlag(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`invalid value for --${name}: ${JSON.stringify(raw)} (expected an integer)`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`invalid value for --${name}: ${raw} (expected ${min}..${max})`);
  return n;
}

function durationFlag(name: string, raw: string | undefined, fallbackMs: number, minMs: number): number {
  if (raw === undefined) return fallbackMs;
  const ms = parseDuration(raw);
  if (ms === undefined || ms < minMs) {
    throw new UsageError(`invalid value for --${name}: ${JSON.stringify(raw)} (expected a duration like 500ms, 15s, 2m)`);
  }
  return ms;
}

function choiceFlag<T extends string>(name: string, raw: string | undefined, choices: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  const found = choices.find((c) => c === raw);
  if (found === undefined) throw new UsageError(`invalid value for --${name}: ${JSON.stringify(raw)} (expected ${choices.join('|')})`);
  return found;
}

function nonEmpty(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.length === 0) throw new UsageError(`invalid value for --${name}: must not be empty`);
  return raw;
}

export type ParseResult = { readonly help: true } | { readonly help: false; readonly options: DemoOptions };

/** Parses argv (without node and script); throws UsageError naming the offending flag. */
export function parseOptions(argv: readonly string[]): ParseResult {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const [name, spec] of Object.entries(FLAGS)) options[name] = { type: spec.type };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (err) {
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? 'invalid arguments') : 'invalid arguments';
    throw new UsageError(message);
  }
  if (values.help === true) return { help: true };
  const str = (name: string): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const bool = (name: string): boolean => values[name] === true;

  const profile = choiceFlag('profile', str('profile'), ['released', 'rest', 'full'] as const, 'full');
  const dnsFlag = choiceFlag('dns-rebinding', str('dns-rebinding'), ['on', 'off'] as const, profile === 'released' ? 'on' : 'off');
  const opts: DemoOptions = {
    port: intFlag('port', str('port'), 8000, 0, 65535),
    host: nonEmpty('host', str('host')) ?? '127.0.0.1',
    servers: intFlag('servers', str('servers'), 3, 0, 50),
    configPath: nonEmpty('config', str('config')),
    apiShape: choiceFlag('api-shape', str('api-shape'), ['code', 'doc'] as const, 'code'),
    authToken: nonEmpty('auth-token', str('auth-token')),
    readonlyToken: nonEmpty('readonly-token', str('readonly-token')),
    rateLimit: intFlag('rate-limit', str('rate-limit'), 0, 0, 1_000_000),
    profile,
    noEvents: bool('no-events') || profile !== 'full',
    keepaliveMs: durationFlag('keepalive-interval', str('keepalive-interval'), 15_000, 10),
    eventBuffer: intFlag('event-buffer', str('event-buffer'), 1000, 1, 1_000_000),
    eventRetryMs: durationFlag('event-retry', str('event-retry'), 3000, 0),
    restartBackoffMs: durationFlag('restart-backoff', str('restart-backoff'), 500, 0),
    restartBackoffMaxMs: durationFlag('restart-backoff-max', str('restart-backoff-max'), 30_000, 0),
    autoRestart: !bool('no-auto-restart') && profile !== 'released',
    dnsRebindingProtection: dnsFlag === 'on',
    testControl: bool('test-control'),
    composerName: nonEmpty('composer-name', str('composer-name')) ?? 'demo-composer',
    exitOnStdinClose: bool('exit-on-stdin-close'),
    logLevel: choiceFlag('log-level', str('log-level'), ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info'),
    toolTimeoutMs: durationFlag('tool-timeout', str('tool-timeout'), 60_000, 1),
  };
  if (opts.readonlyToken !== undefined && opts.readonlyToken === opts.authToken) {
    throw new UsageError('invalid value for --readonly-token: must differ from --auth-token');
  }
  return { help: false, options: Object.freeze(opts) };
}
