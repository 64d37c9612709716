/**
 * Lifecycle facts from the difference between two views of the composer's servers (two polls, or a
 * poll after an event-stream snapshot). Pure.
 *
 * - A server whose state turns `crashed`/`failed` crashed once.
 * - A server whose `restart_count` grew (or, without a count, whose `pid` changed between two running
 *   states) was restarted by the supervisor: one `restart{reason="crash"}` per restart, and one crash for
 *   each restart whose crash was not already seen as a state.
 * - Changes on a server that had a proxied lifecycle call (start/stop/restart) since the previous view
 *   are explained by that call, which the REST classification counts: never counted again here.
 */
import type { LifecycleFact } from './lifecycle.ts';

export interface ServerView {
  readonly state: string;
  readonly pid: number | undefined;
  readonly restartCount: number | undefined;
}

/** Per-server memory carried from one view to the next. */
export interface ServerMemory extends ServerView {
  /** A crash already counted from the state, whose supervisor restart has not been seen yet. */
  readonly crashCounted: boolean;
}

export const FAILED_STATES: ReadonlySet<string> = new Set(['crashed', 'failed', 'error']);

export function diffServer(
  serverId: string,
  prev: ServerMemory | undefined,
  next: ServerView,
  explained: boolean,
): { facts: LifecycleFact[]; memory: ServerMemory } {
  const facts: LifecycleFact[] = [];
  const failedNow = FAILED_STATES.has(next.state);
  if (prev === undefined) return { facts, memory: { ...next, crashCounted: failedNow } };
  if (explained) {
    // Nothing is inferred, but a crash already counted stays pending until the view shows it resolved
    // (restarted, or stopped): a snapshot taken while the supervisor is `starting` it must not let the
    // poll that sees the restart count the crash again.
    const resolved =
      next.state === 'stopped' ||
      (next.restartCount !== undefined && prev.restartCount !== undefined ? next.restartCount > prev.restartCount : next.state === 'running');
    return { facts, memory: { ...next, crashCounted: failedNow || (prev.crashCounted && !resolved) } };
  }
  let crashCounted = prev.crashCounted;
  const failedBefore = FAILED_STATES.has(prev.state);
  let restarts = 0;
  if (next.restartCount !== undefined && prev.restartCount !== undefined) {
    restarts = Math.max(0, next.restartCount - prev.restartCount);
  } else if (next.pid !== undefined && prev.pid !== undefined && next.pid !== prev.pid && !failedNow) {
    restarts = 1;
  } else if (next.restartCount === undefined && failedBefore && next.state === 'running' && next.pid !== undefined) {
    restarts = 1;
  }
  if (failedNow && !failedBefore && !crashCounted) {
    facts.push({ kind: 'crash', serverId });
    crashCounted = true;
  }
  for (let i = 0; i < restarts; i++) {
    // The first restart may be the recovery from a crash already counted from the state.
    if (i === 0 && crashCounted) crashCounted = false;
    else facts.push({ kind: 'crash', serverId });
    facts.push({ kind: 'restart', serverId, reason: 'crash' });
  }
  if (failedNow && restarts > 0) {
    // Restarted and crashed again since the last view: that latest crash is counted, its restart is pending.
    facts.push({ kind: 'crash', serverId });
    crashCounted = true;
  }
  // A crashed server that was stopped will not be restarted by the supervisor: nothing is pending any more.
  if (next.state === 'stopped' && restarts === 0) crashCounted = false;
  // Without a restart count, a server already known running under this pid (an event said it started)
  // has recovered: its restart is the event's to count, and a later crash must be seen again.
  if (next.restartCount === undefined && prev.state === 'running' && next.state === 'running' && next.pid === prev.pid && restarts === 0) crashCounted = false;
  return { facts, memory: { ...next, crashCounted } };
}
