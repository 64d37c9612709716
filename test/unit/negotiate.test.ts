/**
 * Content negotiation of /metrics (pure): OpenMetrics 1.0.0 only when the Accept header weighs it above
 * the 0.0.4 text, by the most specific matching media range; everything else keeps the composer's text.
 */
import { describe, expect, it } from 'vitest';
import { CONTENT_TYPES, MAX_MEDIA_RANGES, negotiateFormat } from '../../src/exporters/negotiate.ts';

/** What Prometheus 2.x sends by default. */
const PROMETHEUS_2 = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
/** What Prometheus 3.x sends by default (escaping parameters, a text 1.0.0 range, protobuf first when native histograms are on). */
const PROMETHEUS_3 =
  'application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';

describe('negotiateFormat', () => {
  it("answers Prometheus's default Accept headers with OpenMetrics 1.0.0", () => {
    expect(negotiateFormat(PROMETHEUS_2)).toBe('openmetrics');
    expect(negotiateFormat(PROMETHEUS_3)).toBe('openmetrics');
    expect(negotiateFormat('application/openmetrics-text; version=1.0.0')).toBe('openmetrics');
    expect(negotiateFormat('application/openmetrics-text')).toBe('openmetrics');
  });

  it('keeps the 0.0.4 text without a header, for */*, for text/plain and for what it does not serve', () => {
    for (const accept of [
      undefined,
      '',
      '   ',
      '*/*',
      'text/plain',
      'text/plain;version=0.0.4',
      'application/json',
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
    ]) {
      expect(negotiateFormat(accept), String(accept)).toBe('text');
    }
  });

  it('keeps the text on a tie, and when the client weighs the text higher', () => {
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0, text/plain;version=0.0.4')).toBe('text');
    expect(negotiateFormat('text/plain;q=1, application/openmetrics-text;q=0.9')).toBe('text');
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.6')).toBe('text');
  });

  it('never serves an OpenMetrics version the client did not ask for, nor one it refused with q=0', () => {
    expect(negotiateFormat('application/openmetrics-text;version=0.0.1')).toBe('text');
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0;q=0')).toBe('text');
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0;q=0, */*')).toBe('text');
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0;q=0.000, application/*;q=0.9')).toBe('text');
  });

  it('lets the most specific range decide, whatever the order', () => {
    expect(negotiateFormat('application/openmetrics-text;q=0.1, text/plain;q=0.5, application/openmetrics-text;version=1.0.0;q=0.9')).toBe('openmetrics');
    expect(negotiateFormat('*/*;q=1, text/plain;q=0.2')).toBe('openmetrics');
    expect(negotiateFormat('application/*;q=0.8, text/*;q=0.7')).toBe('openmetrics');
  });

  it('reads types, parameter names and quoted values the way RFC 9110 allows', () => {
    expect(negotiateFormat('Application/OpenMetrics-Text; Version=1.0.0; charset=UTF-8')).toBe('openmetrics');
    expect(negotiateFormat('application/openmetrics-text; version="1.0.0"; q="0.9", text/plain;q=0.5')).toBe('text');
    expect(negotiateFormat('application/openmetrics-text; version="1.0.0", text/plain;q=0.5')).toBe('openmetrics');
    expect(negotiateFormat('application/openmetrics-text;foo="a,b;c";version=1.0.0, text/plain;q=0.5')).toBe('openmetrics');
  });

  it('ignores malformed ranges rather than failing: bad weights, missing subtypes, garbage', () => {
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0;q=2, text/plain;q=0.5')).toBe('text');
    expect(negotiateFormat('application/openmetrics-text;version=1.0.0;q=abc')).toBe('text');
    expect(negotiateFormat('application, /openmetrics-text, */plain, ;;;, "unterminated')).toBe('text');
    expect(negotiateFormat('\u0000\uffff,,,=,;q=1')).toBe('text');
  });

  it(`reads at most ${MAX_MEDIA_RANGES} ranges of a header (a flood of ranges costs linear time only)`, () => {
    const flood = `${Array.from({ length: 10_000 }, () => 'x/y;q=0.1').join(',')},application/openmetrics-text`;
    expect(negotiateFormat(flood)).toBe('text');
    expect(negotiateFormat(`application/openmetrics-text,${flood}`)).toBe('openmetrics');
  });

  it('names a content type for each format', () => {
    expect(CONTENT_TYPES).toEqual({
      text: 'text/plain; version=0.0.4; charset=utf-8',
      openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
    });
  });
});
