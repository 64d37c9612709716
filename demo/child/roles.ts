// What each demo child MCP server offers. Between them: an instant tool (add, echo), a slow tool (sleep),
// a failing tool (fail → isError), a tool that really crashes its process (crash), static and templated
// resources, prompts, a tool that grows the tool list (register_tool → notifications/tools/list_changed),
// and `echo` on both calc and clock (the composition's deliberate name conflict).
import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/** Writes one log line on stderr; the composer keeps it for GET /api/v1/servers/{id}/logs. */
export function logLine(level: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR', message: string): void {
  process.stderr.write(`${level} ${message}\n`);
}

function text(t: string): CallToolResult {
  return { content: [{ type: 'text', text: t }] };
}

function registerEcho(server: McpServer, id: string): void {
  server.registerTool('echo', { description: `Echo the text back (served by ${id})`, inputSchema: { text: z.string() } }, async ({ text: t }) => text(t));
}

function registerCalc(server: McpServer, id: string): void {
  server.registerTool('add', { description: 'Add two numbers', inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => text(String(a + b)));
  registerEcho(server, id);
  server.registerTool(
    'fail',
    { description: 'Always fails: answers a result with isError: true', inputSchema: { message: z.string().optional() } },
    async ({ message }) => {
      logLine('WARNING', `fail tool called: ${message ?? 'deliberate failure'}`);
      return { content: [{ type: 'text', text: `Error: ${message ?? 'deliberate failure'}` }], isError: true };
    },
  );
  server.registerTool(
    'crash',
    {
      description: 'Makes this server process exit at once (a real crash; the call never gets an answer)',
      inputSchema: { exit_code: z.number().int().min(1).max(255).optional() },
    },
    async ({ exit_code }) => {
      logLine('ERROR', `crashing on request with exit code ${exit_code ?? 1}`);
      process.exit(exit_code ?? 1);
    },
  );
  // Bench only (bench/scenarios/mcp.ts sets DEMO_BENCH_TOOLS=1): the demo's inventory is otherwise unchanged.
  if (process.env['DEMO_BENCH_TOOLS'] === '1') registerBlob(server);
  server.registerPrompt('explain', { description: 'Explain an arithmetic topic', argsSchema: { topic: z.string() } }, ({ topic }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Explain ${topic} in one paragraph.` } }],
  }));
  server.registerResource('constants', 'calc://constants', { description: 'Mathematical constants', mimeType: 'application/json' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ pi: Math.PI, e: Math.E }) }],
  }));
}

/** Rows of a JSON document about `bytes` long when serialised, built once per size. */
const blobs = new Map<number, Array<Record<string, unknown>>>();
function rowsOf(bytes: number): Array<Record<string, unknown>> {
  let rows = blobs.get(bytes);
  if (rows === undefined) {
    rows = [];
    let size = 2;
    for (let i = 0; size < bytes; i++) {
      const row = { id: i, name: `item-${i}`, tags: ['bench', i % 2 === 0 ? 'even' : 'odd'], price: Math.round(i * 137.5) / 100, note: 'é'.repeat(i % 3) };
      size += JSON.stringify(row).length + 1;
      rows.push(row);
    }
    blobs.set(bytes, rows);
  }
  return rows;
}

/**
 * The result of `blob` for `bytes`: a structured JSON result of about that size (its rows, and the same
 * JSON as text, half each). Also what bench/micro/mcp.ts answers with `--result-bytes`.
 */
export function blobResult(bytes: number): CallToolResult {
  const rows = rowsOf(Math.floor(bytes / 2));
  return { content: [{ type: 'text', text: JSON.stringify(rows) }], structuredContent: { rows } };
}

function registerBlob(server: McpServer): void {
  server.registerTool(
    'blob',
    { description: 'Answers a structured JSON result of about the given size (bench only)', inputSchema: { bytes: z.number().int().min(2).max(1_048_576) } },
    async ({ bytes }) => blobResult(bytes),
  );
}

function registerClock(server: McpServer, id: string): void {
  server.registerTool(
    'sleep',
    { description: 'Sleep for the given number of milliseconds, then answer', inputSchema: { ms: z.number().int().min(0).max(600_000) } },
    async ({ ms }, extra) => {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        extra.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return text(`slept ${ms} ms`);
    },
  );
  server.registerTool('now', { description: 'Current time (ISO 8601)' }, async () => text(new Date().toISOString()));
  registerEcho(server, id);
  server.registerResource('timezone', 'clock://timezone', { description: 'The clock server time zone', mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'UTC' }],
  }));
  server.registerResource(
    'time-in-zone',
    new ResourceTemplate('clock://time/{zone}', { list: undefined }),
    { description: 'The time in a zone', mimeType: 'text/plain' },
    async (uri, vars) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: `${new Date().toISOString()} (${String(vars.zone)})` }] }),
  );
  server.registerPrompt('schedule', { description: 'Plan an event', argsSchema: { event: z.string() } }, ({ event }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Find a time for ${event}.` } }],
  }));
}

const FILES: Readonly<Record<string, { mimeType: string; text: string }>> = {
  'file:///demo/readme.txt': { mimeType: 'text/plain', text: 'This is the demo composer.\n' },
  'file:///demo/data.json': { mimeType: 'application/json', text: '{"items":[1,2,3]}' },
};

function registerFiles(server: McpServer): void {
  for (const [uri, file] of Object.entries(FILES)) {
    const name = uri.slice('file:///demo/'.length);
    server.registerResource(name, uri, { description: `Demo file ${name}`, mimeType: file.mimeType }, async (u) => ({
      contents: [{ uri: u.href, mimeType: file.mimeType, text: file.text }],
    }));
  }
  server.registerResource(
    'note',
    new ResourceTemplate('file:///demo/notes/{name}', { list: undefined }),
    { description: 'A note by name', mimeType: 'text/plain' },
    async (uri, vars) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: `Note ${String(vars.name)}` }] }),
  );
  server.registerTool('list_files', { description: 'List the demo files' }, async () => text(Object.keys(FILES).join('\n')));
  const added = new Set<string>();
  server.registerTool(
    'register_tool',
    {
      description: 'Adds a tool with the given name (an echo); the tool list changes and clients are notified',
      inputSchema: { name: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/) },
    },
    async ({ name }) => {
      if (added.has(name) || name === 'register_tool' || name === 'list_files')
        return { content: [{ type: 'text', text: `Tool ${name} already exists` }], isError: true };
      added.add(name);
      server.registerTool(name, { description: `Echo added at run time`, inputSchema: { text: z.string() } }, async ({ text: t }) => text(t));
      logLine('INFO', `registered tool ${name}`);
      return text(`registered ${name}`);
    },
  );
  server.registerPrompt('summarize', { description: 'Summarize a demo file', argsSchema: { name: z.string() } }, ({ name }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Summarize file:///demo/${name}.` } }],
  }));
}

/** Registers everything the role offers on `server`; false for an unknown role. */
export function registerRole(server: McpServer, role: string, id: string): boolean {
  if (role === 'calc') registerCalc(server, id);
  else if (role === 'clock') registerClock(server, id);
  else if (role === 'files') registerFiles(server);
  else return false;
  return true;
}
