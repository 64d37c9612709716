/**
 * The catalog's inventory gauges, observed from the inventory (ledger/inventory.ts) at each collection. A value no
 * source has given is not observed, so its family is absent rather than zero.
 */
import type { ReadonlyInventory } from '../ledger/inventory.ts';
import type { FamilyName } from './catalog.ts';
import type { Instruments } from './instruments.ts';

export function observeInventory(instruments: Instruments, inventory: ReadonlyInventory, now: () => number = Date.now): void {
  const gauge = (name: FamilyName<'gauge'>, read: () => number | undefined) =>
    instruments.observeGauge(name, (observe) => {
      const v = read();
      if (v !== undefined) observe(v);
    });
  instruments.observeGauge('mcp_composer_info', (observe) => {
    const info = inventory.info;
    if (info !== undefined) observe(1, { version: info.version, platform: info.platform });
  });
  gauge('mcp_composer_uptime_seconds', () => inventory.uptimeSeconds(now()));
  gauge('mcp_servers_total', () => inventory.servers?.total);
  gauge('mcp_servers_running', () => inventory.servers?.running);
  gauge('mcp_servers_stopped', () => inventory.servers?.stopped);
  gauge('mcp_servers_failed', () => inventory.servers?.failed);
  gauge('mcp_tools_total', () => inventory.capabilities?.tools);
  gauge('mcp_prompts_total', () => inventory.capabilities?.prompts);
  gauge('mcp_resources_total', () => inventory.capabilities?.resources);
  gauge('mcp_tool_conflicts_total', () => inventory.conflicts);
  for (const [name, kind] of [
    ['mcp_tools_by_server', 'tools'],
    ['mcp_prompts_by_server', 'prompts'],
    ['mcp_resources_by_server', 'resources'],
  ] as const) {
    const label = instruments.label(name, 'server_id');
    instruments.observeGauge(name, (observe) => {
      const counts = inventory.perServer[kind];
      if (counts === undefined) return;
      // The servers the inventory counts are known label values (telemetry/known-values.ts) and pass; only
      // without that registration would servers past the bound share `__other__`, their counts adding up there.
      const bounded = new Map<string, number>();
      for (const [serverId, n] of counts) {
        const id = label.value(serverId);
        bounded.set(id, (bounded.get(id) ?? 0) + n);
      }
      for (const [serverId, n] of bounded) observe(n, { server_id: serverId });
    });
  }
}
