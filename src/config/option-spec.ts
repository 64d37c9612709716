/**
 * What one row of the option table (options.ts) is, the vocabularies some rows parse into, and the small
 * parsers the rows share.
 */
import { parseDuration, parseInteger, quoted } from './values.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const USER_ID_SOURCES = ['auto', 'jwt-sub', 'header', 'credential-hash'] as const;
export const MCP_INVENTORY_MODES = ['auto', 'passive', 'active', 'off'] as const;

/**
 * One row of {@link OPTIONS}. `K` is the key and `T` what `parse` returns: the table keeps both per row
 * (`as const satisfies`), and the configuration type is derived from them ({@link OptionValues}).
 */
export interface OptionSpec<K extends string = string, T = unknown> {
  /** Key in the parsed configuration object. */
  readonly key: K;
  /** Long flag, without the leading `--`. */
  readonly flag: string;
  /** Environment variable read when the flag is absent. */
  readonly env: string;
  /** A boolean flag takes no value; `flagValue` is the raw value it stands for. */
  readonly boolean?: { readonly flagValue: string };
  /** Raw default, as a user would write it (shown by `--help`); `undefined` means no default. */
  readonly default: string | undefined;
  /** Placeholder shown in `--help`. */
  readonly placeholder: string;
  /** Parses the raw text; throws an `Error` saying what is wrong. */
  readonly parse: (raw: string) => T;
  readonly description: string;
  /** The value is a secret: it is never logged or echoed in an error. */
  readonly secret?: boolean;
  /** Group shown in `--help`. */
  readonly group: 'core' | 'upstream' | 'clients' | 'metrics' | 'inventory' | 'mcp';
}

export const duration = (raw: string): number => parseDuration(raw);
export const atLeast = (raw: string, minMs: number): number => {
  const ms = parseDuration(raw);
  if (ms < minMs) throw new Error(`${quoted(raw)} is too short (at least ${minMs}ms)`);
  return ms;
};
export const int =
  (min: number, max: number) =>
  (raw: string): number =>
    parseInteger(raw, min, max);

export type UserIdSource = (typeof USER_ID_SOURCES)[number];
export type McpInventoryOption = (typeof MCP_INVENTORY_MODES)[number];
