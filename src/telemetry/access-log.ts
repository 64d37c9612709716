/**
 * The optional access log (`--access-log`): one JSON line per finished exchange with the route template,
 * never the raw path or query string (they can carry tokens and ids). When tracing is on, the line carries
 * the exchange's `trace_id` and `span_id`.
 */
import type { SpanContext } from '@opentelemetry/api';
import { normalizeEndpoint } from '../ledger/endpoint.ts';
import type { ObserverHandle, ObserverRegistry } from '../observe/bus.ts';
import type { Exchange } from '../observe/exchange.ts';
import { traceFields, type Logger } from '../log.ts';
import { CLIENT_CLOSED_STATUS } from './http-metrics.ts';

/**
 * Registers the access log on the observation bus as `access_log`.
 * @param spanContextOf the span of an exchange, when tracing is on. @default none
 */
export function registerAccessLog(bus: ObserverRegistry<never>, logger: Logger, spanContextOf?: (ex: Exchange) => SpanContext | undefined): ObserverHandle {
  const onEnd = (ex: Exchange): void => {
    const sc = spanContextOf?.(ex);
    logger.info(
      {
        event: 'access',
        method: ex.method,
        endpoint: normalizeEndpoint(ex.url),
        status: ex.outcome === 'client_abort' ? Number(CLIENT_CLOSED_STATUS) : ex.status,
        outcome: ex.outcome,
        durationMs: Math.round((ex.endTime - ex.startTime) * 1000) / 1000,
        requestBytes: ex.requestBytes,
        responseBytes: ex.responseBytes,
        ...(ex.stream !== undefined ? { stream: ex.stream } : {}),
        ...(sc !== undefined ? traceFields(sc) : {}),
      },
      'request',
    );
  };
  return bus.register('access_log', { onEnd });
}
