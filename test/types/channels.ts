// Checked by `npm run typecheck`, never run: each public channel publishes only its own message type.
import { exchangeChannels, operationChannels } from '../../src/observe/channels.ts';
import { Exchange } from '../../src/observe/exchange.ts';

export function publishesOnlyItsType(): void {
  exchangeChannels.start.publish(new Exchange('GET', '/', {}, 0));
  exchangeChannels.error.publish({ kind: 'upstream_timeout', code: undefined });
  // @ts-expect-error -- an exchange channel carries exchanges.
  exchangeChannels.end.publish({ method: 'GET', url: '/' });
  // @ts-expect-error -- not a proxy error kind.
  exchangeChannels.error.publish({ kind: 'upstream_down', code: undefined });
  const ops = operationChannels<{ readonly method: string }>();
  ops.operationStart.publish({ method: 'tools/call' });
  // @ts-expect-error -- the bus's operation type.
  ops.operationEnd.publish({ name: 'tools/call' });
  exchangeChannels.start.subscribe((ex) => void ex.taps);
  // @ts-expect-error -- a listener of exchanges gets an Exchange, not an error event.
  exchangeChannels.start.subscribe((e: { kind: string }) => void e.kind);
}
