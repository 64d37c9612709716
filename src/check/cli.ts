/**
 * `mcp-composer-sidecar check --upstream URL [flags]`: probes the composer as the sidecar would (probe.ts,
 * without side effects on it) and prints what it serves, which catalog families will be fed and from which
 * source, what stays blind, and findings (report.ts) — as a table, or as JSON with `--json`.
 *
 * It takes every flag and variable of the sidecar itself (so a deployment's command line can be checked
 * as it is), plus its own `--json` and `--timeout`. Exit codes: 0 no problem, 1 at least one problem
 * (the upstream down included), 2 a bad flag — in the sidecar's own error style.
 */
import { ConfigError, ErrorCodes, ExitCodes } from '../errors.ts';
import { loadConfig, readTokenFile, type Env, type SidecarConfig } from '../config/load.ts';
import { parseDuration } from '../config/values.ts';
import { probeComposer } from './probe.ts';
import { renderReport } from './render.ts';
import { buildReport, type CheckConfig } from './report.ts';

/** How long each probe may take. */
export const CHECK_TIMEOUT_DEFAULT = '5s';

export const CHECK_HELP = `Usage: mcp-composer-sidecar check --upstream URL [flags]

Probes the composer as the sidecar would — REST, event stream, MCP legacy SSE and streamable HTTP,
GET /tools; whether each needs a token; what a foreign Host or Origin gets; whether the composer can be
reached around the sidecar — and prints what it serves, which of the catalog's 33 families will be fed
and from which source, what stays blind, and any problems. It opens no MCP session and starts, stops or
invokes nothing.

  --json               print the report as JSON
  --timeout DURATION   how long each probe may take (default ${CHECK_TIMEOUT_DEFAULT})
  --help               this text

Every flag and environment variable of the sidecar is accepted too (see mcp-composer-sidecar --help),
so a deployment's own command line can be checked; those that matter here are --upstream,
--upstream-token-file, --events-path, --no-events, --mcp-path-prefix, --probe-path, --preserve-host and
the metrics token flags.

Exit codes: 0 no problem, 1 at least one problem, 2 a bad flag.
`;

interface Parsed {
  readonly json: boolean;
  readonly timeoutMs: number;
  readonly help: boolean;
  readonly rest: string[];
}

function parseOwnFlags(argv: readonly string[]): Parsed {
  let json = false;
  let help = false;
  let timeout = CHECK_TIMEOUT_DEFAULT;
  let source = 'default of --timeout';
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--json') json = true;
    else if (a === '--help' || a === '-h') help = true;
    else if (a === '--timeout' || a.startsWith('--timeout=')) {
      const v = a === '--timeout' ? argv[++i] : a.slice('--timeout='.length);
      if (v === undefined) throw new ConfigError('--timeout', "Option '--timeout <value>' argument missing (see check --help)");
      timeout = v;
      source = '--timeout';
    } else rest.push(a);
  }
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(timeout);
  } catch (err) {
    throw new ConfigError('--timeout', `${source}: ${(err as Error).message}`);
  }
  if (timeoutMs < 100) throw new ConfigError('--timeout', `${source}: must be at least 100ms`);
  return { json, timeoutMs, help, rest };
}

/** The sidecar's configuration from the same flags; a missing metrics token is a finding here, not an error. */
function sidecarConfig(argv: readonly string[], env: Env): { config: SidecarConfig; metricsAuth: CheckConfig['metricsAuth'] } {
  try {
    const config = loadConfig(argv, env);
    return { config, metricsAuth: config.metricsAuth.kind };
  } catch (err) {
    if (!(err instanceof ConfigError) || err.code !== ErrorCodes.SIDECAR_E_METRICS_AUTH_REQUIRED) throw err;
    return { config: loadConfig([...argv, '--no-metrics-auth'], env), metricsAuth: 'missing' };
  }
}

export interface CheckOutput {
  write(text: string): void;
}

/** Runs the command; resolves with its exit code. */
export async function runCheck(argv: readonly string[], env: Env, out: CheckOutput = process.stdout, err: CheckOutput = process.stderr): Promise<number> {
  let parsed: Parsed;
  let config: SidecarConfig;
  let metricsAuth: CheckConfig['metricsAuth'];
  try {
    parsed = parseOwnFlags(argv);
    if (parsed.help) {
      out.write(CHECK_HELP);
      return ExitCodes.OK;
    }
    ({ config, metricsAuth } = sidecarConfig(parsed.rest, env));
  } catch (e) {
    if (e instanceof ConfigError) {
      err.write(`mcp-composer-sidecar check: ${e.code}: ${e.message.replace('(see --help)', '(see check --help)')}\n`);
      return ExitCodes.USAGE;
    }
    throw e;
  }
  const token = config.upstreamTokenFile === undefined ? undefined : readTokenFile(config.upstreamTokenFile, '--upstream-token-file');
  const probes = await probeComposer({
    origin: config.upstream,
    eventsPath: config.eventsPath,
    probePath: config.probePath,
    mcpPathPrefix: config.mcpPathPrefix,
    timeoutMs: parsed.timeoutMs,
    token,
  });
  const report = buildReport(probes, {
    upstream: config.upstream.origin,
    eventsPath: config.eventsPath,
    mcpPathPrefix: config.mcpPathPrefix,
    events: config.events,
    preserveHost: config.preserveHost,
    upstreamToken: token !== undefined,
    metricsAuth,
  });
  out.write(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
  return report.exitCode;
}
