/**
 * The sidecar's own memory against its budget (config/memory.ts), observed at each collection: what the
 * kernel counts (RSS, what a cgroup limit OOM-kills on), what V8's heap holds, and the limit itself when
 * there is one — so an alert can see the sidecar approach its container's limit before the kernel does.
 */
import { memoryUsage } from 'node:process';
import type { Instruments } from './instruments.ts';

export interface MemoryGaugeOptions {
  /** The memory limit the budget was sized from, in bytes; `undefined` (no limit) leaves its gauge absent. */
  readonly limitBytes: number | undefined;
}

export function observeMemory(instruments: Instruments, opts: MemoryGaugeOptions): void {
  instruments.observeGauge('sidecar_memory_resident_bytes', (observe) => observe(memoryUsage.rss()));
  instruments.observeGauge('sidecar_memory_heap_used_bytes', (observe) => observe(memoryUsage().heapUsed));
  const limit = opts.limitBytes;
  if (limit !== undefined) instruments.observeGauge('sidecar_memory_limit_bytes', (observe) => observe(limit));
}
