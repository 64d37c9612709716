/**
 * The test observer behind `--test-observer-fault throw` (`SIDECAR_TEST_OBSERVER_FAULT=throw`, off by
 * default): an observer that throws from every hook the bus has — exchange start, response, end, proxy
 * errors, MCP operation start and end — and from a tap it attaches to every exchange (each request and
 * response body chunk, the response start, the end). It lets anyone check on a real process that an
 * observer's failures never reach a client: bodies byte-identical, streams unbuffered, the process up,
 * every failure counted in `sidecar_observer_errors_total{observer="test_fault"}`, the other observers'
 * counts exact — until the bus detaches it after `OBSERVER_FAILURE_LIMIT` failures, as it would any
 * observer (docs/security.md). It is registered first, so every other observer runs after a throw.
 */
import { ErrorCodes, SidecarError } from '../errors.ts';
import type { Hook, ObserverHandle, ObserverRegistry } from './bus.ts';
import type { Exchange, ExchangeTap } from './exchange.ts';

/** Its `observer` label value. */
export const FAULT_OBSERVER = 'test_fault';

function fault(hook: Hook): never {
  throw new SidecarError(ErrorCodes.SIDECAR_E_TEST_FAULT, `test observer fault (${hook})`);
}

/** One stateless tap, shared by every exchange. */
const faultTap: ExchangeTap = {
  onRequestBody: () => fault('tap.request_body'),
  onResponseStart: () => fault('tap.response_start'),
  onResponseBody: () => fault('tap.response_body'),
  onEnd: () => fault('tap.end'),
};

/** Registers the throwing observer on `bus`. */
export function registerFaultObserver<Op>(bus: ObserverRegistry<Op>): ObserverHandle {
  const handle: ObserverHandle = bus.register(FAULT_OBSERVER, {
    onStart(ex: Exchange) {
      handle.addTap(ex, faultTap);
      fault('start');
    },
    onResponse: () => fault('response'),
    onEnd: () => fault('end'),
    onError: () => fault('error'),
    onOperationStart: () => fault('operation_start'),
    onOperationEnd: () => fault('operation_end'),
  });
  return handle;
}
