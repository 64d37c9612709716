/**
 * Load generators: `wrk` when installed (C, one thread, the most accurate here), else autocannon in a
 * child process; both pinned to the load core. Results are normalised to {@link LoadResult}.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasCommand, runToEnd, spawnPinned } from './proc.ts';

export interface LoadResult {
  readonly requests: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Socket errors and timeouts. */
  readonly errors: number;
  /** Responses that were not 2xx/3xx. */
  readonly non2xx: number;
}

export interface LoadSpec {
  readonly url: string;
  readonly connections: number;
  readonly seconds: number;
  /** Request body for POST (sent with `content-type: application/octet-stream`); GET without it. */
  readonly postBody?: string;
  /** CPU list of the load generator. */
  readonly cpus: string | undefined;
}

/** Whether wrk is installed (Debian's prints its version on `-v` and exits 1: spawning is the test). */
export const HAS_WRK = hasCommand('wrk', '-v');

export const LOAD_TOOL: 'wrk' | 'autocannon' = HAS_WRK ? 'wrk' : 'autocannon';

function toMs(value: string, unit: string): number {
  const v = Number(value);
  if (unit === 'us') return v / 1000;
  if (unit === 's') return v * 1000;
  if (unit === 'm') return v * 60_000;
  return v;
}

/** Parses wrk's text report (with `--latency`). */
export function parseWrk(text: string): LoadResult {
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(text);
    return m === null ? NaN : toMs(m[1] as string, m[2] as string);
  };
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(text);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  if (total === null || rps === null) throw new Error(`cannot read wrk's report: ${text.slice(0, 400)}`);
  return {
    requests: Number(total[1]),
    seconds: toMs(total[2] as string, total[3] as string) / 1000,
    rps: Number(rps[1]),
    p50Ms: pct('50'),
    p99Ms: pct('99'),
    errors: sock === null ? 0 : Number(sock[1]) + Number(sock[2]) + Number(sock[3]) + Number(sock[4]),
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
  };
}

let postScript: string | undefined;
function wrkPostScript(body: string): string {
  if (postScript === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
    postScript = join(dir, 'post.lua');
    writeFileSync(postScript, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/octet-stream"\n`);
  }
  return postScript;
}

async function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const args = ['-t1', `-c${spec.connections}`, `-d${spec.seconds}s`, '--latency', '--timeout', '5s'];
  if (spec.postBody !== undefined) args.push('-s', wrkPostScript(spec.postBody));
  args.push(spec.url);
  const child = spawnPinned(spec.cpus, 'wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return parseWrk(await runToEnd(child, 'wrk'));
}

async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  const script = fileURLToPath(new URL('../load/autocannon-run.ts', import.meta.url));
  const child = spawnPinned(spec.cpus, process.execPath, [script, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(await runToEnd(child, 'autocannon')) as LoadResult;
}

/** Runs a closed-loop load (`connections` connections, as fast as they go) for `seconds`. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return HAS_WRK ? runWrk(spec) : runAutocannon(spec);
}
