/**
 * Rewrites the flag table of README.md (between the `options:start`/`options:end` markers) from the option
 * table in src/config/options.ts, and the table of docs/composers.md (`feeds:start`/`feeds:end`) from
 * src/telemetry/family-sources.ts. Run `npm run docs:options` after adding or changing an option or a
 * family's sources; a unit test fails while either is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderOptionsMarkdown } from '../src/config/help.ts';
import { renderFeedsMarkdown } from '../src/telemetry/family-sources.ts';

/** Replaces what lies between two markers of a file. */
function rewrite(file: URL, name: string, body: string): void {
  const text = readFileSync(file, 'utf8');
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a === -1 || b === -1 || b < a) throw new Error(`${file.pathname} has no ${name}:start/${name}:end markers`);
  writeFileSync(file, `${text.slice(0, a + start.length)}\n${body}\n${text.slice(b)}`);
}

rewrite(new URL('../README.md', import.meta.url), 'options', renderOptionsMarkdown());
console.log('README.md flag table updated');
rewrite(new URL('../docs/composers.md', import.meta.url), 'feeds', renderFeedsMarkdown());
console.log('docs/composers.md family sources table updated');
