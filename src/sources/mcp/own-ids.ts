/**
 * The JSON-RPC ids of the sidecar's own MCP requests (its inventory session, src/events/): strings with a
 * prefix drawn at random once per process, `sidecar-<12 random characters>-<n>`. A client's ids never take
 * that shape by accident, so on an upstream that sends every message to every session (a broadcasting
 * gateway such as supergateway's stdio→SSE mode) a client can never take a response to the sidecar's
 * request for its own: MCP SDK clients look a response up by `Number(id)` (NaN for these), Python clients
 * compare a string with their integer ids. Pure, apart from the random draw.
 *
 * The MCP tap recognises these ids on a client's stream: seeing one means the upstream broadcasts.
 */
import { randomBytes } from 'node:crypto';
import type { JsonRpcId } from './jsonrpc.ts';

/** `sidecar-` and 12 base64url characters, then `-`: never a number, never a prefix of one. */
export const OWN_ID_PREFIX = `sidecar-${randomBytes(9).toString('base64url')}-`;

/** The id sent on the wire for the SDK's request number `n`. */
export function ownId(n: number): string {
  return `${OWN_ID_PREFIX}${n}`;
}

/** True for an id the sidecar itself sent. */
export function isOwnId(id: JsonRpcId | null): boolean {
  return typeof id === 'string' && id.startsWith(OWN_ID_PREFIX);
}

/** The SDK's request number behind one of the sidecar's ids, or `undefined` for any other id. */
export function ownIdNumber(id: JsonRpcId | null): number | undefined {
  if (typeof id !== 'string' || !id.startsWith(OWN_ID_PREFIX)) return undefined;
  const rest = id.slice(OWN_ID_PREFIX.length);
  if (!/^\d{1,15}$/.test(rest)) return undefined;
  return Number(rest);
}
