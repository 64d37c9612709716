/**
 * Subscribing to the sidecar's diagnostics channels (`mcp-composer-sidecar:proxy:*`, `…:mcp:operation:*`):
 * each subscriber names its handlers once, and gets back the one function that undoes them all.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';

export type ChannelHandler = (message: unknown, name: string | symbol) => void;

/** Subscribes each handler to the channel it is keyed by; returns the function that unsubscribes them all. */
export function subscribeAll(handlers: Readonly<Record<string, ChannelHandler>>): () => void {
  const entries = Object.entries(handlers);
  for (const [name, handler] of entries) subscribe(name, handler);
  return () => {
    for (const [name, handler] of entries) unsubscribe(name, handler);
  };
}
