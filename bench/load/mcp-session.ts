/** One MCP session of the bench's load children: the official SDK client over either transport of a proxy or the composer. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** A connected session to `baseUrl`: legacy SSE at `/sse`, streamable HTTP at `/mcp`. */
export async function connectMcp(baseUrl: string, kind: 'streamable_http' | 'sse'): Promise<Client> {
  const transport = kind === 'sse' ? new SSEClientTransport(new URL(`${baseUrl}/sse`)) : new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`));
  const client = new Client({ name: 'sidecar-bench', version: '1.0.0' });
  await client.connect(transport);
  return client;
}
