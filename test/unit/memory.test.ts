/**
 * The memory budget (memory.ts) without a process: `--memory-limit` parsing, the cgroup v1 and v2 files'
 * contents, the derivation of V8's heap sizes, and when the CLI starts Node again with them.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import {
  budgetRuntimeFlags,
  cgroupMemoryLimit,
  memoryLimitOf,
  deriveBudget,
  heapFlags,
  MIN_MEMORY_LIMIT_MIB,
  operatorHeapFlags,
  parseCgroupV1Limit,
  parseCgroupV2Max,
  parseMemoryLimit,
  planMemory,
  resolveBudget,
  type ReadFile,
} from '../../src/config/memory.ts';
import { manifestMemory, parseQuantity } from '../../scripts/lib/manifest.ts';

const MiB = 1024 * 1024;
const files =
  (map: Record<string, string>): ReadFile =>
  (path) =>
    map[path];

describe('--memory-limit', () => {
  it("reads Kubernetes binary units, the other flags' units and bytes; auto and none", () => {
    expect(parseMemoryLimit('256Mi')).toEqual({ kind: 'bytes', bytes: 256 * MiB });
    expect(parseMemoryLimit('1Gi')).toEqual({ kind: 'bytes', bytes: 1024 * MiB });
    expect(parseMemoryLimit('512mb')).toEqual({ kind: 'bytes', bytes: 512 * MiB });
    expect(parseMemoryLimit('1.5GiB')).toEqual({ kind: 'bytes', bytes: 1536 * MiB });
    expect(parseMemoryLimit('268435456')).toEqual({ kind: 'bytes', bytes: 256 * MiB });
    expect(parseMemoryLimit(' AUTO ')).toEqual({ kind: 'auto' });
    expect(parseMemoryLimit('none')).toEqual({ kind: 'none' });
  });

  it('refuses decimal Kubernetes units (256M is not 256 MiB), garbage and zero', () => {
    for (const bad of ['256M', '1G', '256m', 'lots', '', '0', '-1Mi']) expect(() => parseMemoryLimit(bad), bad).toThrow();
  });

  it('is auto by default; the flag and SIDECAR_MEMORY_LIMIT set it', () => {
    expect(loadConfig(['--no-metrics-auth'], {}).memoryLimit).toEqual({ kind: 'auto' });
    expect(loadConfig(['--no-metrics-auth'], { SIDECAR_MEMORY_LIMIT: '512Mi' }).memoryLimit).toEqual({ kind: 'bytes', bytes: 512 * MiB });
    expect(loadConfig(['--no-metrics-auth', '--memory-limit', 'none'], { SIDECAR_MEMORY_LIMIT: '512Mi' }).memoryLimit).toEqual({ kind: 'none' });
    expect(() => loadConfig(['--no-metrics-auth', '--memory-limit', '256M'], {})).toThrow(/--memory-limit/);
  });
});

describe('cgroup files', () => {
  it('v2 memory.max: bytes, or no limit for "max"', () => {
    expect(parseCgroupV2Max('268435456\n')).toBe(256 * MiB);
    expect(parseCgroupV2Max('max\n')).toBeUndefined();
    expect(parseCgroupV2Max('')).toBeUndefined();
  });

  it('v1 memory.limit_in_bytes: bytes, or no limit for its "unlimited" near 2^63', () => {
    expect(parseCgroupV1Limit('268435456\n')).toBe(256 * MiB);
    expect(parseCgroupV1Limit('9223372036854771712\n')).toBeUndefined();
    expect(parseCgroupV1Limit('junk')).toBeUndefined();
  });

  it('a container under cgroup v2 (cgroup namespace: its own cgroup is the mount root)', () => {
    const read = files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/memory.max': '268435456\n' });
    expect(cgroupMemoryLimit(read)).toEqual({ bytes: 256 * MiB, source: '/sys/fs/cgroup/memory.max' });
  });

  it("cgroup v2 without a namespace: the process's own cgroup first", () => {
    const read = files({
      '/proc/self/cgroup': '0::/kubepods/pod1/ctr\n',
      '/sys/fs/cgroup/kubepods/pod1/ctr/memory.max': '536870912',
      '/sys/fs/cgroup/memory.max': 'max',
    });
    expect(cgroupMemoryLimit(read)).toEqual({ bytes: 512 * MiB, source: '/sys/fs/cgroup/kubepods/pod1/ctr/memory.max' });
  });

  it('"max" means no limit, and so does no cgroup file at all', () => {
    expect(cgroupMemoryLimit(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/memory.max': 'max\n' }))).toBeUndefined();
    expect(cgroupMemoryLimit(files({}))).toBeUndefined();
  });

  it('cgroup v1: the memory controller\'s file, nested or at the mount root; its "unlimited" is none', () => {
    const self = '12:cpu,cpuacct:/x\n4:memory:/docker/abc\n0::/\n';
    expect(cgroupMemoryLimit(files({ '/proc/self/cgroup': self, '/sys/fs/cgroup/memory/memory.limit_in_bytes': '402653184\n' }))).toEqual({
      bytes: 384 * MiB,
      source: '/sys/fs/cgroup/memory/memory.limit_in_bytes',
    });
    expect(cgroupMemoryLimit(files({ '/proc/self/cgroup': self, '/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes': '268435456' }))).toEqual({
      bytes: 256 * MiB,
      source: '/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes',
    });
    expect(cgroupMemoryLimit(files({ '/proc/self/cgroup': self, '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712' }))).toBeUndefined();
  });

  it('a path that climbs out of the hierarchy is ignored', () => {
    expect(cgroupMemoryLimit(files({ '/proc/self/cgroup': '0::/../../etc\n', '/sys/fs/cgroup/../../etc/memory.max': '1' }))).toBeUndefined();
  });
});

describe('the budget', () => {
  it('gives V8 60 % of the limit: semi-space limit/16 (a power of two, 1–32 MiB), the old space the rest', () => {
    expect(deriveBudget(256 * MiB, 'x')).toMatchObject({ semiSpaceMiB: 16, heapLimitMiB: 153, oldSpaceMiB: 105 });
    expect(deriveBudget(384 * MiB, 'x')).toMatchObject({ semiSpaceMiB: 16, heapLimitMiB: 230, oldSpaceMiB: 182 });
    expect(deriveBudget(512 * MiB, 'x')).toMatchObject({ semiSpaceMiB: 32, heapLimitMiB: 307, oldSpaceMiB: 211 });
    expect(deriveBudget(8192 * MiB, 'x')).toMatchObject({ semiSpaceMiB: 32, heapLimitMiB: 4915, oldSpaceMiB: 4819 });
    expect(deriveBudget(MIN_MEMORY_LIMIT_MIB * MiB, 'x')).toMatchObject({ semiSpaceMiB: 8, oldSpaceMiB: 72 });
    expect(heapFlags(deriveBudget(256 * MiB, 'x'))).toEqual(['--max-old-space-size=105', '--max-semi-space-size=16']);
  });

  it("sets the growing factor 2 at run time only where the budget's heap flags are in effect", () => {
    const b = deriveBudget(256 * MiB, 'x');
    expect(budgetRuntimeFlags({ action: 'applied', budget: b, flags: heapFlags(b) })).toEqual(['--heap-growing-percent=100']);
    for (const plan of [
      { action: 'none' as const },
      { action: 'restart' as const, budget: b, flags: heapFlags(b) },
      { action: 'operator' as const, budget: b, flags: ['--max-old-space-size=1'] },
    ]) {
      expect(budgetRuntimeFlags(plan), plan.action).toEqual([]);
    }
  });

  it('a limit too small for the sidecar is an error that says the minimum', () => {
    expect(() => deriveBudget(128 * MiB, '--memory-limit')).toThrow(/at least 160 MiB/);
    expect(() => resolveBudget({ kind: 'auto' }, files({ '/sys/fs/cgroup/memory.max': String(64 * MiB) }))).toThrow(
      /64 MiB \(\/sys\/fs\/cgroup\/memory.max\) is too small/,
    );
  });

  it('an explicit --memory-limit wins over the cgroup; none ignores it; auto takes it', () => {
    const read = files({ '/sys/fs/cgroup/memory.max': String(256 * MiB) });
    expect(resolveBudget({ kind: 'bytes', bytes: 1024 * MiB }, read)).toMatchObject({ limitBytes: 1024 * MiB, source: '--memory-limit' });
    expect(resolveBudget({ kind: 'none' }, read)).toBeUndefined();
    expect(resolveBudget({ kind: 'auto' }, read)).toMatchObject({ limitBytes: 256 * MiB, source: '/sys/fs/cgroup/memory.max' });
    expect(resolveBudget({ kind: 'auto' }, files({}))).toBeUndefined();
  });
});

describe('starting Node with the heap flags', () => {
  const budget = deriveBudget(256 * MiB, 'x');

  it('restarts once: not when the flags are in effect (the marker is set), whatever else', () => {
    expect(planMemory(budget, [], undefined, undefined)).toMatchObject({ action: 'restart', flags: ['--max-old-space-size=105', '--max-semi-space-size=16'] });
    expect(planMemory(budget, [], undefined, '--max-old-space-size=105 --max-semi-space-size=16')).toMatchObject({ action: 'applied' });
    expect(planMemory(budget, ['--max-old-space-size=1'], undefined, 'anything')).toMatchObject({ action: 'applied' });
  });

  it('keeps heap flags the operator gave on the command line or in NODE_OPTIONS', () => {
    expect(planMemory(budget, ['--expose-gc', '--max-old-space-size=300'], undefined, undefined)).toEqual({
      action: 'operator',
      budget,
      flags: ['--max-old-space-size=300'],
    });
    expect(planMemory(budget, [], '--enable-source-maps --max_semi_space_size=2', undefined)).toMatchObject({
      action: 'operator',
      flags: ['--max_semi_space_size=2'],
    });
    expect(operatorHeapFlags([], '--max-old-space-size-percentage=50%')).toEqual(['--max-old-space-size-percentage=50%']);
    expect(operatorHeapFlags(['--max-http-header-size=1'], '--stack-size=1')).toEqual([]);
  });

  it('does nothing without a budget', () => {
    expect(planMemory(undefined, [], undefined, undefined)).toEqual({ action: 'none' });
  });
});

describe("the manifest's memory", () => {
  it('parses Kubernetes quantities', () => {
    expect(parseQuantity('256Mi')).toBe(256 * MiB);
    expect(parseQuantity('1G')).toBe(1e9);
    expect(parseQuantity('134217728')).toBe(128 * MiB);
    expect(() => parseQuantity('lots')).toThrow();
  });

  it("reads the sidecar container's request and limit from the base Deployment", () => {
    const m = manifestMemory();
    expect(m.limitBytes).toBe(parseQuantity(m.limit));
    expect(m.requestBytes).toBeLessThanOrEqual(m.limitBytes);
    // The sidecar must be able to start under its own limit (otherwise it exits 2 in a crash loop).
    expect(() => deriveBudget(m.limitBytes, 'manifest')).not.toThrow();
  });
});

describe('the limit the memory gauge reports', () => {
  it("is the given size, the cgroup's for auto, and none for none or an unlimited cgroup — never an error, even for a limit too small for a budget", () => {
    const limited = files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/memory.max': '134217728\n' });
    expect(memoryLimitOf({ kind: 'bytes', bytes: 100 * MiB }, limited)).toEqual({ bytes: 100 * MiB, source: '--memory-limit' });
    expect(memoryLimitOf({ kind: 'auto' }, limited)).toEqual({ bytes: 128 * MiB, source: '/sys/fs/cgroup/memory.max' });
    expect(memoryLimitOf({ kind: 'none' }, limited)).toBeUndefined();
    expect(memoryLimitOf({ kind: 'auto' }, files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/memory.max': 'max\n' }))).toBeUndefined();
  });
});
