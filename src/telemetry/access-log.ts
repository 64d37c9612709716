/**
 * The optional access log (`--access-log`): one JSON line per finished exchange with the route template,
 * never the raw path or query string (they can carry tokens and ids).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { normalizeEndpoint } from '../ledger/endpoint.ts';
import { CHANNEL_PREFIX, type Exchange } from '../proxy/exchange.ts';
import type { Logger } from '../log.ts';
import { CLIENT_CLOSED_STATUS } from './http-metrics.ts';

export function subscribeAccessLog(logger: Logger): () => void {
  const onEnd = (msg: unknown): void => {
    const ex = msg as Exchange;
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
      },
      'request',
    );
  };
  subscribe(`${CHANNEL_PREFIX}:end`, onEnd);
  return () => unsubscribe(`${CHANNEL_PREFIX}:end`, onEnd);
}
