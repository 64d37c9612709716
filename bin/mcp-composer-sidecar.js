#!/usr/bin/env node
// Entry point for the `mcp-composer-sidecar` bin. A built package runs dist/cli.js; a source checkout on
// Node >= 22.18 (type stripping on by default) runs src/cli.ts directly.
//
// This file is the first thing a Node that is too old meets, so it is plain JavaScript that any Node with
// ES modules parses, and it checks the version before importing anything else: one line naming the Node
// needed (package.json's `engines`, the one place that says it) instead of a stack trace.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const wanted = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node;
const floor = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(wanted);
const have = process.versions.node.split('.').map(Number);
if (floor !== null) {
  const need = floor.slice(1).map(Number);
  const cmp = have[0] - need[0] || have[1] - need[1] || have[2] - need[2];
  if (cmp < 0) {
    process.stderr.write(
      `mcp-composer-sidecar: needs Node.js ${wanted}, this is ${process.version}; in a source checkout \`npm start -- [flags]\` runs the Node 24 that \`npm ci\` installs, elsewhere install Node.js 24 (https://nodejs.org)\n`,
    );
    process.exit(1);
  }
}

const built = new URL('../dist/cli.js', import.meta.url);
await import(existsSync(fileURLToPath(built)) ? built.href : new URL('../src/cli.ts', import.meta.url).href);
