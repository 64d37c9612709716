import { describe, expect, it } from 'vitest';
import { ALL_FAMILIES, CATALOG, exposedName, SELF, SEMCONV } from '../../src/telemetry/catalog.ts';

describe('exported MCP family names', () => {
  it('never collide with or shadow a catalog family, whatever suffix the exposition adds', () => {
    const catalogSeries = new Set(CATALOG.flatMap((f) => [exposedName(f), `${exposedName(f)}_bucket`, `${exposedName(f)}_sum`, `${exposedName(f)}_count`]));
    for (const f of [...SELF, ...SEMCONV]) {
      const name = exposedName(f);
      for (const series of [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]) expect(catalogSeries.has(series), series).toBe(false);
    }
    expect(SEMCONV.map(exposedName)).toEqual(['mcp_server_operation_duration_seconds', 'mcp_server_session_duration_seconds']);
    const names = ALL_FAMILIES.map(exposedName);
    expect(new Set(names).size).toBe(names.length);
  });
});
