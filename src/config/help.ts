/** Renders `--help` and the README's option table from the option table. */
import { OPTIONS, type OptionSpec } from './options.ts';

const GROUP_TITLES: Record<OptionSpec['group'], string> = {
  core: 'Core',
  upstream: 'Upstream (the composer)',
  clients: 'Clients (the proxy port)',
  metrics: 'Metrics port and instruments',
  inventory: 'Inventory and event stream',
  mcp: 'MCP',
};

function flagText(o: OptionSpec): string {
  return o.boolean !== undefined ? `--${o.flag}` : `--${o.flag} ${o.placeholder}`;
}

/** A negative flag (`--no-x`) is set by its variable's value, e.g. `SIDECAR_METRICS_AUTH=none`. */
function envText(o: OptionSpec): string {
  return o.boolean !== undefined && o.boolean.flagValue !== 'true' ? `${o.env}=${o.boolean.flagValue}` : o.env;
}

function defaultText(o: OptionSpec, code: boolean): string {
  if (o.default === undefined) return 'none';
  return code ? `\`${o.default}\`` : o.default;
}

/** The text `--help` prints. */
export function renderHelp(version: string): string {
  const lines = [
    `mcp-composer-sidecar ${version}`,
    '',
    'An OpenTelemetry observability sidecar for the MCP Server Composer: a streaming reverse proxy that',
    "serves the composer's Prometheus metrics on a port of its own.",
    '',
    'Usage:',
    '  mcp-composer-sidecar [flags]              run the sidecar',
    '  mcp-composer-sidecar check --upstream URL [flags]  probe the composer: what it serves, what the sidecar will see',
    '  mcp-composer-sidecar demo-composer [...]  run the demo composer (from a source checkout)',
    '  mcp-composer-sidecar --help | --version',
    '',
    'Every flag also reads an environment variable; a flag wins over its variable. Durations: 500ms, 15s, 2m',
    '(a plain number is seconds). Sizes: 64kb, 1mb (a plain number is bytes).',
  ];
  for (const group of Object.keys(GROUP_TITLES) as OptionSpec['group'][]) {
    const opts = OPTIONS.filter((o) => o.group === group);
    if (opts.length === 0) continue;
    lines.push('', `${GROUP_TITLES[group]}:`);
    for (const o of opts) {
      const def = defaultText(o, false);
      lines.push(`  ${flagText(o)}`, `      ${o.description}`, `      env ${envText(o)}; default ${def}`);
    }
  }
  lines.push(
    '',
    'OpenTelemetry (environment only, the standard SDK variables; docs/telemetry.md lists them all):',
    '  OTEL_METRICS_EXPORTER=otlp    also push metrics over OTLP (Prometheus /metrics stays on)',
    '  OTEL_TRACES_EXPORTER=otlp     trace requests and MCP operations (W3C trace context)',
    '  OTEL_EXPORTER_OTLP_ENDPOINT   collector URL; default http://localhost:4318',
    '  OTEL_EXPORTER_OTLP_PROTOCOL   http/protobuf (default), http/json or grpc',
    '  OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER, …',
  );
  return `${lines.join('\n')}\n`;
}

/** A Markdown table of every option, for the README (kept in sync by a test). */
export function renderOptionsMarkdown(): string {
  const rows = ['| flag | env | default | what |', '| --- | --- | --- | --- |'];
  for (const o of OPTIONS) {
    const def = defaultText(o, true);
    rows.push(`| \`${flagText(o)}\` | \`${envText(o)}\` | ${def} | ${o.description.replace(/\|/g, '\\|')} |`);
  }
  return rows.join('\n');
}
