import { describe, expect, it } from 'vitest';
import { expositionName } from '../../src/exporters/prometheus-serializer.ts';
import { ALL_FAMILIES, CATALOG, SELF, SEMCONV, type FamilySpec } from '../../src/telemetry/catalog.ts';

function promName(f: FamilySpec): string {
  return expositionName(f.name, f.unit ?? '', f.kind === 'counter' ? 'counter' : f.kind === 'histogram' ? 'histogram' : 'gauge');
}

describe('the family table beyond the catalog', () => {
  it('never shadows a catalog family, whatever suffix the exposition adds: every Prometheus name is distinct', () => {
    const series = (name: string) => [name, `${name}_bucket`, `${name}_sum`, `${name}_count`];
    const catalogSeries = new Set(CATALOG.flatMap((f) => series(promName(f))));
    for (const f of [...SELF, ...SEMCONV]) for (const s of series(promName(f))) expect(catalogSeries.has(s), s).toBe(false);
    const all = ALL_FAMILIES.map(promName);
    expect(new Set(all).size).toBe(all.length);
  });

  it('keeps catalog names as they are and exposes semantic-convention names sanitised with their unit', () => {
    for (const f of CATALOG) expect(promName(f)).toBe(f.name);
    expect(SEMCONV.map(promName)).toEqual([
      'http_server_request_duration_seconds',
      'mcp_server_operation_duration_seconds',
      'mcp_server_session_duration_seconds',
    ]);
  });

  it("prefixes the sidecar's own families with sidecar_ and gives units only to semantic-convention families", () => {
    for (const f of SELF) expect(f.name).toMatch(/^sidecar_[a-z_]+$/);
    for (const f of [...CATALOG, ...SELF]) expect(f.unit).toBeUndefined();
    for (const f of SEMCONV) expect(f.unit).toBeDefined();
  });
});
