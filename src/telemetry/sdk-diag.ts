/**
 * `OTEL_LOG_LEVEL`: the OpenTelemetry SDK's own diagnostics (`diag`), written as JSON lines through the
 * sidecar's logger with `event: "otel_sdk"`. Off by default: export failures are already reported by
 * exporters/export-health.ts without flooding, while the SDK would log every failed attempt. Messages are
 * stripped of URL credentials and query strings, and extra arguments are reduced to error codes, since
 * the SDK may print endpoints and payloads; objects (payloads) are left out.
 */
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import type { SdkLogLevel } from '../config/otel-env.ts';
import { scrubUrls, type Logger } from '../log.ts';

const LEVELS: Record<Exclude<SdkLogLevel, 'none'>, DiagLogLevel> = {
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

function fields(args: unknown[]): Record<string, unknown> {
  const errors = args
    .filter((a) => a instanceof Error)
    .map((e) => {
      const code = (e as { code?: unknown }).code;
      return typeof code === 'string' || typeof code === 'number' ? String(code) : scrubUrls(e.message).slice(0, 120);
    });
  return errors.length === 0 ? { event: 'otel_sdk' } : { event: 'otel_sdk', errors };
}

/** The message and the string arguments (component loggers pass their namespace first), scrubbed and capped. */
function text(message: string, args: unknown[]): string {
  let out = message;
  for (const a of args) if (typeof a === 'string') out += ` ${a}`;
  return scrubUrls(out).slice(0, 500);
}

/** Routes `diag` to `logger` at `level`; returns the function that undoes it. */
export function installSdkDiagnostics(logger: Logger, level: SdkLogLevel): () => void {
  if (level === 'none') return () => undefined;
  const sink: DiagLogger = {
    error: (message, ...args) => logger.error(fields(args), text(message, args)),
    warn: (message, ...args) => logger.warn(fields(args), text(message, args)),
    info: (message, ...args) => logger.info(fields(args), text(message, args)),
    debug: (message, ...args) => logger.debug(fields(args), text(message, args)),
    verbose: (message, ...args) => logger.trace(fields(args), text(message, args)),
  };
  diag.setLogger(sink, { logLevel: LEVELS[level], suppressOverrideMessage: true });
  return () => diag.disable();
}
