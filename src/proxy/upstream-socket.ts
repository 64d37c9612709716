/**
 * Which upstream socket a proxied request was written on, so that an end undici reports can be checked
 * against how the socket itself ended.
 *
 * Why: undici completes a close-delimited body (neither `Content-Length` nor chunked) when its socket is
 * reset (`ECONNRESET`) exactly as when it is closed cleanly — `onHttpSocketError` in undici's client-h1.js
 * finishes the parser on a reset, a workaround for macOS resetting after a full body. But only a clean FIN
 * ends such a body (RFC 9112 §6.3 item 8); a connection reset before it is an incomplete message (§8), and
 * a proxy that passes it on as complete turns a truncated answer into a 200 the client trusts. Chunked and
 * `Content-Length` bodies cut short are already reported as errors; this catches the one framing undici
 * cannot judge.
 *
 * How: undici publishes `undici:client:sendHeaders` (`{ request, headers, socket }`, documented in its
 * DiagnosticsChannel.md) right before writing a request, in the same synchronous step that calls the
 * handler's `onRequestStart`. A handler claims the next publication in `onRequestStart`; the claim is
 * checked against the request's method and path and cleared by the publication, so a request of another
 * undici client (the probe, the poller) is never attributed to it. At `onResponseEnd` the socket's
 * `errored` says whether it was destroyed by an error (a reset) rather than closed cleanly: the socket is
 * destroyed with the error before undici's `error` listener runs, and is never errored at a clean end.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { Duplex } from 'node:stream';
import { isUndiciSendHeaders, UNDICI_SEND_HEADERS } from '../observe/channels.ts';

/** A dispatch handler that wants the socket its request is written on. */
export interface UpstreamSocketClaimant {
  /** Method and path of the request, as given to `dispatch`. */
  readonly claimedMethod: string;
  readonly claimedPath: string;
  /** Called once, synchronously, with the socket the request is about to be written on. */
  upstreamSocket(socket: Duplex): void;
}

let claimant: UpstreamSocketClaimant | null = null;

function onSendHeaders(message: unknown): void {
  const c = claimant;
  if (c === null) return;
  claimant = null;
  // Outside the observation bus's guard (a throw here would be an uncaught exception): read undici's message defensively.
  if (!isUndiciSendHeaders(message)) return;
  const { request, socket } = message;
  if (request.method === c.claimedMethod && request.path === c.claimedPath) c.upstreamSocket(socket);
}

subscribe(UNDICI_SEND_HEADERS, onSendHeaders);

/** Call from `onRequestStart` (when not aborting): the request undici writes next is `c`'s. */
export function claimUpstreamSocket(c: UpstreamSocketClaimant): void {
  claimant = c;
}

/** The error a socket was destroyed with (a reset), or `null` when it is open or closed cleanly. */
export function socketError(socket: Duplex | null): Error | null {
  return socket === null ? null : socket.errored;
}
