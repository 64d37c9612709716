/**
 * Logs rejected /metrics requests without flooding: the first failure from a quiet period is logged at
 * once, later ones are summed and logged at most once per interval. The presented token is never seen
 * here, let alone logged.
 */
import type { Logger } from '../log.ts';
import type { AuthFailureReason } from './server.ts';

const WHY: Record<AuthFailureReason, string> = {
  missing: 'no bearer token',
  invalid: 'wrong bearer token',
  ambiguous: 'more than one Authorization header',
  client_certificate: 'no trusted client certificate',
};

export class AuthFailureLog {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  #lastLogged = -Infinity;
  #suppressed = 0;
  #lastAddress: string | undefined;

  /** @param intervalMs shortest time between two log lines. @default 60s */
  constructor(logger: Logger, intervalMs = 60_000) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  record(remoteAddress: string | undefined, reason: AuthFailureReason): void {
    const now = Date.now();
    this.#lastAddress = remoteAddress;
    if (now - this.#lastLogged < this.#intervalMs) {
      this.#suppressed++;
      return;
    }
    this.#lastLogged = now;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    this.#logger.warn(
      { event: 'metrics_auth_failed', remoteAddress, reason, suppressedSinceLastLine: suppressed },
      `rejected a /metrics request (${WHY[reason]})`,
    );
  }

  /** Logs the failures not yet reported. */
  flush(): void {
    if (this.#suppressed === 0) return;
    this.#logger.warn(
      { event: 'metrics_auth_failed', remoteAddress: this.#lastAddress, suppressedSinceLastLine: this.#suppressed },
      'rejected /metrics requests',
    );
    this.#suppressed = 0;
  }
}
