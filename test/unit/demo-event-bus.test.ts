// The event bus behind /api/v1/events: increasing ids, a bounded buffer, and the replay decision for a
// Last-Event-ID (property-tested against a model).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../demo/events/bus.ts';
import { sseFrame } from '../../demo/events/stream-route.ts';

const fixed = () => new Date('2026-01-02T03:04:05.678Z');

describe('demo event bus', () => {
  it('issues strictly increasing ids and wraps data in the envelope', () => {
    const bus = new EventBus({ composer: 'c1', capacity: 10, now: fixed });
    const a = bus.emit('server.crashed', { server_id: 'x' });
    const b = bus.emit('server.restarted', { server_id: 'x' });
    expect([a.id, b.id, bus.lastId]).toEqual([1, 2, 2]);
    expect(JSON.parse(a.data)).toEqual({ type: 'server.crashed', time: '2026-01-02T03:04:05.678Z', composer: 'c1', data: { server_id: 'x' } });
  });

  it('keeps only the last `capacity` events', () => {
    const bus = new EventBus({ composer: 'c', capacity: 3 });
    for (let i = 0; i < 10; i++) bus.emit('t', { i });
    expect(bus.held).toBe(3);
    expect(bus.since(0).map((e) => e.id)).toEqual([8, 9, 10]);
  });

  it('plans no replay for a fresh client, a replay for a held id, a reset for expired, unknown or invalid ids', () => {
    const bus = new EventBus({ composer: 'c', capacity: 3 });
    for (let i = 0; i < 5; i++) bus.emit('t', {});
    expect(bus.planReplay(undefined)).toEqual({ reset: false, events: [] });
    expect(bus.planReplay('3').events.map((e) => e.id)).toEqual([4, 5]);
    expect(bus.planReplay('3').reset).toBe(false);
    expect(bus.planReplay('5')).toEqual({ reset: false, events: [] });
    expect(bus.planReplay('1')).toMatchObject({ reset: true, reason: 'expired' });
    expect(bus.planReplay('1').events.map((e) => e.id)).toEqual([3, 4, 5]);
    expect(bus.planReplay('9')).toMatchObject({ reset: true, reason: 'unknown_id' });
    expect(bus.planReplay('abc')).toMatchObject({ reset: true, reason: 'invalid_id' });
  });

  it('replays exactly the missed events whenever the buffer still holds them (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }), (capacity, emitted, last) => {
        fc.pre(last <= emitted);
        const bus = new EventBus({ composer: 'c', capacity });
        for (let i = 0; i < emitted; i++) bus.emit('t', { i });
        const plan = bus.planReplay(String(last));
        const oldest = Math.max(1, emitted - capacity + 1);
        const missed = Array.from({ length: emitted - last }, (_, i) => last + 1 + i);
        expect(plan.reset).toBe(last + 1 < oldest && emitted > 0);
        expect(plan.events.map((e) => e.id)).toEqual(missed.filter((id) => id >= oldest));
      }),
    );
  });

  it('writes SSE frames with id, event and one data line per line', () => {
    expect(sseFrame('x', '{"a":1}', 7)).toBe('id: 7\nevent: x\ndata: {"a":1}\n\n');
    expect(sseFrame('snapshot', 'a\nb')).toBe('event: snapshot\ndata: a\ndata: b\n\n');
  });
});
