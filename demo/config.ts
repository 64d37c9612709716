// The demo composer's configuration: a JSON file `{ "servers": [{ "id", "command", "args", "env"? }], ... }`.
// Validation mirrors a pydantic model closely enough for the REST answers (`errors` are readable strings);
// unknown top-level keys are kept as they are, like the real composer's extra settings.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ServerConfig {
  readonly id: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

export interface ComposerConfig {
  readonly servers: readonly ServerConfig[];
  readonly [extra: string]: unknown;
}

/** `parse_error`: the text is not JSON; `validation_error`: JSON that breaks the schema. */
export type ConfigErrorType = 'parse_error' | 'validation_error';

export type ConfigCheck =
  | { readonly ok: true; readonly config: ComposerConfig }
  | { readonly ok: false; readonly errorType: ConfigErrorType; readonly errors: readonly string[] };

/** Server ids become REST ids (`server.tool`) and MCP prefixes (`server_tool`): no `.`, `:`, `/` or spaces. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates an already-parsed value; returns every problem found, not only the first. */
export function validateConfig(value: unknown): ConfigCheck {
  const errors: string[] = [];
  if (!isRecord(value)) return { ok: false, errorType: 'validation_error', errors: ['config: must be a JSON object'] };
  const servers = value.servers;
  if (servers === undefined) errors.push('servers: field required');
  else if (!Array.isArray(servers)) errors.push('servers: must be a list');
  const out: ServerConfig[] = [];
  const seen = new Set<string>();
  if (Array.isArray(servers)) {
    servers.forEach((s: unknown, i) => {
      const at = `servers.${i}`;
      if (!isRecord(s)) {
        errors.push(`${at}: must be an object`);
        return;
      }
      const before = errors.length;
      if (typeof s.id !== 'string') errors.push(`${at}.id: field required (a string)`);
      else if (!ID_PATTERN.test(s.id)) errors.push(`${at}.id: ${JSON.stringify(s.id)} must match ${ID_PATTERN.source}`);
      else if (seen.has(s.id)) errors.push(`${at}.id: duplicate server id ${JSON.stringify(s.id)}`);
      if (typeof s.command !== 'string' || s.command.length === 0) errors.push(`${at}.command: field required (a non-empty string)`);
      const args = s.args ?? [];
      if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) errors.push(`${at}.args: must be a list of strings`);
      const env = s.env;
      if (env !== undefined && (!isRecord(env) || !Object.values(env).every((v) => typeof v === 'string'))) {
        errors.push(`${at}.env: must be an object of strings`);
      }
      if (errors.length === before && typeof s.id === 'string' && typeof s.command === 'string' && Array.isArray(args)) {
        seen.add(s.id);
        const entry: ServerConfig = { id: s.id, command: s.command, args: args.map(String) };
        out.push(isRecord(env) ? { ...entry, env: env as Record<string, string> } : entry);
      }
    });
  }
  if (errors.length > 0) return { ok: false, errorType: 'validation_error', errors };
  return { ok: true, config: { ...value, servers: out } };
}

/** Parses and validates the text of a config file. */
export function parseConfigText(text: string): ConfigCheck {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { ok: false, errorType: 'parse_error', errors: [`config: invalid JSON: ${msg}`] };
  }
  return validateConfig(value);
}

/** The roles the demo child script knows; generated configs cycle through them. */
export const CHILD_ROLES = ['calc', 'clock', 'files'] as const;
export type ChildRole = (typeof CHILD_ROLES)[number];

/** Absolute path of the demo child MCP server script. */
export const CHILD_SCRIPT = fileURLToPath(new URL('./child/server.ts', import.meta.url));

/** The config naming `count` children: calc, clock, files, calc2, clock2, files2, … */
export function defaultConfig(count: number): ComposerConfig {
  const servers: ServerConfig[] = [];
  for (let i = 0; i < count; i++) {
    const role = CHILD_ROLES[i % CHILD_ROLES.length] ?? 'calc';
    const round = Math.floor(i / CHILD_ROLES.length);
    const id = round === 0 ? role : `${role}${round + 1}`;
    servers.push({ id, command: process.execPath, args: [CHILD_SCRIPT, '--role', role, '--id', id] });
  }
  return { servers };
}

/** Writes defaultConfig(count) to `composer.json` in a fresh temp dir and returns its path. */
export async function writeDefaultConfig(count: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'demo-composer-'));
  const path = join(dir, 'composer.json');
  await writeFile(path, serializeConfig(defaultConfig(count)), { mode: 0o600 });
  return path;
}

/** The on-disk form of a config (pretty JSON with a trailing newline). */
export function serializeConfig(config: ComposerConfig): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}
