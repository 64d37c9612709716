/**
 * What the machine was doing: its description, load averages, and how much CPU other processes took
 * from the cores the bench uses while a run was measured (the machine is shared).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { cpuMicros } from './proc.ts';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly kernel: string;
  readonly node: string;
  readonly nginx: string | null;
  readonly wrk: string | null;
}

function firstLine(cmd: string, args: string[]): string | null {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error !== undefined) return null;
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0]?.trim() ?? null;
}

export function machineInfo(nginxBin: string | undefined): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    kernel: release(),
    node: process.version,
    nginx: nginxBin === undefined ? null : firstLine(nginxBin, ['-v']),
    wrk: firstLine('wrk', ['-v']),
  };
}

export function load1(): number {
  return loadavg()[0] ?? NaN;
}

/** Busy jiffies (all but idle and iowait) per CPU, from /proc/stat. */
function busyPerCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (m === null) continue;
    const f = (m[2] as string).split(/\s+/).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    out.set(m[1] as string, total - (f[3] ?? 0) - (f[4] ?? 0));
  }
  return out;
}

export interface RunWatch {
  /** Ends the watch: CPU µs of each watched pid, and the share of the watched cores other processes used. */
  end(): { cpuUs: Map<number, number>; foreignShare: number; load1: number };
}

/**
 * Starts watching a run: CPU time of `pids` (the processes of the bench on `cores`), and the busy time of
 * `cores`. `foreignShare` is the busy time of those cores not explained by the watched pids, as a share of
 * the run's wall time times the number of cores (0 = nobody else ran there; 0.3 = others took 30 %).
 */
export function watchRun(pids: readonly number[], cores: readonly string[], clkTck: number): RunWatch {
  const t0 = performance.now();
  const busy0 = busyPerCpu();
  const cpu0 = new Map(pids.map((p) => [p, cpuMicros(p) ?? 0]));
  const l0 = load1();
  return {
    end() {
      const seconds = (performance.now() - t0) / 1000;
      const busy1 = busyPerCpu();
      const cpuUs = new Map(pids.map((p) => [p, (cpuMicros(p) ?? 0) - (cpu0.get(p) ?? 0)]));
      let coreBusyUs = 0;
      for (const c of cores) coreBusyUs += (((busy1.get(c) ?? 0) - (busy0.get(c) ?? 0)) * 1e6) / clkTck;
      let ours = 0;
      for (const v of cpuUs.values()) ours += v;
      const foreignShare = cores.length === 0 ? 0 : Math.max(0, coreBusyUs - ours) / (seconds * 1e6 * cores.length);
      return { cpuUs, foreignShare, load1: Math.max(l0, load1()) };
    },
  };
}
