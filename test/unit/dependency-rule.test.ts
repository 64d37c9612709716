/**
 * The dependency rule of src/ (docs/architecture.md draws it): every import of every src/**\/*.ts file —
 * `import … from`, `export … from`, `import '…'` and `import('…')` — read from the source, folded into a
 * graph of modules, and checked against {@link ALLOWED}, the one table of which module may import which.
 * The graph must have no cycle, and every edge must be in the table.
 *
 * A module is a folder of src/; each folder of sources/ is a module of its own, and the files directly in
 * sources/ are the module `sources` (what every source shares). Of the files at the root, errors.ts,
 * log.ts, listen.ts and version.ts are shared, each a module of its own; the others (main.ts, cli.ts,
 * wiring.ts, runtime-flags.ts) are `root`: they wire everything, may import anything, and
 * nothing imports them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** The root files that any module may import. */
const SHARED_ROOT_FILES = ['errors.ts', 'log.ts', 'listen.ts', 'version.ts'] as const;

/** What every module but `root` may use besides its row: the errors table and the logger. */
const BASE = ['errors.ts', 'log.ts'] as const;

/**
 * Which module may import which, by layer, from the bottom. The data path: proxy/ (bytes) → observe/
 * (the bus and what is observed) → sources/* (each reads one kind of observation and hands facts and
 * inventory changes to the ledger) → ledger/ (decides what is counted) → telemetry/ (instruments; it
 * implements the sinks the ledger and the sources declare) → exporters/; admin/ and check/ beside, on top.
 * Add a module here, in its layer, before its first file.
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  // Shared root files and configuration: below everything.
  'errors.ts': [],
  'log.ts': [],
  'version.ts': [],
  config: [...BASE],
  'listen.ts': ['config'],
  // What is observed and what is counted: they know nothing of the proxy or of any source.
  observe: [...BASE],
  ledger: [...BASE],
  // Bytes: report every step to observe/, never to a source or to telemetry.
  proxy: [...BASE, 'config', 'listen.ts', 'observe'],
  // Sources: read observations (observe/) or the composer, hand facts and inventory changes to ledger/.
  // The files directly in sources/ (the Source interface, the surfaces, the selector) are what they share.
  sources: [...BASE, 'config', 'observe', 'ledger'],
  'sources/mcp': [...BASE, 'config', 'observe', 'ledger', 'sources'],
  'sources/rest': [...BASE, 'config', 'observe', 'ledger', 'sources'],
  'sources/detect': [...BASE, 'config', 'ledger', 'sources', 'sources/mcp'],
  'sources/poll': [...BASE, 'config', 'ledger', 'sources', 'sources/mcp', 'sources/detect'],
  'sources/events': [...BASE, 'config', 'ledger', 'sources', 'sources/poll'],
  // Out: exporters/ serialize what the SDK collected; telemetry/ records into the SDK.
  exporters: [...BASE, 'config'],
  telemetry: [...BASE, 'config', 'observe', 'ledger', 'sources', 'sources/mcp', 'sources/rest', 'sources/events', 'exporters'],
  // Beside: the metrics port and status page, the check command.
  admin: [...BASE, 'config', 'listen.ts', 'observe', 'ledger', 'sources', 'sources/mcp', 'telemetry', 'exporters'],
  check: [...BASE, 'config', 'sources', 'sources/detect', 'telemetry'],
  // Wiring: anything; nothing imports it.
  root: ['*'],
};

/** Files outside src/ a src file may import (version.ts reads the package's version). */
const OUTSIDE_SRC: readonly string[] = ['package.json'];

interface Import {
  /** The importing file, relative to src/. */
  readonly file: string;
  /** The specifier as written. */
  readonly specifier: string;
  /** The imported file, relative to src/ (`../x` when outside). */
  readonly target: string;
}

function moduleOf(file: string): string {
  const parts = file.split('/');
  if (parts.length === 1) return (SHARED_ROOT_FILES as readonly string[]).includes(file) ? file : 'root';
  if (parts[0] === 'sources') return parts.length === 2 ? 'sources' : `sources/${parts[1]}`;
  return parts[0] as string;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

const STATEMENT_START = /^(?:import\s|import\{|export\s+(?:type\s+)?(?:\{|\*))/;
const FROM = /\bfrom\s*(['"])([^'"]+)\1/;
const SIDE_EFFECT = /^import\s*(['"])([^'"]+)\1/;
const DYNAMIC = /\bimport\s*\(\s*(['"])([^'"]+)\1/g;
const DYNAMIC_ANY = /\bimport\s*\((?!\s*['"])/;

/**
 * The specifiers a file imports, and its dynamic imports of a computed specifier (which no rule can
 * check). Statements start at the beginning of a line; comment lines (`//`, `/*`, ` * `) are skipped.
 */
function specifiersOf(text: string): { specifiers: string[]; computed: number[] } {
  const specifiers: string[] = [];
  const computed: number[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const trimmed = line.trimStart();
    if (trimmed.startsWith('//') || trimmed.startsWith('/*') || trimmed.startsWith('*')) continue;
    if (STATEMENT_START.test(line)) {
      const side = SIDE_EFFECT.exec(line);
      if (side !== null) specifiers.push(side[2] as string);
      else {
        // A statement may span lines (`import {\n  a,\n} from '…';`): read up to its `from` or its end.
        for (let j = i; j < lines.length; j++) {
          const part = lines[j] as string;
          const from = FROM.exec(part);
          if (from !== null) {
            specifiers.push(from[2] as string);
            i = j;
            break;
          }
          if (part.trimEnd().endsWith(';')) break;
        }
        continue;
      }
    }
    for (const m of line.matchAll(DYNAMIC)) specifiers.push(m[2] as string);
    if (DYNAMIC_ANY.test(line)) computed.push(i + 1);
  }
  return { specifiers, computed };
}

function readImports(): { imports: Import[]; computed: Array<{ file: string; line: number }> } {
  const imports: Import[] = [];
  const computed: Array<{ file: string; line: number }> = [];
  for (const path of sourceFiles(SRC)) {
    const file = relative(SRC, path).split('\\').join('/');
    const found = specifiersOf(readFileSync(path, 'utf8'));
    for (const line of found.computed) computed.push({ file, line });
    for (const specifier of found.specifiers) {
      if (!specifier.startsWith('.')) continue; // a package or a node: builtin
      const target = relative(SRC, resolve(dirname(path), specifier))
        .split('\\')
        .join('/');
      imports.push({ file, specifier, target });
    }
  }
  return { imports, computed };
}

/** Module → module → the imports that make the edge. */
function moduleGraph(imports: readonly Import[]): Map<string, Map<string, Import[]>> {
  const graph = new Map<string, Map<string, Import[]>>();
  for (const imp of imports) {
    if (imp.target.startsWith('..')) continue;
    const from = moduleOf(imp.file);
    const to = moduleOf(imp.target);
    if (from === to) continue;
    let edges = graph.get(from);
    if (edges === undefined) graph.set(from, (edges = new Map()));
    let list = edges.get(to);
    if (list === undefined) edges.set(to, (list = []));
    list.push(imp);
  }
  return graph;
}

/** One cycle of `edges` (as a path that returns to its start), or `undefined`. */
function findCycle(edges: ReadonlyMap<string, Iterable<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 'open');
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') return [...path.slice(path.indexOf(next)), next];
      if (state.get(next) === undefined) {
        const found = visit(next);
        if (found !== undefined) return found;
      }
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of edges.keys()) {
    if (state.get(node) !== undefined) continue;
    const found = visit(node);
    if (found !== undefined) return found;
  }
  return undefined;
}

const cite = (imp: Import): string => `src/${imp.file} imports '${imp.specifier}'`;

/** The arrows of the diagram in docs/architecture.md (its ```mermaid block), as `from → to` of modules. */
function diagramArrows(): string[] {
  const doc = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
  const block = /```mermaid\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
  const names = new Map<string, string>();
  for (const m of block.matchAll(/^\s*(\w+)\["([^"]+)"\]\s*$/gm)) names.set(m[1] as string, (m[2] as string).replace(/\/$/, ''));
  const arrows: string[] = [];
  for (const m of block.matchAll(/^\s*(\w+)\s*-->\s*(\w+)\s*$/gm)) {
    arrows.push(`${names.get(m[1] as string) ?? `undeclared ${m[1]}`} → ${names.get(m[2] as string) ?? `undeclared ${m[2]}`}`);
  }
  return arrows.sort();
}

describe('the dependency rule of src/', () => {
  const { imports, computed } = readImports();
  const graph = moduleGraph(imports);

  it('reads the imports of every kind of statement', () => {
    const text = [
      "import './side-effect.ts';",
      "import type { A } from '../a.ts';",
      'import {',
      '  b,',
      '  type C,',
      "} from '../b.ts';",
      "export { d } from './d.ts';",
      "export * from './e.ts';",
      "export type { F } from './f.ts';",
      'export const local = 1;',
      "const g = await import('./g.ts');",
      ' * import { h } from "./comment.ts";',
      "// import('./comment.ts')",
      "import pkg from '../package.json' with { type: 'json' };",
      'const computedImport = await import(where);',
      "const spaced = await import( './spaced.ts');",
    ].join('\n');
    expect(specifiersOf(text)).toEqual({
      specifiers: ['./side-effect.ts', '../a.ts', '../b.ts', './d.ts', './e.ts', './f.ts', './g.ts', '../package.json', './spaced.ts'],
      computed: [15],
    });
  });

  it('finds the imports of the wiring (a canary for the reader)', () => {
    expect(imports.filter((i) => i.file === 'main.ts').map((i) => i.target)).toContain('proxy/server.ts');
    const fromCli = imports.filter((i) => i.file === 'cli.ts').map((i) => i.target);
    expect(fromCli).toContain('check/cli.ts'); // only a dynamic import
    expect(fromCli).toContain('runtime-flags.ts'); // a side-effect import
  });

  it('the table of allowed imports is itself free of cycles and names only modules that exist', () => {
    const table = new Map(Object.entries(ALLOWED).map(([m, to]) => [m, to.filter((t) => t !== '*')]));
    expect(findCycle(table)).toBeUndefined();
    const modules = new Set(Object.keys(ALLOWED));
    const unknown = [...table.values()].flat().filter((m) => !modules.has(m));
    expect(unknown).toEqual([]);
    const importsRoot = Object.entries(ALLOWED)
      .filter(([, to]) => to.includes('root'))
      .map(([m]) => m);
    expect(importsRoot, 'nothing imports the wiring').toEqual([]);
  });

  it('every file of src/ belongs to a module of the table', () => {
    const files = sourceFiles(SRC).map((p) => relative(SRC, p).split('\\').join('/'));
    const missing = [...new Set(files.map(moduleOf))].filter((m) => ALLOWED[m] === undefined);
    expect(missing, `modules not in ALLOWED (test/unit/dependency-rule.test.ts): add them in their layer`).toEqual([]);
  });

  it('no module imports one the table does not allow', () => {
    const forbidden: string[] = [];
    for (const [from, edges] of graph) {
      const allowed = ALLOWED[from] ?? [];
      if (allowed.includes('*')) continue;
      for (const [to, list] of edges) {
        if (allowed.includes(to)) continue;
        const may = allowed.length === 0 ? 'nothing' : allowed.join(', ');
        for (const imp of list) forbidden.push(`${cite(imp)}: ${from} → ${to} is not allowed (${from} may import ${may})`);
      }
    }
    expect(forbidden).toEqual([]);
  });

  it('no folder cycle', () => {
    const cycle = findCycle(new Map([...graph].map(([from, edges]) => [from, edges.keys()])));
    const witnesses = cycle?.slice(1).map((to, i) => cite(graph.get(cycle[i] as string)?.get(to)?.[0] as Import));
    expect(cycle === undefined ? [] : [cycle.join(' → '), ...(witnesses ?? [])]).toEqual([]);
  });

  it('the diagram of docs/architecture.md draws every import between folders, and no other', () => {
    const notDrawn = new Set<string>(['root', ...SHARED_ROOT_FILES]);
    const code: string[] = [];
    for (const [from, edges] of graph) {
      if (notDrawn.has(from)) continue;
      for (const to of edges.keys()) if (!notDrawn.has(to)) code.push(`${from} → ${to}`);
    }
    expect(diagramArrows()).toEqual(code.sort());
  });

  it('nothing outside src/ is imported but the package manifest, and only the wiring imports a computed path', () => {
    const outside = imports.filter((i) => i.target.startsWith('..') && !OUTSIDE_SRC.includes(i.target.slice(3))).map(cite);
    expect(outside).toEqual([]);
    const unchecked = computed
      .filter((at) => moduleOf(at.file) !== 'root')
      .map((at) => `src/${at.file}:${at.line} imports a computed path, which no rule can check`);
    expect(unchecked).toEqual([]);
  });
});
