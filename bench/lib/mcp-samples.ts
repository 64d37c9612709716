/** The MCP scenario's samples and how the sidecar is judged against the bare undici proxy of the same round. */
import type { McpLoadResult } from './children.ts';
import { spread, type Spread } from './stats.ts';
import type { TargetName } from './targets.ts';

export const MCP_CLIENTS = 8;
export type Kind = 'streamable_http' | 'sse';
export const KINDS: readonly Kind[] = ['streamable_http', 'sse'];

export interface McpSample extends McpLoadResult {
  readonly kind: Kind;
  readonly target: TargetName;
  readonly round: number;
  /** CPU time of the proxy (for `direct`: NaN) per call. */
  readonly proxyCpuUsPerCall: number;
  readonly composerCpuUsPerCall: number;
  readonly foreignShare: number;
  readonly load1: number;
}

/** The sidecar against the bare undici proxy, round by round (the two run side by side in every round). */
export interface SideBySide {
  /** Calls per second, sidecar ÷ bare undici. */
  readonly ratio: Spread;
  /** Proxy CPU per call, sidecar − bare undici, µs. */
  readonly cpuAddedUs: Spread;
}

/** Per round of `kind`: the sidecar's calls per second over the bare proxy's, and its CPU per call above it. */
export function sideBySide(samples: readonly McpSample[], kind: Kind): SideBySide {
  const ratios: number[] = [];
  const cpu: number[] = [];
  for (const s of samples) {
    if (s.kind !== kind || s.target !== 'sidecar') continue;
    const bare = samples.find((b) => b.kind === kind && b.target === 'bare-undici' && b.round === s.round);
    if (bare === undefined) continue;
    ratios.push(s.callsPerSecond / bare.callsPerSecond);
    cpu.push(s.proxyCpuUsPerCall - bare.proxyCpuUsPerCall);
  }
  return { ratio: spread(ratios), cpuAddedUs: spread(cpu) };
}
