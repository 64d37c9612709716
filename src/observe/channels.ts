/**
 * The public diagnostics channels, an external contract (e.g. for a debugging subscriber): the observation
 * bus (bus.ts) publishes each step of each exchange on `${CHANNEL_PREFIX}:start|response|end|error` and
 * each MCP operation (the contract of sources/mcp/operations.ts) on
 * `${MCP_CHANNEL_PREFIX}:operation:start|end`, after its own observers and only while a channel has
 * subscribers.
 */
import diagnostics_channel from 'node:diagnostics_channel';

/** Prefix of the exchange channels. */
export const CHANNEL_PREFIX = 'mcp-composer-sidecar:proxy';

/** Prefix of the MCP operation channels. */
export const MCP_CHANNEL_PREFIX = 'mcp-composer-sidecar:mcp';

/** The public channels the bus publishes on (only while they have subscribers). */
export const publicChannels = {
  start: diagnostics_channel.channel(`${CHANNEL_PREFIX}:start`),
  response: diagnostics_channel.channel(`${CHANNEL_PREFIX}:response`),
  end: diagnostics_channel.channel(`${CHANNEL_PREFIX}:end`),
  error: diagnostics_channel.channel(`${CHANNEL_PREFIX}:error`),
  operationStart: diagnostics_channel.channel(`${MCP_CHANNEL_PREFIX}:operation:start`),
  operationEnd: diagnostics_channel.channel(`${MCP_CHANNEL_PREFIX}:operation:end`),
} as const;
