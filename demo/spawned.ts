// Child processes of `npm run demo`: spawned in their own process group, stdout and stderr drained
// continuously (the last lines kept for error messages), the first JSON line that satisfies a predicate
// awaited with a bound, and a stop that escalates from SIGTERM to SIGKILL of the whole group.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Lines of output kept per process for diagnostics. */
const TAIL_LINES = 40;

export interface Spawned {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last lines of stdout and stderr. */
  readonly tail: string[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Listeners called with every stdout line (one reader per stream: readline's close() would pause it). */
  readonly stdoutListeners: Set<(line: string) => void>;
}

export interface SpawnOptions {
  /** Keep a pipe on stdin (a child run with --exit-on-stdin-close exits when it closes). Default false. */
  readonly stdinPipe?: boolean;
}

export function spawnGroup(name: string, command: string, args: readonly string[], opts: SpawnOptions = {}): Spawned {
  const child = spawn(command, [...args], {
    stdio: [opts.stdinPipe === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    detached: true,
    env: process.env,
  });
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  const tail: string[] = [];
  const keep = (line: string): void => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  const stdoutListeners = new Set<(line: string) => void>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    keep(line);
    for (const l of [...stdoutListeners]) l(line);
  });
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { name, child, pid: child.pid, tail, exited, stdoutListeners };
}

/** Waits for the first stdout JSON line that `match` accepts; rejects on exit or after `timeoutMs`. */
export function waitForJsonLine(p: Spawned, match: (msg: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      p.stdoutListeners.delete(onLine);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${p.name} was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onLine = (line: string): void => {
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (typeof msg === 'object' && msg !== null && match(msg as Record<string, unknown>)) {
        done();
        resolve(msg as Record<string, unknown>);
      }
    };
    p.stdoutListeners.add(onLine);
    void p.exited.then(({ code, signal }) => {
      done();
      reject(new Error(`${p.name} exited (code ${code}, signal ${signal}) before it was ready`));
    });
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** SIGTERM, then after `graceMs` SIGKILL to the whole process group; resolves once the process exited. */
export async function stopGroup(p: Spawned, graceMs = 5000): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) {
    p.child.kill('SIGTERM');
    const done = await Promise.race([p.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), graceMs).unref())]);
    if (!done) killGroup(p.pid, 'SIGKILL');
    await p.exited;
  }
  p.child.stdin?.destroy();
  killGroup(p.pid, 'SIGKILL');
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
