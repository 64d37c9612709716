import { describe, expect, it } from 'vitest';
import type { CallFrame, Profile } from '../../bench/lib/cpu-profile.ts';
import { attributeTurns, partOf } from '../../bench/lib/turn-attribution.ts';

const frame = (functionName: string, url = ''): CallFrame => ({ functionName, url, lineNumber: 0 });

// root → processImmediate → { SDK collect, gzip piece }; root → GC
const profile: Profile = {
  startTime: 1000,
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5] },
    { id: 2, callFrame: frame('processImmediate', 'node:internal/timers'), children: [3, 4] },
    { id: 3, callFrame: frame('collect', 'file:///r/node_modules/@opentelemetry/sdk-metrics/build/esm/state/MeterSharedState.js') },
    { id: 4, callFrame: frame('piece', 'file:///r/.bench-build/admin/gzip-pieces.js') },
    { id: 5, callFrame: frame('(garbage collector)') },
  ],
  // Samples end at 1100, 1200, 1300, 1400 and 2500 µs.
  samples: [3, 3, 5, 4, 4],
  timeDeltas: [100, 100, 100, 100, 1100],
};

describe('what ran in a long turn of the event loop', () => {
  it('sorts stacks into the parts of a scrape', () => {
    expect(partOf([frame('(garbage collector)')])).toBe('gc');
    expect(partOf([frame('(idle)')])).toBe('idle');
    expect(partOf([frame('slices', 'file:///r/src/exporters/prometheus-serializer.ts'), frame('writeSliced', 'file:///r/src/admin/sliced-answer.ts')])).toBe(
      'answer',
    );
    expect(partOf([frame('processChunkSync', 'node:zlib')])).toBe('answer');
    expect(partOf([frame('collect', 'file:///r/src/telemetry/local-metrics.ts')])).toBe('collection');
    expect(partOf([frame('hashAttributes', 'file:///r/node_modules/@opentelemetry/sdk-metrics/build/esm/utils.js')])).toBe('collection');
    expect(partOf([frame('onRequest', 'file:///r/src/proxy/server.ts')])).toBe('other');
  });

  it('gives each turn the samples that end inside it, by part and by function', () => {
    const [first, second, empty] = attributeTurns(profile, [
      [1350, 0.1],
      [1000, 0.35],
      [3000, 1],
    ]);
    expect(first?.startUs).toBe(1000);
    expect(first?.parts).toEqual({ collection: 0.2, answer: 0, gc: 0.1, idle: 0, other: 0 });
    expect(first?.main).toBe('collection');
    expect(first?.top[0]?.[0]).toMatch(/^collect /);
    expect(second?.parts.answer).toBe(0.1);
    expect(second?.main).toBe('answer');
    expect(empty?.parts).toEqual({ collection: 0, answer: 0, gc: 0, idle: 0, other: 0 });
    expect(empty?.main).toBe('other');
  });
});
