/**
 * JSON-lines logging (pino) on stdout. Headers and fields that carry credentials are redacted wherever
 * they appear, as a second line of defence: the code never passes a token, a query string or tool
 * arguments to a log call in the first place (endpoints are logged without credentials or query, errors by
 * their code, requests by their route template).
 *
 * Trace correlation: with `traceContext`, a line written inside an active span (`context.with(…)`) gets
 * `trace_id`, `span_id` and `trace_flags` (the OpenTelemetry log data model's names); lines about one
 * exchange (the access log) set them explicitly from that exchange's span ({@link traceFields}).
 */
import { context, trace, type SpanContext } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Paths pino replaces with `[redacted]`. */
export const REDACT_PATHS = [
  'authorization',
  'cookie',
  'token',
  'password',
  'secret',
  'apiKey',
  'api_key',
  'credentials',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["x-api-key"]',
  'headers["proxy-authorization"]',
  '*.authorization',
  '*.cookie',
  '*.token',
  '*.password',
  '*.secret',
  '*.apiKey',
  '*.api_key',
  '*.credentials',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-api-key"]',
  '*.headers["proxy-authorization"]',
];

export interface LoggerOptions {
  readonly level: string;
  /** Where lines go. @default stdout, asynchronously (flushed on exit) */
  readonly destination?: DestinationStream;
  /** Add the active span's ids to every line written inside a span (set when tracing is on). @default false */
  readonly traceContext?: boolean;
}

/** The log fields that tie a line to a span. */
export function traceFields(sc: SpanContext): { trace_id: string; span_id: string; trace_flags: string } {
  return { trace_id: sc.traceId, span_id: sc.spanId, trace_flags: sc.traceFlags < 16 ? `0${sc.traceFlags.toString(16)}` : sc.traceFlags.toString(16) };
}

function activeSpanFields(): object {
  const sc = trace.getSpanContext(context.active());
  return sc === undefined ? {} : traceFields(sc);
}

/** `text` without the credentials (`user:pass@`) and query strings of the URLs in it. */
export function scrubUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1').replace(/\?[^\s'"]*/g, '');
}

const destinations = new WeakMap<Logger, DestinationStream & { flushSync?: () => void }>();

export function createLogger(opts: LoggerOptions): Logger {
  const destination = opts.destination ?? pino.destination({ dest: 1, sync: false });
  const logger = pino(
    {
      level: opts.level,
      base: { service: 'mcp-composer-sidecar', pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      ...(opts.traceContext === true ? { mixin: activeSpanFields } : {}),
    },
    destination,
  );
  destinations.set(logger, destination);
  return logger;
}

/** Writes out what an asynchronous destination still holds (call before exiting). */
export function flushLogger(logger: Logger): void {
  try {
    destinations.get(logger)?.flushSync?.();
  } catch {
    // A closed stdout must not turn an orderly exit into a crash.
  }
}
