/** The text `mcp-composer-sidecar check` prints (the JSON is the report itself). Pure. */
import { feedLegend, type CheckReport } from './report.ts';

function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((r) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd());
}

const yesNo = (v: boolean | null): string => (v === null ? 'unknown' : v ? 'yes' : 'no');
const orDash = (v: string | null): string => v ?? '–';

export function renderReport(r: CheckReport): string {
  const lines = [`mcp-composer-sidecar check: ${r.upstream}${r.reachable ? '' : ' (not reachable)'}`, '', 'What the composer serves:'];
  lines.push(
    ...table([
      ['surface', 'path', 'served', 'auth', 'foreign Host', 'foreign Origin'],
      ...r.surfaces.map((s) => [s.name, s.path, yesNo(s.served), orDash(s.auth), orDash(s.foreignHost), orDash(s.foreignOrigin)]),
    ]),
  );
  if (r.reachable) {
    lines.push('', 'The sidecar will see:', ...r.sees.map((s) => `  - ${s}`));
    if (r.blind.length > 0) lines.push('It will be blind to:', ...r.blind.map((s) => `  - ${s}`));
  }
  const fed = r.families.filter((f) => f.fed);
  lines.push('', `The composer's ${r.families.length} catalog families: ${fed.length} fed, ${r.families.length - fed.length} absent from the scrape:`);
  lines.push(
    ...table([
      ['family', 'fed', 'from'],
      ...r.families.map((f) => [
        f.family,
        f.fed ? 'yes' : 'no',
        f.fed ? f.from.join(', ') : f.missing.length > 0 ? `(would need: ${f.missing.join(', ')})` : '–',
      ]),
    ]),
  );
  lines.push('  where', ...feedLegend(r.families.flatMap((f) => [...f.from, ...f.missing])).map((l) => `    ${l}`));
  lines.push('', 'Findings:');
  if (r.findings.length === 0) lines.push('  none');
  for (const f of r.findings) lines.push(`  ${f.level.padEnd(7)}  ${f.code}: ${f.message}`);
  const count = (level: string) => r.findings.filter((f) => f.level === level).length;
  lines.push('', `${count('problem')} problem(s), ${count('warning')} warning(s): exit ${r.exitCode}`);
  return `${lines.join('\n')}\n`;
}
