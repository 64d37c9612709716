/**
 * JSON-lines logging (pino) on stdout. Headers that carry credentials are redacted wherever they appear,
 * as a second line of defence: the code never passes a token, a query string or tool arguments to a log
 * call in the first place.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Paths pino replaces with `[redacted]`. */
export const REDACT_PATHS = [
  'authorization',
  'cookie',
  'token',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'headers["proxy-authorization"]',
  '*.authorization',
  '*.token',
];

export interface LoggerOptions {
  readonly level: string;
  /** Where lines go. @default stdout, asynchronously (flushed on exit) */
  readonly destination?: DestinationStream;
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
