// Every relative link of the README, docs/, demo/README.md and deploy/**/README.md resolves inside the
// repository (a link that leaves it is broken in every clone), and every #anchor names a heading of its
// target. Nothing in the repository links to or reads the workspace outside it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../fixtures/sidecar.ts';

function walk(dir: string, keep: (path: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p, keep));
    else if (keep(p)) out.push(p);
  }
  return out;
}

const DOCS = [
  join(ROOT, 'README.md'),
  join(ROOT, 'CONTRIBUTING.md'),
  join(ROOT, 'demo/README.md'),
  ...walk(join(ROOT, 'docs'), (p) => p.endsWith('.md')),
  ...walk(join(ROOT, 'deploy'), (p) => p.endsWith(`${sep}README.md`)),
];

/** Markdown without fenced code blocks and inline code spans (links there are examples, not links). */
function prose(md: string): string {
  // Blocks become as many empty lines, so that line numbers stay those of the file.
  return md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, '')).replace(/`[^`\n]*`/g, '');
}

/** `[text](target)` and `![alt](target)` links, with their line numbers. */
function linksOf(md: string): { target: string; line: number }[] {
  const out: { target: string; line: number }[] = [];
  prose(md)
    .split('\n')
    .forEach((text, i) => {
      for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ target: m[1] ?? '', line: i + 1 });
    });
  return out;
}

/** GitHub's heading anchors of a Markdown file (lowercase, punctuation dropped, spaces to hyphens, -1, -2 for repeats). */
function anchorsOf(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of md.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = (m[1] ?? '')
      .toLowerCase()
      .replace(/<[^>]+>/g, '')
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

describe('documentation links', () => {
  it('finds the documents and their links', () => {
    expect(DOCS.length).toBeGreaterThanOrEqual(10);
    expect(linksOf('see [a](b.md#c) and `[not](x.md)` and ![i](img.png "t")')).toEqual([
      { target: 'b.md#c', line: 1 },
      { target: 'img.png', line: 1 },
    ]);
    expect([...anchorsOf('# A `b` c\n## What, the: thing?\n## What, the: thing?\n```\n# not\n```')]).toEqual(['a-b-c', 'what-the-thing', 'what-the-thing-1']);
  });

  it.each(DOCS.map((d) => [relative(ROOT, d), d]))('every relative link of %s resolves inside the repository, anchors included', (_name, file) => {
    const md = readFileSync(file, 'utf8');
    const broken: string[] = [];
    for (const { target, line } of linksOf(md)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const [path = '', anchor] = target.split('#', 2);
      const abs = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
      const where = `${relative(ROOT, file)}:${line} → ${target}`;
      if (relative(ROOT, abs).startsWith('..')) {
        broken.push(`${where} (outside the repository)`);
        continue;
      }
      if (!existsSync(abs)) {
        broken.push(`${where} (no such file)`);
        continue;
      }
      if (anchor !== undefined && anchor !== '' && abs.endsWith('.md') && statSync(abs).isFile() && !anchorsOf(readFileSync(abs, 'utf8')).has(anchor)) {
        broken.push(`${where} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('nothing in the repository links to or reads the workspace outside it', () => {
    const outside = new RegExp(['\\.\\./', '(?:\\.\\./)*', 'shared/'].join(''));
    const files = ['src', 'test', 'demo', 'docs', 'deploy', 'scripts', 'bench', 'bin'].flatMap((d) =>
      walk(join(ROOT, d), (p) => /\.(?:ts|js|md|ya?ml|json|html|css)$/.test(p)),
    );
    files.push(join(ROOT, 'README.md'));
    const hits = files.filter((f) => outside.test(readFileSync(f, 'utf8'))).map((f) => relative(ROOT, f));
    expect(hits).toEqual([]);
  });
});
