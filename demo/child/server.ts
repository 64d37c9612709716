// A demo child MCP server over stdio, spawned by the demo composer as a real child process:
//   node demo/child/server.ts --role calc|clock|files [--id ID]
// It exits when stdin reaches EOF (its composer is gone) and on SIGTERM/SIGINT (exit code 0), so no
// child ever outlives its composer.
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { logLine, registerRole } from './roles.ts';

function exitNow(code: number, why: string): never {
  logLine('INFO', `exiting (${why})`);
  process.exit(code);
}

async function run(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { role: { type: 'string' }, id: { type: 'string' } },
    strict: true,
  });
  const role = values.role ?? 'calc';
  const id = values.id ?? role;
  const server = new McpServer(
    { name: `demo-${role}`, version: '0.1.0' },
    { capabilities: { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { listChanged: true } } },
  );
  if (!registerRole(server, role, id)) {
    process.stderr.write(`ERROR unknown role ${JSON.stringify(role)}\n`);
    process.exit(2);
  }
  process.stdin.on('end', () => exitNow(0, 'stdin closed'));
  process.stdin.on('close', () => exitNow(0, 'stdin closed'));
  process.on('SIGTERM', () => exitNow(0, 'SIGTERM'));
  process.on('SIGINT', () => exitNow(0, 'SIGINT'));
  await server.connect(new StdioServerTransport());
  logLine('INFO', `${id} (${role}) ready, pid ${process.pid}`);
}

run().catch((err: unknown) => {
  process.stderr.write(`ERROR ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
