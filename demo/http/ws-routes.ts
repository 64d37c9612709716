// The composer's WebSocket streams (with the `ws` package, as Node has no WebSocket server):
//   /ws/logs     one JSON text frame per log line of every server (`?server_id=` filters):
//                {"type":"log","server_id","timestamp" (naive ISO),"level","message"}
//   /ws/metrics  every `metricsIntervalMs` the JSON summary of GET /api/v1/metrics:
//                {"type":"metrics","timestamp","data":{...}}
// Mounted with the REST app (not in profile released); other upgrade requests are answered 404.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ComposerContext } from '../context.ts';
import { naiveIso } from './respond.ts';
import { metricsSummary } from './rest-status.ts';

export interface WebSocketRoutes {
  close(): void;
}

function refuse(socket: Duplex): void {
  const body = '{"detail":"Not Found"}';
  socket.end(`HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
}

function streamLogs(ctx: ComposerContext, ws: WebSocket, serverId: string | null): void {
  const servers = ctx.supervisor.list().filter((s) => serverId === null || s.id === serverId);
  const unsubscribe = servers.map((s) =>
    s.logs.subscribe((e) => {
      if (ws.readyState === ws.OPEN) {
        ws.send(JSON.stringify({ type: 'log', server_id: s.id, timestamp: naiveIso(e.time), level: e.level, message: e.message }));
      }
    }),
  );
  ws.on('close', () => {
    for (const u of unsubscribe) u();
  });
}

function streamMetrics(ctx: ComposerContext, ws: WebSocket, intervalMs: number): void {
  const send = (): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'metrics', timestamp: naiveIso(new Date()), data: metricsSummary(ctx) }));
  };
  send();
  const timer = setInterval(send, intervalMs);
  ws.on('close', () => clearInterval(timer));
}

/**
 * Serves /ws/logs and /ws/metrics on `http` when `enabled` (else every upgrade gets 404).
 * `metricsIntervalMs`: push interval of /ws/metrics.
 */
export function attachWebSockets(http: Server, ctx: ComposerContext, metricsIntervalMs: number, enabled: boolean): WebSocketRoutes {
  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!enabled || (url.pathname !== '/ws/logs' && url.pathname !== '/ws/metrics')) return refuse(socket);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('error', () => undefined);
      if (url.pathname === '/ws/logs') streamLogs(ctx, ws, url.searchParams.get('server_id'));
      else streamMetrics(ctx, ws, metricsIntervalMs);
    });
  });
  return {
    close: () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
