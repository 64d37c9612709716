/**
 * The memory budget on a real process: `--memory-limit` makes the CLI start Node once more (same PID) with
 * the heap flags, and V8's `heap_size_limit` in the started process — printed in the `memory_budget` log
 * line — is the one the budget derives. A limit too small exits 2; an operator's own heap flags are kept.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { scrape, value } from '../fixtures/scrape.ts';
import { LOCAL_PORTS, spawnSidecar, type SpawnedSidecar } from '../fixtures/sidecar.ts';
import { startUpstream, type TestUpstream } from '../fixtures/upstream.ts';

const BIN = fileURLToPath(new URL('../../bin/mcp-composer-sidecar.js', import.meta.url));
const LOCAL = [...LOCAL_PORTS, '--no-metrics-auth', '--log-level', 'debug'];

let running: SpawnedSidecar | undefined;
let upstream: TestUpstream | undefined;
afterEach(async () => {
  await running?.stop();
  await upstream?.close();
  running = undefined;
  upstream = undefined;
});

function budgetLine(s: SpawnedSidecar): Record<string, unknown> {
  const lines = s.stdout.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l['event'] === 'memory_budget');
  expect(lines).toHaveLength(1);
  return lines[0] as Record<string, unknown>;
}

describe('--memory-limit on the started process', () => {
  for (const [entry, path] of [
    ['src/cli.ts', undefined],
    ['the bin entry', BIN],
  ] as const) {
    it(`a 256Mi limit gives V8 a heap_size_limit of 153 MiB (old 105 + 3 × 16 semi-space) in the same process (${entry})`, async () => {
      upstream = await startUpstream((_req, res) => res.end('ok'));
      running = await spawnSidecar(['--upstream', upstream.url, ...LOCAL, '--memory-limit', '256Mi'], {}, true, path);
      const line = budgetLine(running);
      expect(line).toMatchObject({
        limit: '256 MiB',
        source: '--memory-limit',
        oldSpaceMiB: 105,
        semiSpaceMiB: 16,
        heapLimitMiB: 153,
        heapSizeLimitMiB: 153,
        flags: ['--max-old-space-size=105', '--max-semi-space-size=16'],
        runtimeFlags: ['--heap-growing-percent=100'],
      });
      // Replaced, not forked: the PID the container runtime signals is the sidecar's.
      expect(line['pid']).toBe(running.child.pid);
      expect(await (await fetch(`${running.proxyUrl}/x`)).text()).toBe('ok');
      expect(await running.stop()).toBe(0);
    });
  }

  it('SIDECAR_MEMORY_LIMIT sets it too', async () => {
    running = await spawnSidecar([...LOCAL], { SIDECAR_MEMORY_LIMIT: '1Gi' });
    expect(budgetLine(running)).toMatchObject({ limit: '1 GiB', oldSpaceMiB: 518, semiSpaceMiB: 32, heapSizeLimitMiB: 614 });
  });

  it('a limit too small for the sidecar exits 2 with the minimum, before listening', async () => {
    const s = await spawnSidecar([...LOCAL, '--memory-limit', '100Mi'], {}, false);
    expect(await s.exited).toBe(2);
    expect(s.stderr.join('')).toMatch(
      /^mcp-composer-sidecar: SIDECAR_E_CONFIG: --memory-limit \/ SIDECAR_MEMORY_LIMIT: 100 MiB \(--memory-limit\) is too small for the sidecar: it needs at least 160 MiB/,
    );
    expect(s.stdout.some((l) => l.includes('"listening"'))).toBe(false);
  });

  it('heap flags the operator gave in NODE_OPTIONS are kept (and said so), not overridden', async () => {
    running = await spawnSidecar([...LOCAL, '--memory-limit', '256Mi'], { NODE_OPTIONS: '--max-old-space-size=200 --max-semi-space-size=2' });
    const line = budgetLine(running);
    expect(line).toMatchObject({ flags: ['--max-old-space-size=200', '--max-semi-space-size=2'], runtimeFlags: [], heapSizeLimitMiB: 206 });
    expect(String(line['msg'])).toMatch(/heap flags set by the operator .* are kept/);
  });

  it("--memory-limit none leaves V8's defaults (a debug line says so)", async () => {
    running = await spawnSidecar([...LOCAL, '--memory-limit', 'none']);
    expect(budgetLine(running)).toMatchObject({ level: 'debug', limit: 'none' });
  });

  it('exports its resident memory, heap and the limit it sized the heap from, so an alert sees it near the limit', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    running = await spawnSidecar(['--upstream', upstream.url, ...LOCAL, '--memory-limit', '256Mi']);
    const families = await scrape(running.metricsUrl);
    expect(value(families, 'sidecar_memory_limit_bytes')).toBe(256 * 1024 * 1024);
    const rss = value(families, 'sidecar_memory_resident_bytes');
    const heap = value(families, 'sidecar_memory_heap_used_bytes');
    expect(heap).toBeGreaterThan(1024 * 1024);
    expect(rss).toBeGreaterThan(heap);
    expect(rss).toBeLessThan(256 * 1024 * 1024);
    expect(families.get('sidecar_memory_resident_bytes')?.type).toBe('GAUGE');
  });

  it('without a limit (--memory-limit none) the limit gauge is absent, the others are not', async () => {
    upstream = await startUpstream((_req, res) => res.end('ok'));
    running = await spawnSidecar(['--upstream', upstream.url, ...LOCAL, '--memory-limit', 'none']);
    const families = await scrape(running.metricsUrl);
    expect(families.has('sidecar_memory_limit_bytes')).toBe(false);
    expect(value(families, 'sidecar_memory_resident_bytes')).toBeGreaterThan(0);
    expect(value(families, 'sidecar_memory_heap_used_bytes')).toBeGreaterThan(0);
  });
});
