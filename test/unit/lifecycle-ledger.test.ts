import { describe, expect, it } from 'vitest';
import { LifecycleLedger, type LifecycleFact } from '../../src/ledger/lifecycle.ts';

function ledger() {
  let now = 1_000_000;
  const counted: LifecycleFact[] = [];
  const l = new LifecycleLedger({ lifecycle: (f) => counted.push(f) }, { now: () => now, eventMatchWindowMs: 30_000 });
  return { l, counted, tick: (ms: number) => (now += ms), now: () => now };
}

const restart: LifecycleFact = { kind: 'restart', serverId: 'calc', reason: 'manual' };
const crash: LifecycleFact = { kind: 'crash', serverId: 'calc' };

describe('one source per fact', () => {
  it('counts inference while there is no stream', () => {
    const { l, counted } = ledger();
    l.fromInference(restart);
    l.fromInference(restart);
    expect(counted).toHaveLength(2);
  });

  it('ignores inference while the stream is connected', () => {
    const { l, counted } = ledger();
    l.onStreamConnected();
    l.fromInference(restart);
    l.fromEvent(restart, false);
    expect(counted).toEqual([restart]);
  });

  it('does not count a replayed event that inference already counted during the gap, but counts what inference missed', () => {
    const { l, counted, tick } = ledger();
    l.onStreamConnected();
    tick(1000);
    l.onStreamDisconnected();
    tick(1000);
    l.fromInference(restart);
    tick(5000);
    l.onStreamConnected();
    l.fromEvent(restart, true);
    l.fromEvent(crash, true);
    tick(10);
    l.fromEvent(crash, false);
    expect(counted).toEqual([restart, crash, crash]);
  });

  it('does not count a late inference twin of an event delivered just before the stream dropped', () => {
    const { l, counted, tick } = ledger();
    l.onStreamConnected();
    l.fromEvent(restart, false);
    l.onStreamDisconnected();
    tick(100);
    l.fromInference(restart);
    expect(counted).toEqual([restart]);
    tick(60_000);
    l.fromInference(restart);
    expect(counted).toEqual([restart, restart]);
  });

  it('keeps what inference counted once live events resume, and counts later live events', () => {
    const { l, counted, tick } = ledger();
    l.onStreamDisconnected();
    l.fromInference(restart);
    tick(1000);
    l.onStreamConnected();
    l.fromEvent(crash, false);
    l.fromEvent(restart, true);
    expect(counted).toEqual([restart, crash, restart]);
  });
});

describe('the inference mark', () => {
  it('changes with every inference fact that arrives while the stream is down, counted or matched, and never while it is up', () => {
    const { l } = ledger();
    const start = l.inferenceMark;
    l.onStreamConnected();
    l.fromEvent(restart, false);
    l.fromInference(restart);
    expect(l.inferenceMark).toBe(start);
    l.onStreamDisconnected();
    l.fromInference(restart);
    expect(l.inferenceMark).toBe(start + 1);
    l.fromInference(crash);
    expect(l.inferenceMark).toBe(start + 2);
  });
});
