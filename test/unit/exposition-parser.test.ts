import { describe, expect, it } from 'vitest';
import { ExpositionError, parseSampleLine, parseText } from '../fixtures/exposition.ts';

describe('the test exposition parser', () => {
  it('reads escapes, infinities and timestamps as the Prometheus Python client does', () => {
    expect(parseSampleLine('msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9')).toEqual({
      name: 'msdos_file_access_time_seconds',
      labels: { path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' },
      value: 1.458255915e9,
    });
    expect(parseSampleLine('something_weird{problem="division by zero"} +Inf -3982045').value).toBe(Infinity);
  });

  it('groups histogram samples under their family', () => {
    const fams = parseText('# HELP h x\n# TYPE h histogram\nh_bucket{le="1.0"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n# TYPE g gauge\ng 1\n');
    expect(fams.map((f) => [f.name, f.type, f.samples.length])).toEqual([
      ['h', 'histogram', 4],
      ['g', 'gauge', 1],
    ]);
  });

  it('rejects malformed lines', () => {
    for (const bad of ['1abc 3', 'a{b="c} 1', 'a{b=c} 1', 'a nope', 'a{b="\\x"} 1']) expect(() => parseText(bad)).toThrow(ExpositionError);
  });
});
