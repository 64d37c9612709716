/**
 * Process helpers for the benchmark: spawning pinned children, reading their CPU time and memory from
 * /proc, waiting for their start-up line, and stopping them. Linux only (the bench reads /proc).
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

/** Clock ticks per second of utime/stime in /proc/<pid>/stat (`getconf CLK_TCK`, almost always 100). */
export const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** Whether a command can be run (found on PATH and answering `--version`/`-v`/`-V`). */
export function hasCommand(cmd: string, versionFlag = '--version'): boolean {
  const r = spawnSync(cmd, [versionFlag], { stdio: 'ignore' });
  return r.error === undefined;
}

export const HAS_TASKSET = hasCommand('taskset', '-V');

/** Runs `cmd args` pinned to `cpus` (a taskset list such as `"1"`) when taskset exists. The pid is the command's own. */
export function spawnPinned(cpus: string | undefined, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  if (cpus !== undefined && HAS_TASKSET) return spawn('taskset', ['-c', cpus, cmd, ...args], opts);
  return spawn(cmd, args, opts);
}

/** Pins an existing process (used for the bench's own process, which belongs to the load side). */
export function pinProcess(pid: number, cpus: string): void {
  if (HAS_TASKSET) spawnSync('taskset', ['-a', '-c', '-p', cpus, String(pid)], { stdio: 'ignore' });
}

/** CPU time (user + system) of a process so far, in microseconds; `undefined` once it is gone. */
export function cpuMicros(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Fields after the command name (which may contain spaces), 1-based numbering of proc(5): utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1e6) / CLK_TCK;
}

/** Resident set size of a process in bytes (VmRSS), or `undefined` once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** Direct children of a process (scans /proc; nginx workers are children of the master). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** A free TCP port on 127.0.0.1 (for programs such as nginx that need one named in their configuration). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves with the first stdout line for which `pick` returns a value; rejects if the child exits first or after `timeoutMs`. */
export function waitForLine<T>(child: ChildProcess, pick: (line: string) => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const stderr: string[] = [];
    child.stderr?.on('data', (d: Buffer) => {
      stderr.push(d.toString('utf8'));
      if (stderr.length > 20) stderr.shift();
    });
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms: ${stderr.join('').slice(-500)}`)), timeoutMs);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready: ${stderr.join('').slice(-500)}`));
    };
    child.once('exit', onExit);
    if (child.stdout === null) throw new Error(`${what}: stdout is not piped`);
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      const v = pick(line);
      if (v === undefined) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      rl.close();
      // Keep draining stdout so a chatty child never blocks on a full pipe.
      child.stdout?.resume();
      resolve(v);
    });
  });
}

/** Parses a JSON line, `undefined` if it is not JSON. */
export function jsonLine(line: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(line);
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Sends SIGTERM, waits up to `graceMs`, then SIGKILL. Resolves once the child has exited. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Runs a child to completion and returns its stdout (rejects on a non-zero exit). */
export function runToEnd(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${what} exited with ${code}: ${err.slice(-800)}`))));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
