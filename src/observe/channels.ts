/**
 * The diagnostics channels the sidecar publishes on or reads, each with the type of its messages.
 *
 * The public channels are an external contract (e.g. for a debugging subscriber): the observation bus
 * (bus.ts) publishes each step of each exchange on `${CHANNEL_PREFIX}:start|response|end|error` and each
 * MCP operation (the contract of sources/mcp/operations.ts) on `${MCP_CHANNEL_PREFIX}:operation:start|end`,
 * after its own observers and only while a channel has subscribers. A {@link PublicChannel} publishes only
 * its own message type; its `subscribe` hands a listener only messages of that type, since a channel is
 * global by name and anything in the process may publish on it.
 *
 * The one channel read is undici's `undici:client:sendHeaders` (proxy/upstream-socket.ts), whose messages
 * {@link isUndiciSendHeaders} checks before anything is read from them.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import { Duplex } from 'node:stream';
import { Exchange, isProxyErrorKind, type ProxyErrorEvent } from './exchange.ts';

/** Prefix of the exchange channels. */
export const CHANNEL_PREFIX = 'mcp-composer-sidecar:proxy';

/** Prefix of the MCP operation channels. */
export const MCP_CHANNEL_PREFIX = 'mcp-composer-sidecar:mcp';

/** Whether a message is one of type `T`. */
export type MessageGuard<T> = (message: unknown) => message is T;

/** A diagnostics channel whose messages are of type `T`. */
export class PublicChannel<T> {
  readonly name: string;
  readonly #channel: diagnostics_channel.Channel;
  readonly #accepts: MessageGuard<T> | undefined;
  readonly #listeners = new Map<(message: T) => void, diagnostics_channel.ChannelListener>();

  /** @param accepts tells this channel's messages from others published on its name; a subscriber may give its own. */
  constructor(name: string, accepts?: MessageGuard<T>) {
    this.name = name;
    this.#channel = diagnostics_channel.channel(name);
    this.#accepts = accepts;
  }

  /** Whether anyone listens (publish only then: a message is built for nobody otherwise). */
  get hasSubscribers(): boolean {
    return this.#channel.hasSubscribers;
  }

  publish(message: T): void {
    this.#channel.publish(message);
  }

  /**
   * Calls `listener` with every message published on the channel that `accepts` (by default the channel's
   * own guard) takes for a `T`; others are skipped. The listener runs in the publisher's call: what it
   * throws becomes an `uncaughtException` (Node's rule).
   */
  subscribe(listener: (message: T) => void, accepts: MessageGuard<T> | undefined = this.#accepts): void {
    if (accepts === undefined) throw new TypeError(`${this.name}: subscribing needs a guard of its message type`);
    if (this.#listeners.has(listener)) return;
    const onMessage: diagnostics_channel.ChannelListener = (message) => {
      if (accepts(message)) listener(message);
    };
    this.#listeners.set(listener, onMessage);
    diagnostics_channel.subscribe(this.name, onMessage);
  }

  /** Removes a listener given to {@link subscribe}; whether it was subscribed. */
  unsubscribe(listener: (message: T) => void): boolean {
    const onMessage = this.#listeners.get(listener);
    if (onMessage === undefined) return false;
    this.#listeners.delete(listener);
    return diagnostics_channel.unsubscribe(this.name, onMessage);
  }
}

function isExchange(message: unknown): message is Exchange {
  return message instanceof Exchange;
}

function isProxyErrorEvent(message: unknown): message is ProxyErrorEvent {
  if (typeof message !== 'object' || message === null || !('kind' in message) || !('code' in message)) return false;
  const { kind, code } = message;
  return typeof kind === 'string' && isProxyErrorKind(kind) && (code === undefined || typeof code === 'string');
}

/** The exchange and proxy-error channels. */
export const exchangeChannels = {
  start: new PublicChannel<Exchange>(`${CHANNEL_PREFIX}:start`, isExchange),
  response: new PublicChannel<Exchange>(`${CHANNEL_PREFIX}:response`, isExchange),
  end: new PublicChannel<Exchange>(`${CHANNEL_PREFIX}:end`, isExchange),
  error: new PublicChannel<ProxyErrorEvent>(`${CHANNEL_PREFIX}:error`, isProxyErrorEvent),
} as const;

/** The MCP operation channels, with the bus's operation type `Op`. */
export interface OperationChannels<Op> {
  readonly operationStart: PublicChannel<Op>;
  readonly operationEnd: PublicChannel<Op>;
}

/**
 * The operation channels typed with an operation type. The bus, which only publishes, gives no guard; a
 * subscriber gives one that tells its operations apart (observe/ never looks inside them).
 */
export function operationChannels<Op>(accepts?: MessageGuard<Op>): OperationChannels<Op> {
  return {
    operationStart: new PublicChannel<Op>(`${MCP_CHANNEL_PREFIX}:operation:start`, accepts),
    operationEnd: new PublicChannel<Op>(`${MCP_CHANNEL_PREFIX}:operation:end`, accepts),
  };
}

/** undici's `undici:client:sendHeaders` (its DiagnosticsChannel.md): published right before a request is written. */
export const UNDICI_SEND_HEADERS = 'undici:client:sendHeaders';

/** The parts of an `undici:client:sendHeaders` message the proxy reads. */
export interface UndiciSendHeaders {
  readonly request: { readonly method: unknown; readonly path: unknown };
  readonly socket: Duplex;
}

/** Whether a message published on {@link UNDICI_SEND_HEADERS} has the request and socket the proxy reads. */
export function isUndiciSendHeaders(message: unknown): message is UndiciSendHeaders {
  if (typeof message !== 'object' || message === null || !('request' in message) || !('socket' in message)) return false;
  const { request, socket } = message;
  return typeof request === 'object' && request !== null && 'method' in request && 'path' in request && socket instanceof Duplex;
}
