/**
 * The 0.0.4 text is the composer's format and stays byte-identical: the fixed data of golden-metrics.ts,
 * serialised now, equals the text the serializer wrote for it before OpenMetrics negotiation existed
 * (test/fixtures/golden/exposition-0.0.4.txt, committed with that serializer).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serializePrometheus } from '../../src/exporters/prometheus-serializer.ts';
import { collectGolden, GOLDEN_0_0_4 } from '../fixtures/golden-metrics.ts';

describe('the 0.0.4 exposition of a fixed data set', () => {
  it('is byte-identical to the text written before OpenMetrics negotiation existed', async () => {
    const { text, conflicts } = serializePrometheus(await collectGolden());
    expect(conflicts).toEqual([]);
    expect(text).toBe(readFileSync(GOLDEN_0_0_4, 'utf8'));
  });
});
