/**
 * Rewrites the flag table of README.md (between the `options:start`/`options:end` markers) from the option
 * table in src/config/options.ts. Run `npm run docs:options` after adding or changing an option; a unit
 * test fails while the README is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderOptionsMarkdown } from '../src/config/help.ts';

const file = new URL('../README.md', import.meta.url);
const readme = readFileSync(file, 'utf8');
const start = '<!-- options:start -->';
const end = '<!-- options:end -->';
const a = readme.indexOf(start);
const b = readme.indexOf(end);
if (a === -1 || b === -1 || b < a) throw new Error('README.md has no options:start/options:end markers');
writeFileSync(file, `${readme.slice(0, a + start.length)}\n${renderOptionsMarkdown()}\n${readme.slice(b)}`);
console.log('README.md flag table updated');
