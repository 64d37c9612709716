/**
 * Every option of the sidecar, in one table: its flag, its environment variable, its default and how its
 * value is parsed. `--help`, the README's flag table and the loader are all generated from this table,
 * so a new option is one row in the file of its group (option-rows-*.ts).
 */
import type { OptionSpec } from './option-spec.ts';
import { PROXY_ROWS } from './option-rows-proxy.ts';
import { SERVING_ROWS } from './option-rows-serving.ts';
import { SOURCE_ROWS } from './option-rows-sources.ts';

export { LOG_LEVELS, MCP_INVENTORY_MODES, type McpInventoryOption, type OptionSpec, USER_ID_SOURCES, type UserIdSource } from './option-spec.ts';

/** The rows in `--help` and README order: core and upstream, clients and metrics, inventory and MCP. */
const TABLE = [...PROXY_ROWS, ...SERVING_ROWS, ...SOURCE_ROWS] as const satisfies readonly OptionSpec[];

/** A row of the table, with its own key and value types. */
export type OptionRow = (typeof TABLE)[number];

/** The key of an option in the configuration object. */
export type OptionKey = OptionRow['key'];

/** The value of a row once loaded: what its `parse` returns; `undefined` too for a row without a default. */
type RowValue<R extends OptionRow> = R['default'] extends string ? ReturnType<R['parse']> : ReturnType<R['parse']> | undefined;

/** Every option's value, by key: the configuration as the table defines it (config/load.ts adds what it resolves). */
export type OptionValues = { readonly [R in OptionRow as R['key']]: RowValue<R> };

/** A row whose `parse` gives the value of its own key. */
export type KeyedOption<K extends OptionKey = OptionKey> = OptionSpec<K, OptionValues[K]>;

/**
 * Every option, in the table's order. Each row is typed with its own key and value, so the loader writes
 * a row's value under its key with no cast, and a consumer of a key gets that row's type.
 */
export const OPTIONS: readonly { [K in OptionKey]: KeyedOption<K> }[OptionKey][] = TABLE;

/** Looks an option up by its configuration key. */
export function optionByKey(key: OptionKey): OptionRow {
  const row = TABLE.find((o) => o.key === key);
  if (row === undefined) throw new Error(`no option ${key}`);
  return row;
}
