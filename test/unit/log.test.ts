import { Writable } from 'node:stream';
import { context, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, scrubUrls } from '../../src/log.ts';

function capture(traceContext: boolean) {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      raw.push(chunk.toString('utf8'));
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ level: 'debug', destination, traceContext }), lines, raw };
}

afterEach(() => {
  context.disable();
});

const spanContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED };

describe('log lines', () => {
  it('carry trace_id and span_id when written inside a span, and nothing outside one', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const { logger, lines } = capture(true);
    logger.info({ event: 'outside' }, 'outside');
    context.with(trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext(spanContext)), () => logger.info({ event: 'inside' }, 'inside'));
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[1]).toMatchObject({ event: 'inside', trace_id: spanContext.traceId, span_id: spanContext.spanId, trace_flags: '01' });
  });

  it('do not look for a span at all unless tracing is on', () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const { logger, lines } = capture(false);
    context.with(trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext(spanContext)), () => logger.info('inside'));
    expect(lines[0]).not.toHaveProperty('trace_id');
  });

  it('redact credentials wherever a careless call puts them', () => {
    const { logger, raw } = capture(false);
    logger.info({ headers: { authorization: 'Bearer S1', 'x-api-key': 'S2', cookie: 'S3', 'proxy-authorization': 'S4' } }, 'a');
    logger.info({ req: { headers: { authorization: 'Bearer S5', 'x-api-key': 'S6' } } }, 'b');
    logger.info({ password: 'S7', token: 'S8', apiKey: 'S9', api_key: 'S10', secret: 'S11', otlp: { credentials: 'S12', password: 'S13' } }, 'c');
    const text = raw.join('');
    for (let i = 1; i <= 13; i++) expect(text).not.toMatch(new RegExp(`"S${i}"`));
    expect(text).toContain('[redacted]');
  });

  it('scrubUrls removes URL credentials and query strings from free text', () => {
    expect(scrubUrls('failed: POST https://user:pw@collector:4318/v1/traces?api_key=x (timeout)')).toBe(
      'failed: POST https://collector:4318/v1/traces (timeout)',
    );
  });
});
