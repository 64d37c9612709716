#!/usr/bin/env node
// Entry point for the `mcp-composer-sidecar` bin. A built package runs dist/cli.js; a source checkout on
// Node >= 22.18 (type stripping on by default) runs src/cli.ts directly.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/cli.js', import.meta.url);
await import(existsSync(fileURLToPath(built)) ? built.href : new URL('../src/cli.ts', import.meta.url).href);
