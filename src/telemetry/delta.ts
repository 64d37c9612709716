/**
 * What a delta reader keeps of a local family kind (local-histogram.ts, local-sum.ts): what it was given of
 * each series, and when it last collected. Owned by local-metrics.ts, one per reader and kind.
 */
import type { HrTime } from '@opentelemetry/api';

export interface DeltaState<Cell extends object, Reported> {
  readonly series: WeakMap<Cell, Reported>;
  since: HrTime | undefined;
}

/** A delta point's start: the reader's previous collection, or the series' own start if it began later. */
export function deltaStart(since: HrTime | undefined, start: HrTime): HrTime {
  return since === undefined || since[0] < start[0] || (since[0] === start[0] && since[1] < start[1]) ? start : since;
}
