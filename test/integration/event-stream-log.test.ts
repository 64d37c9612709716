/**
 * The two lines a composer without an event stream gets: `event_stream_unavailable` (the subscriber) and
 * `sources_detected` (detection) say the same thing about where lifecycle facts come from — from REST when
 * there is REST, from nowhere when there is not — whichever of the two is written first.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startDemoComposer, waitFor, type DemoComposer } from '../fixtures/demo-composer.ts';
import { startSidecar, type LogLine, type TestSidecar } from '../fixtures/sidecar.ts';

let composer: DemoComposer | undefined;
let sidecar: TestSidecar | undefined;
afterEach(async () => {
  await sidecar?.close();
  await composer?.close();
  sidecar = composer = undefined;
});

async function lines(profile: 'released' | 'rest'): Promise<{ unavailable: LogLine; detected: LogLine }> {
  composer = await startDemoComposer(['--servers', '1', '--profile', profile]);
  const s = (sidecar = await startSidecar(composer.url));
  return waitFor(
    () => {
      const unavailable = s.logs.find((l) => l.event === 'event_stream_unavailable');
      const detected = s.logs.find((l) => l.event === 'sources_detected');
      return unavailable !== undefined && detected !== undefined ? { unavailable, detected } : undefined;
    },
    { what: 'event_stream_unavailable and sources_detected' },
  );
}

describe('event_stream_unavailable agrees with sources_detected', () => {
  it('without REST: neither line says lifecycle comes from polling', async () => {
    const { unavailable, detected } = await lines('released');
    expect(detected.blind).toEqual(expect.arrayContaining(['server lifecycle (starts, stops, restarts, crashes)']));
    expect(unavailable.msg).not.toMatch(/come from (REST )?polling and proxied (REST )?calls$/);
    expect(unavailable.msg).toMatch(/server lifecycle cannot be seen|if the composer serves its REST API/);
  });

  it('with REST: both say lifecycle comes from REST polling and calls', async () => {
    const { unavailable, detected } = await lines('rest');
    expect(detected.sees).toEqual(expect.arrayContaining(['lifecycle from REST calls and poll differences']));
    expect(unavailable.msg).toContain('from REST polling and proxied REST calls');
    expect(unavailable.msg).not.toContain('cannot be seen');
  });
});
