// `npm run demo`: the demo composer on a free port, the sidecar in front of it with a fresh random metrics
// token in a private temp file, and a traffic generator through the sidecar's proxy. Prints the URLs, the
// token, a ready curl line and the status page's URL (token in the fragment), then a one-line status every
// second until Ctrl-C or --duration; at the end, a short summary of what the sidecar measured (from its own
// /status.json), and it tears everything down (process groups included). Machine-readable JSON lines:
// `demo.ready`, `demo.summary` and `demo.stopped` (the latter lists every pid the demo started, children of
// the composer included).
//
//   npm run demo -- [--duration N] [--servers K] [--rate R] [--crash-every D]
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseDuration } from './options.ts';
import { isAlive, spawnGroup, stopGroup, waitForJsonLine, type Spawned } from './spawned.ts';
import { Traffic } from './traffic.ts';

const COMPOSER_CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const SIDECAR_CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
/** How long each process may take to print its listening line. */
const READY_TIMEOUT_MS = 30_000;

const HELP = `npm run demo -- [flags]
  --duration N     stop after N seconds (or 500ms, 2m); default: run until Ctrl-C
  --servers K      child MCP servers of the demo composer (default 3)
  --rate R         traffic actions per second (default 10)
  --crash-every D  crash the calc child through its crash tool this often, 0 = never (default 4s)
  --help           this text`;

interface RunOptions {
  readonly durationMs: number | undefined;
  readonly servers: number;
  readonly rate: number;
  readonly crashEveryMs: number;
}

function parse(argv: string[]): RunOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      duration: { type: 'string' },
      servers: { type: 'string' },
      rate: { type: 'string' },
      'crash-every': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) return 'help';
  const num = (name: string, raw: string | undefined, fallback: number, min: number, max: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`invalid value for --${name}: ${JSON.stringify(raw)}`);
    return n;
  };
  const dur = (name: string, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    const ms = parseDuration(raw);
    if (ms === undefined) throw new Error(`invalid value for --${name}: ${JSON.stringify(raw)}`);
    return ms;
  };
  return {
    durationMs: dur('duration', values.duration),
    servers: Math.round(num('servers', values.servers, 3, 1, 20)),
    rate: num('rate', values.rate, 10, 0.1, 1000),
    crashEveryMs: dur('crash-every', values['crash-every']) ?? 4000,
  };
}

function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Every pid the composer reports for its children (read directly, not through the proxy). */
async function childPids(composerUrl: string): Promise<number[]> {
  try {
    const res = await fetch(`${composerUrl}/api/v1/servers`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { servers?: { pid?: number | null }[] };
    return (body.servers ?? []).flatMap((s) => (typeof s.pid === 'number' ? [s.pid] : []));
  } catch {
    return [];
  }
}

/** Names of the metric families the sidecar serves now. */
async function families(metricsUrl: string, token: string): Promise<string[]> {
  try {
    const res = await fetch(metricsUrl, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(3000) });
    const text = await res.text();
    return [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] ?? '').filter((n) => n !== '');
  } catch {
    return [];
  }
}

/** The part of the sidecar's /status.json the summary uses. */
interface StatusRow {
  readonly name: string;
  readonly calls: number;
  readonly errors: number;
  readonly w5m: { readonly p95: number | null };
}

export interface DemoSummary {
  readonly tools: { readonly name: string; readonly calls: number; readonly errorPct: number; readonly p95Seconds: number | null }[];
  readonly crashes: number;
  readonly crashesByServer: Record<string, number>;
}

/** What the sidecar measured, from its own /status.json (`undefined` when it does not answer). */
async function measured(statusJsonUrl: string, token: string): Promise<DemoSummary | undefined> {
  try {
    const res = await fetch(statusJsonUrl, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(3000) });
    if (res.status !== 200) return undefined;
    const body = (await res.json()) as { tools?: StatusRow[]; servers?: { id: string; crashes: number }[] };
    const tools = [...(body.tools ?? [])]
      .sort((a, b) => b.calls - a.calls)
      .slice(0, 5)
      .map((t) => ({ name: t.name, calls: t.calls, errorPct: t.calls === 0 ? 0 : Math.round((1000 * t.errors) / t.calls) / 10, p95Seconds: t.w5m.p95 }));
    const crashesByServer = Object.fromEntries((body.servers ?? []).filter((s) => s.crashes > 0).map((s) => [s.id, s.crashes]));
    return { tools, crashes: Object.values(crashesByServer).reduce((a, b) => a + b, 0), crashesByServer };
  } catch {
    return undefined;
  }
}

function ms(seconds: number | null): string {
  if (seconds === null) return '–';
  return seconds < 1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(2)} s`;
}

/** The summary as a few lines of text. */
function summaryLines(s: DemoSummary): string[] {
  const width = Math.max(4, ...s.tools.map((t) => t.name.length));
  const lines = [
    'what the sidecar measured (from its /status.json):',
    `  ${'tool'.padEnd(width)}  ${'calls'.padStart(6)}  ${'errors'.padStart(7)}  p95 (5 min)`,
  ];
  for (const t of s.tools)
    lines.push(`  ${t.name.padEnd(width)}  ${String(t.calls).padStart(6)}  ${`${t.errorPct.toFixed(1)} %`.padStart(7)}  ${ms(t.p95Seconds)}`);
  if (s.tools.length === 0) lines.push('  (no tool call yet)');
  const by = Object.entries(s.crashesByServer)
    .map(([id, n]) => `${id} ${n}`)
    .join(', ');
  lines.push(`  crashes seen: ${s.crashes}${by === '' ? '' : ` (${by})`}`);
  return lines;
}

function stopSignal(durationMs: number | undefined): Promise<string> {
  return new Promise((resolve) => {
    const timer = durationMs === undefined ? undefined : setTimeout(() => resolve('duration'), durationMs);
    const on = (sig: string) => () => {
      if (timer) clearTimeout(timer);
      resolve(sig);
    };
    process.once('SIGINT', on('SIGINT'));
    process.once('SIGTERM', on('SIGTERM'));
  });
}

export async function runDemo(argv: string[]): Promise<number> {
  let opts: RunOptions | 'help';
  try {
    opts = parse(argv);
  } catch (err) {
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  if (opts === 'help') {
    say(HELP);
    return 0;
  }
  const dir = await mkdtemp(join(tmpdir(), 'sidecar-demo-'));
  const tokenFile = join(dir, 'metrics-token');
  const token = randomBytes(24).toString('base64url');
  await writeFile(tokenFile, token, { mode: 0o600 });

  const started: Spawned[] = [];
  const pids = new Set<number>();
  let traffic: Traffic | undefined;
  let poller: NodeJS.Timeout | undefined;
  let code = 0;
  try {
    const composer = spawnGroup('demo composer', process.execPath, [COMPOSER_CLI, '--port', '0', '--servers', String(opts.servers), '--exit-on-stdin-close'], {
      stdinPipe: true,
    });
    started.push(composer);
    pids.add(composer.pid);
    const composerUrl = String((await waitForJsonLine(composer, (m) => m.event === 'listening', READY_TIMEOUT_MS)).url);
    for (const pid of await childPids(composerUrl)) pids.add(pid);

    const sidecar = spawnGroup('sidecar', process.execPath, [
      SIDECAR_CLI,
      '--upstream',
      composerUrl,
      '--listen',
      '127.0.0.1:0',
      '--metrics-listen',
      '127.0.0.1:0',
      '--metrics-token-file',
      tokenFile,
    ]);
    started.push(sidecar);
    pids.add(sidecar.pid);
    const ready = await waitForJsonLine(
      sidecar,
      (m) => m.event === 'listening' && typeof m.proxy === 'string' && typeof m.metrics === 'string',
      READY_TIMEOUT_MS,
    );
    const proxy = String(ready.proxy);
    const metrics = String(ready.metrics);
    const statusPage = typeof ready.status === 'string' ? ready.status : metrics.replace(/\/metrics$/, '/status');

    say(`demo composer  ${composerUrl}  (${opts.servers} child MCP servers, pid ${composer.pid})`);
    say(`proxy          ${proxy}  <- point clients here (REST /api/v1, MCP /sse and /mcp)`);
    say(`metrics        ${metrics}`);
    say(`token          ${token}  (in ${tokenFile}, mode 0600)`);
    say(`scrape with    curl -H 'Authorization: Bearer ${token}' ${metrics}`);
    say(`status page    ${statusPage}#token=${token}  <- open it in a browser: the sidecar's view, live`);
    say(JSON.stringify({ event: 'demo.ready', composer: composerUrl, proxy, metrics, status: statusPage, token_file: tokenFile, pids: [...pids] }));
    say(opts.durationMs === undefined ? 'sending traffic; Ctrl-C stops everything' : `sending traffic for ${opts.durationMs / 1000} s`);

    traffic = new Traffic({ baseUrl: proxy, rate: opts.rate, crashEveryMs: opts.crashEveryMs });
    traffic.start();
    const t0 = Date.now();
    const tty = process.stdout.isTTY === true;
    const t = traffic;
    poller = setInterval(() => {
      void childPids(composerUrl).then((list) => {
        for (const p of list) pids.add(p);
      });
      const line = `requests ${t.stats.requests}  errors ${t.stats.errors}  crashes ${t.stats.crashes}  (${Math.round((Date.now() - t0) / 1000)} s)`;
      if (tty) process.stdout.write(`\r\x1b[2K${line}`);
      else say(line);
    }, 1000);
    const why = await Promise.race([
      stopSignal(opts.durationMs),
      composer.exited.then(() => 'the demo composer exited'),
      sidecar.exited.then(() => 'the sidecar exited'),
    ]);
    clearInterval(poller);
    if (tty) say();
    if (why.includes('exited')) {
      code = 1;
      process.stderr.write(`demo: ${why}; last lines:\n${[...composer.tail, ...sidecar.tail].slice(-20).join('\n')}\n`);
    }
    await traffic.stop();
    for (const p of await childPids(composerUrl)) pids.add(p);
    const served = await families(metrics, token);
    const summary = await measured(`${statusPage}.json`, token);
    say(`stopping (${why}): ${traffic.stats.requests} requests, ${traffic.stats.errors} errors, ${traffic.stats.crashes} crashes`);
    const composerFamilies = served.filter((n) => n.startsWith('mcp_'));
    say(
      `the sidecar served ${served.length} metric families, ${composerFamilies.length} of them the composer's${composerFamilies.length > 0 ? `: ${composerFamilies.join(', ')}` : ''}`,
    );
    if (summary === undefined) say('what the sidecar measured: its /status.json did not answer');
    else {
      for (const line of summaryLines(summary)) say(line);
      say(JSON.stringify({ event: 'demo.summary', ...summary }));
    }
  } catch (err) {
    code = 1;
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    for (const p of started) if (p.tail.length > 0) process.stderr.write(`--- ${p.name}, last lines:\n${p.tail.slice(-15).join('\n')}\n`);
  } finally {
    if (poller) clearInterval(poller);
    await traffic?.stop();
    // The sidecar first (it drains towards the composer), then the composer (which stops its children).
    for (const p of [...started].reverse()) await stopGroup(p);
    await rm(dir, { recursive: true, force: true });
  }
  const alive = [...pids].filter(isAlive);
  say(
    JSON.stringify({
      event: 'demo.stopped',
      pids: [...pids],
      alive,
      requests: traffic?.stats.requests ?? 0,
      errors: traffic?.stats.errors ?? 0,
      crashes: traffic?.stats.crashes ?? 0,
    }),
  );
  if (alive.length > 0) {
    process.stderr.write(`demo: processes still alive after teardown: ${alive.join(', ')}\n`);
    return 1;
  }
  return code;
}

if (import.meta.main) {
  process.exit(await runDemo(process.argv.slice(2)));
}
