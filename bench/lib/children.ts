/** Runs the Node load children of bench/load/ (pinned to the load core) and reads their JSON answers. */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PairedSpec, PairedTargetResult } from '../load/mcp-paired.ts';
import { jsonLine, runToEnd, spawnPinned, waitForLine } from './proc.ts';

function script(name: string): string {
  return fileURLToPath(new URL(`../load/${name}`, import.meta.url));
}

function lastJson<T>(out: string): T {
  const lines = out.trim().split('\n');
  const v = jsonLine(lines[lines.length - 1] ?? '');
  if (v === undefined) throw new Error(`no JSON result in: ${out.slice(-400)}`);
  return v as T;
}

export interface PacedResult {
  readonly sent: number;
  /** Requests sent including the warm-up. */
  readonly totalSent: number;
  readonly answered: number;
  readonly rate: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  readonly errors: number;
  readonly non2xx: number;
  readonly scrapes: number;
  readonly scrapeMedianMs: number | null;
  /** With scrapes: the requests in flight at some moment a scrape was in flight (load/paced.ts). */
  readonly overlapping: { readonly count: number; readonly p50Ms: number; readonly p90Ms: number; readonly p99Ms: number } | null;
}

export interface PacedSpec {
  readonly url: string;
  readonly rate: number;
  readonly connections: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly scrapeUrl?: string;
  readonly scrapeToken?: string;
  readonly scrapeEveryMs?: number;
}

export async function runPaced(cpus: string | undefined, spec: PacedSpec): Promise<PacedResult> {
  const child = spawnPinned(cpus, process.execPath, [script('paced.ts'), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  return lastJson<PacedResult>(await runToEnd(child, 'paced load'));
}

export interface McpLoadResult {
  readonly calls: number;
  /** Calls including the warm-up. */
  readonly totalCalls: number;
  readonly callsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failed: number;
  /** UTF-8 bytes of the first successful result's JSON, as the client parsed it. */
  readonly resultBytes: number;
}

export async function runMcpLoad(
  cpus: string | undefined,
  spec: {
    baseUrl: string;
    kind: 'streamable_http' | 'sse';
    clients: number;
    seconds: number;
    warmupSeconds: number;
    tool?: string;
    args?: Record<string, unknown>;
  },
): Promise<McpLoadResult> {
  const child = spawnPinned(cpus, process.execPath, [script('mcp.ts'), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  return lastJson<McpLoadResult>(await runToEnd(child, 'MCP load'));
}

/** Runs bench/load/mcp-paired.ts: the targets in turns of `windowSeconds`, summed per target (see there). */
export async function runMcpPaired(cpus: string | undefined, spec: PairedSpec): Promise<{ targets: PairedTargetResult[] }> {
  const child = spawnPinned(cpus, process.execPath, [script('mcp-paired.ts'), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  return lastJson<{ targets: PairedTargetResult[] }>(await runToEnd(child, 'paired MCP load'));
}

export interface SseLoadResult {
  readonly opened: number;
  readonly failed: number;
  readonly events: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface SseLoad {
  /** Resolves once every stream is open (`{"open":N}`). */
  readonly open: Promise<{ open: number; failed: number }>;
  /** Resolves with the result when the hold period is over. */
  readonly done: Promise<SseLoadResult>;
  readonly child: ChildProcess;
}

export function startSseLoad(cpus: string | undefined, spec: { baseUrl: string; streams: number; seconds: number }): SseLoad {
  const child = spawnPinned(cpus, process.execPath, [script('sse.ts'), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const done = new Promise<SseLoadResult>((resolve, reject) => {
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.once('exit', (code) => (code === 0 ? resolve(lastJson<SseLoadResult>(out)) : reject(new Error(`SSE load exited with ${code}: ${err.slice(-600)}`))));
  });
  const open = waitForLine(
    child,
    (l) => {
      out += `${l}\n`;
      const j = jsonLine(l);
      return j !== undefined && 'open' in j ? { open: Number(j['open']), failed: Number(j['failed']) } : undefined;
    },
    'SSE load',
    120_000,
  );
  void open.then(() => child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8'))));
  return { open, done, child };
}
