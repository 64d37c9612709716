/**
 * The label bound as a state machine (no sockets): known values stay out of the race for
 * `--max-label-values`, unknown values can neither evict nor starve them, values too long are folded and
 * counted apart, and a client's own `__other__` is never read as the overflow.
 */
import type { Attributes, Counter } from '@opentelemetry/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KnownNames } from '../../src/ledger/known-names.ts';
import { BoundedLabel, escapeOverflow, KnownValues } from '../../src/telemetry/instruments.ts';

function recorder() {
  const added: Attributes[] = [];
  const counter: Counter = { add: (_n: number, attrs?: Attributes) => void added.push(attrs ?? {}) };
  return { added, counter };
}

function knowing(values: readonly string[]): KnownValues {
  const known = new KnownValues();
  known.add(new Set(values));
  return known;
}

describe('a bounded label with known values', () => {
  it('junk values that fill the bound first cannot push a known value into __other__', () => {
    const { added, counter } = recorder();
    const label = new BoundedLabel('mcp_http_requests_total', 'endpoint', 3, counter, knowing(['/api/v1/health', '/api/v1/tools']));
    expect(['/junka', '/junkb', '/junkc', '/junkd'].map((v) => label.value(v))).toEqual(['/junka', '/junkb', '/junkc', '__other__']);
    expect(label.value('/api/v1/health')).toBe('/api/v1/health');
    expect(label.value('/api/v1/tools')).toBe('/api/v1/tools');
    expect(label.value('/junke')).toBe('__other__');
    expect(added).toEqual([
      { family: 'mcp_http_requests_total', label: 'endpoint', reason: 'limit' },
      { family: 'mcp_http_requests_total', label: 'endpoint', reason: 'limit' },
    ]);
  });

  it('known values seen first never use up the budget of unknown ones', () => {
    const { counter } = recorder();
    const label = new BoundedLabel('f', 'tool_id', 2, counter, knowing(['k1', 'k2', 'k3']));
    for (const v of ['k1', 'k2', 'k3']) expect(label.value(v)).toBe(v);
    expect(['u1', 'u2', 'u3'].map((v) => label.value(v))).toEqual(['u1', 'u2', '__other__']);
    expect(label.size).toBe(5);
  });

  it('a value the inventory learns after the bound is full passes from then on', () => {
    const { counter } = recorder();
    const names = new KnownNames(10);
    const known = new KnownValues();
    known.add({ has: (v) => names.has('tools', v) });
    const label = new BoundedLabel('f', 'tool_id', 1, counter, known);
    expect(label.value('junk')).toBe('junk');
    expect(label.value('calc_add')).toBe('__other__');
    names.add('tools', ['calc_add']);
    expect(label.value('calc_add')).toBe('calc_add');
  });

  it('folds a value longer than the label allows, counted as too_long and never admitted', () => {
    const { added, counter } = recorder();
    const label = new BoundedLabel('f', 'tool_id', 10, counter, knowing([]), 256);
    expect(label.value('t'.repeat(257))).toBe('__other__');
    expect(label.value('t'.repeat(256))).toBe('t'.repeat(256));
    expect(added).toEqual([{ family: 'f', label: 'tool_id', reason: 'too_long' }]);
    expect(label.size).toBe(1);
  });

  it('a tool a client names __other__ is recorded as ___other__, told apart from the overflow, and not counted as one', () => {
    const { added, counter } = recorder();
    const label = new BoundedLabel('f', 'tool_id', 1, counter);
    expect(label.value('__other__')).toBe('___other__');
    expect(label.value('x')).toBe('__other__');
    expect(added).toEqual([{ family: 'f', label: 'tool_id', reason: 'limit' }]);
  });

  it('escapes no two values alike, and only the reserved spellings', () => {
    expect(escapeOverflow('__other__')).toBe('___other__');
    expect(escapeOverflow('___other__')).toBe('____other__');
    for (const v of ['other', '_other__', '__other_', 'x__other__', '__other__x', '']) expect(escapeOverflow(v)).toBe(v);
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('_', 'o', 't', 'h', 'e', 'r', 'x') }),
        fc.string({ unit: fc.constantFrom('_', 'o', 't', 'h', 'e', 'r', 'x') }),
        (a, b) => {
          expect(escapeOverflow(a)).not.toBe('__other__');
          if (a !== b) expect(escapeOverflow(a)).not.toBe(escapeOverflow(b));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('for any order of known and unknown values, every known value passes and at most max unknown ones do', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constantFrom('k0', 'k1', 'k2'),
            fc.string({ maxLength: 4 }).map((s) => `u${s}`),
          ),
          { maxLength: 200 },
        ),
        fc.integer({ min: 1, max: 5 }),
        (values, max) => {
          const { counter } = recorder();
          const label = new BoundedLabel('f', 'l', max, counter, knowing(['k0', 'k1', 'k2']));
          const passed = new Set<string>();
          for (const v of values) {
            const r = label.value(v);
            if (v.startsWith('k')) expect(r).toBe(v);
            if (r !== '__other__') passed.add(r);
          }
          expect([...passed].filter((v) => v.startsWith('u')).length).toBeLessThanOrEqual(max);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('the names the inventory knows', () => {
  it('are kept once each, bounded per kind and in length, and told to listeners (those known before subscribing too)', () => {
    const names = new KnownNames(3);
    names.add('tools', ['a', 'b', 'a', '', 'x'.repeat(257)]);
    const told: string[] = [];
    names.subscribe((kind, name) => told.push(`${kind}:${name}`));
    names.add('tools', ['c', 'd', 'e']);
    names.add('servers', ['s'.repeat(128), 's'.repeat(129)]);
    expect([...names.names('tools')]).toEqual(['a', 'b', 'c']);
    expect(names.has('tools', 'd')).toBe(false);
    expect(told).toEqual(['tools:a', 'tools:b', 'tools:c', `servers:${'s'.repeat(128)}`]);
  });
});
