/**
 * A decorator around the MCP SDK client transport of the sidecar's own inventory session, so that nothing
 * it sends can be taken for a client's message, and nothing meant for a client is taken for its own:
 *
 * - out: the SDK numbers its requests 0, 1, 2… like every client does; each id (and the `requestId` of
 *   its `notifications/cancelled`) is rewritten to a string with the per-process random prefix of
 *   sources/mcp/own-ids.ts. On an upstream that sends every message to every session, a client then sees the
 *   answers to the sidecar's requests under ids it never used, which SDK clients drop.
 * - in: a response under one of those ids is given back to the SDK with its number; a response under any
 *   other id was meant for someone else (the upstream broadcasts): it is dropped and reported, never
 *   delivered, so the SDK cannot mistake a client's answer for its own. Requests from the server other
 *   than `ping` are dropped too: the session declares no client capability, and on a broadcasting
 *   upstream its refusal could overtake a real client's answer. Notifications pass.
 */
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type MessageExtraInfo,
} from '@modelcontextprotocol/sdk/types.js';
import { ownId, ownIdNumber } from '../mcp/own-ids.ts';

export interface OwnIdHooks {
  /** A response to a request the sidecar did not send reached its session: the upstream broadcasts. */
  foreign(): void;
}

/** The message as sent on the wire: the SDK's numeric request ids replaced by the sidecar's own. */
export function outgoing(message: JSONRPCMessage): JSONRPCMessage {
  if (isJSONRPCRequest(message)) return typeof message.id === 'number' ? { ...message, id: ownId(message.id) } : message;
  if (isJSONRPCNotification(message) && message.method === 'notifications/cancelled') {
    const params = message.params;
    const id = params?.['requestId'];
    if (params !== undefined && typeof id === 'number') return { ...message, params: { ...params, requestId: ownId(id) } };
  }
  return message;
}

/** The message as the SDK may see it, or `foreign` (another session's response) or `drop`. */
export function incoming(message: JSONRPCMessage): JSONRPCMessage | 'foreign' | 'drop' {
  if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
    const id = message.id;
    if (id === undefined) return 'drop'; // an error about an unreadable message: not an answer to a request
    const n = ownIdNumber(id);
    return n === undefined ? 'foreign' : { ...message, id: n };
  }
  if (isJSONRPCRequest(message) && message.method !== 'ping') return 'drop';
  return message;
}

export class OwnIdTransport implements Transport {
  readonly #inner: Transport;
  readonly #hooks: OwnIdHooks;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  constructor(inner: Transport, hooks: OwnIdHooks) {
    this.#inner = inner;
    this.#hooks = hooks;
    inner.onclose = () => this.onclose?.();
    inner.onerror = (error) => this.onerror?.(error);
    inner.onmessage = (message, extra) => {
      const m = incoming(message);
      if (m === 'foreign') this.#hooks.foreign();
      else if (m !== 'drop') this.onmessage?.(m, extra);
    };
  }

  get sessionId(): string | undefined {
    return this.#inner.sessionId;
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.#inner.send(outgoing(message), options);
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  setProtocolVersion(version: string): void {
    this.#inner.setProtocolVersion?.(version);
  }
}
