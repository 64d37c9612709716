/**
 * Pure parsers for the composer's inventory answers, in both the real code's shapes and the documented
 * ones (docs/composer-api.md). Each returns `undefined` for a shape it does not recognise rather
 * than guessing: a family no source can feed is absent, never zero-filled.
 */
import type { Capabilities, ServerCounts, ServerInfo, VersionInfo } from '../../ledger/inventory-change.ts';
import { MAX_NAME_LENGTH, MAX_URI_LENGTH } from '../../ledger/name-bounds.ts';
import { FAILED_STATES } from '../../ledger/poll-diff.ts';
import { resourceUriLabel } from '../../ledger/uri.ts';

export interface StatusInfo {
  readonly servers: ServerCounts | undefined;
  readonly capabilities: Capabilities | undefined;
  readonly uptimeSeconds: number | undefined;
  /** Per-server states, when the shape lists them (`servers.statuses`). */
  readonly states: ReadonlyMap<string, string> | undefined;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
const str = (v: unknown, max = 200): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= max ? v : undefined);

export function parseVersion(body: unknown): VersionInfo | undefined {
  if (!isObj(body)) return undefined;
  const version = str(body['version'], 64);
  if (version === undefined) return undefined;
  return { version, platform: str(body['platform'], 128) ?? 'unknown' };
}

/** `/status`: nested (code) `{servers: {total, running, stopped, statuses}, capabilities, uptime_seconds}` or flat (doc). */
export function parseStatus(body: unknown): StatusInfo | undefined {
  if (!isObj(body)) return undefined;
  const servers = body['servers'];
  if (isObj(servers)) {
    const total = num(servers['total']);
    const running = num(servers['running']);
    const stopped = num(servers['stopped']);
    const statuses = isObj(servers['statuses']) ? servers['statuses'] : undefined;
    const states = statuses === undefined ? undefined : new Map(Object.entries(statuses).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const failed = states === undefined ? num(servers['failed']) : [...states.values()].filter((s) => FAILED_STATES.has(s)).length;
    const caps = isObj(body['capabilities']) ? body['capabilities'] : undefined;
    return {
      servers: total !== undefined && running !== undefined && stopped !== undefined ? { total, running, stopped, failed } : undefined,
      capabilities: caps === undefined ? undefined : capabilitiesOf(caps['tools'], caps['prompts'], caps['resources']),
      uptimeSeconds: num(body['uptime_seconds']) ?? num(body['uptime']),
      states,
    };
  }
  const total = num(body['servers_total']);
  const running = num(body['servers_running']);
  const stopped = num(body['servers_stopped']);
  if (total === undefined && body['tools_total'] === undefined) return undefined;
  return {
    servers:
      total !== undefined && running !== undefined && stopped !== undefined ? { total, running, stopped, failed: num(body['servers_failed']) } : undefined,
    capabilities: capabilitiesOf(body['tools_total'], body['prompts_total'], body['resources_total']),
    uptimeSeconds: num(body['uptime']) ?? num(body['uptime_seconds']),
    states: undefined,
  };
}

function capabilitiesOf(tools: unknown, prompts: unknown, resources: unknown): Capabilities | undefined {
  const t = num(tools);
  const p = num(prompts);
  const r = num(resources);
  return t === undefined || p === undefined || r === undefined ? undefined : { tools: t, prompts: p, resources: r };
}

/** One ServerInfo, `status`/`uptime_seconds` (code) or `state`/`uptime` (doc). */
export function parseServerInfo(v: unknown): ServerInfo | undefined {
  if (!isObj(v)) return undefined;
  const id = str(v['id'], 128) ?? str(v['name'], 128);
  const state = str(v['status'], 32) ?? str(v['state'], 32);
  if (id === undefined || state === undefined) return undefined;
  return { id, state, pid: num(v['pid']), restartCount: num(v['restart_count']) };
}

/** `/servers` (`{servers: [...]}`) or a bare array, or `/composition`'s `servers`. */
export function parseServers(body: unknown): ServerInfo[] | undefined {
  const list = Array.isArray(body) ? body : isObj(body) && Array.isArray(body['servers']) ? body['servers'] : undefined;
  if (list === undefined) return undefined;
  const out: ServerInfo[] = [];
  for (const item of list) {
    const s = parseServerInfo(item);
    if (s !== undefined) out.push(s);
  }
  return out;
}

/** `/composition`'s `conflicts`: a list (or a count). */
export function parseConflicts(body: unknown): number | undefined {
  if (!isObj(body)) return undefined;
  const c = body['conflicts'];
  if (Array.isArray(c)) return c.length;
  return num(c);
}

export interface ListPage {
  /** Server id of each item (`server_id` in code, `server` in doc); items without one are skipped. */
  readonly serverIds: string[];
  /**
   * The label values of the items: a tool's or prompt's REST `id` (`calc.add`) and MCP name (`full_name`,
   * `calc_add`), a resource's URI as a label keeps it (resource templates are not values).
   */
  readonly names: string[];
  readonly total: number | undefined;
  readonly count: number;
}

/** A page of `/tools`, `/prompts` or `/resources`. */
export function parseListPage(body: unknown, key: 'tools' | 'prompts' | 'resources'): ListPage | undefined {
  if (!isObj(body) || !Array.isArray(body[key])) return undefined;
  const items = body[key] as unknown[];
  const serverIds: string[] = [];
  const names: string[] = [];
  for (const item of items) {
    if (!isObj(item)) continue;
    const id = str(item['server_id'], 128) ?? str(item['server'], 128);
    if (id !== undefined) serverIds.push(id);
    if (key === 'resources') {
      const uri = str(item['uri'], MAX_URI_LENGTH);
      if (uri !== undefined && item['template'] !== true) names.push(resourceUriLabel(uri, MAX_URI_LENGTH));
    } else {
      for (const field of ['id', 'full_name']) {
        const name = str(item[field], MAX_NAME_LENGTH);
        if (name !== undefined) names.push(name);
      }
    }
  }
  return { serverIds, names, total: num(body['total']), count: items.length };
}
