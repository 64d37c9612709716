// One supervised child MCP server: its process, its MCP client session, its state machine and the
// lifecycle events it emits. Lifecycle operations are serialised on a per-server queue; a crash (an exit
// nobody asked for while `running`) is noticed at once and never goes through the queue.
//
// Events, exactly (see demo/README.md):
//   start    server.starting, then server.started{pid,trigger} | server.start_failed{error,trigger}
//   stop     server.stopped{exit_code,trigger}
//   restart  [server.stopped] server.starting server.started server.restarted{reason:"manual"|"config_change"}
//   crash    server.crashed{exit_code,signal}; with auto-restart, after the backoff:
//            server.starting server.started{trigger:"supervisor"} server.restarted{reason:"crash"}
//            (a failed attempt: server.start_failed{trigger:"supervisor"} and another backoff)
// restart_count grows by one with every server.restarted.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type GetPromptResult,
  type ReadResourceResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.ts';
import { ChildProcessTransport, type ChildExit } from './child-transport.ts';
import { EMPTY_INVENTORY, inventoryKey, loadInventory, type Inventory } from './inventory.ts';
import { LogRing } from './log-ring.ts';

export type ServerState = 'starting' | 'running' | 'stopping' | 'stopped' | 'crashed';
export type Trigger = 'api' | 'supervisor' | 'config' | 'startup';
export type RestartReason = 'manual' | 'crash' | 'config_change';

/** A lifecycle request that does not fit the state (`conflict` → 400) or that failed (`failed` → 500). */
export class LifecycleError extends Error {
  readonly kind: 'conflict' | 'failed';
  constructor(kind: 'conflict' | 'failed', message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface ServerHooks {
  readonly emit: (type: string, data: Record<string, unknown>) => void;
  /** Called whenever the set of tools, prompts or resources of this server changed. */
  readonly inventoryChanged: (server: ManagedServer) => void;
  readonly log: Logger;
  /** Restart crashed servers automatically. */
  readonly autoRestart: boolean;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  /** Timeout of MCP requests to the child (initialize, lists, calls). */
  readonly requestTimeoutMs: number;
}

/** A server that ran this long before crashing starts its backoff again from the initial delay. */
const STABLE_RUN_MS = 10_000;

export class ManagedServer {
  readonly id: string;
  spec: ServerConfig;
  state: ServerState = 'stopped';
  pid: number | undefined;
  startedAt: number | undefined;
  restartCount = 0;
  lastError: string | undefined;
  inventory: Inventory = EMPTY_INVENTORY;
  readonly logs = new LogRing();
  /** Figures for GET /servers/{id}/metrics. */
  readonly stats = { toolCalls: 0, toolErrors: 0, resourceReads: 0, crashes: 0, starts: 0, stops: 0 };

  #hooks: ServerHooks;
  #client: Client | undefined;
  #transport: ChildProcessTransport | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #restartTimer: NodeJS.Timeout | undefined;
  #consecutiveCrashes = 0;
  #lastExit: ChildExit | undefined;
  #removed = false;

  constructor(spec: ServerConfig, hooks: ServerHooks) {
    this.id = spec.id;
    this.spec = spec;
    this.#hooks = hooks;
  }

  /** True while a crash restart is scheduled. */
  get restartPending(): boolean {
    return this.#restartTimer !== undefined;
  }

  /** Runs `op` after every lifecycle operation queued before it. */
  #run<T>(op: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(op, op);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #emit(type: string, data: Record<string, unknown>): void {
    this.#hooks.emit(type, { server_id: this.id, ...data });
  }

  start(trigger: Trigger): Promise<void> {
    return this.#run(async () => {
      if (this.state === 'running') throw new LifecycleError('conflict', `Server '${this.id}' is already running`);
      this.#cancelRestart();
      await this.#spawn(trigger);
    });
  }

  stop(trigger: Trigger): Promise<void> {
    return this.#run(async () => {
      if (this.state === 'crashed' && this.restartPending) {
        this.#cancelRestart();
        this.state = 'stopped';
        this.stats.stops += 1;
        this.#emit('server.stopped', { exit_code: this.#lastExit?.code ?? null, trigger });
        return;
      }
      if (this.state !== 'running') throw new LifecycleError('conflict', `Server '${this.id}' is not running`);
      await this.#halt(trigger);
    });
  }

  restart(trigger: Trigger, reason: 'manual' | 'config_change'): Promise<void> {
    return this.#run(async () => {
      this.#cancelRestart();
      if (this.state === 'running') await this.#halt(trigger);
      await this.#spawn(trigger);
      this.restartCount += 1;
      this.#emit('server.restarted', { reason, pid: this.pid ?? null });
    });
  }

  /** Stops the server for good (DELETE or config removal): emits server.stopped when it was up. */
  remove(trigger: Trigger): Promise<void> {
    return this.#run(async () => {
      this.#removed = true;
      if (this.state === 'running') await this.#halt(trigger);
      else if (this.state === 'crashed' && this.restartPending) {
        this.#cancelRestart();
        this.state = 'stopped';
        this.#emit('server.stopped', { exit_code: this.#lastExit?.code ?? null, trigger });
      }
      this.#cancelRestart();
    });
  }

  /** Composer shutdown: stop without events. */
  shutdown(): Promise<void> {
    this.#removed = true;
    this.#cancelRestart();
    const transport = this.#transport;
    this.#transport = undefined;
    this.#client = undefined;
    return transport ? transport.stop().then(() => undefined) : Promise.resolve();
  }

  /** Sends a signal to the child process from outside, as `kill -9` would (test control). */
  kill(signal: NodeJS.Signals): boolean {
    if (!this.#transport || this.state !== 'running') return false;
    this.#transport.kill(signal);
    return true;
  }

  #connected(): Client {
    if (this.state !== 'running' || !this.#client) throw new LifecycleError('failed', `Server '${this.id}' is not running`);
    return this.#client;
  }

  callTool(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<CallToolResult> {
    const opts = { timeout: this.#hooks.requestTimeoutMs, ...(signal ? { signal } : {}) };
    return this.#connected().callTool({ name, arguments: args }, undefined, opts) as Promise<CallToolResult>;
  }

  readResource(uri: string): Promise<ReadResourceResult> {
    return this.#connected().readResource({ uri }, { timeout: this.#hooks.requestTimeoutMs });
  }

  getPrompt(name: string, args: Record<string, string>): Promise<GetPromptResult> {
    return this.#connected().getPrompt({ name, arguments: args }, { timeout: this.#hooks.requestTimeoutMs });
  }

  async #spawn(trigger: Trigger): Promise<void> {
    this.state = 'starting';
    this.#emit('server.starting', {});
    this.logs.add('INFO', `Starting server ${this.id}: ${this.spec.command} ${this.spec.args.join(' ')}`);
    const transport = new ChildProcessTransport({ command: this.spec.command, args: this.spec.args, env: this.spec.env });
    transport.onstderr = (line) => this.logs.addLine(line);
    const client = new Client({ name: 'demo-composer', version: '0.1.0' });
    try {
      await client.connect(transport, { timeout: this.#hooks.requestTimeoutMs });
      const inventory = await loadInventory(client, this.#hooks.requestTimeoutMs);
      if (transport.exit) throw new Error(`process exited with code ${transport.exit.code}`);
      this.#transport = transport;
      this.#client = client;
      this.#watch(client, transport);
      this.state = 'running';
      this.pid = transport.pid;
      this.startedAt = Date.now();
      this.lastError = undefined;
      this.stats.starts += 1;
      this.#emit('server.started', { pid: this.pid ?? null, trigger });
      this.#hooks.log.info({ server_id: this.id, pid: this.pid, trigger }, 'server started');
      this.#setInventory(inventory);
    } catch (err) {
      await transport.stop(500).catch(() => undefined);
      const message = err instanceof Error ? err.message : String(err);
      this.lastError = message;
      this.state = trigger === 'supervisor' ? 'crashed' : 'stopped';
      this.pid = undefined;
      this.logs.add('ERROR', `Failed to start server ${this.id}: ${message}`);
      this.#emit('server.start_failed', { error: message, trigger });
      this.#hooks.log.warn({ server_id: this.id, err: message, trigger }, 'server start failed');
      throw new LifecycleError('failed', `Failed to start server '${this.id}': ${message}`);
    }
  }

  async #halt(trigger: Trigger): Promise<void> {
    this.state = 'stopping';
    const transport = this.#transport;
    this.#transport = undefined;
    this.#client = undefined;
    const exit = transport ? await transport.stop() : undefined;
    this.#lastExit = exit;
    this.state = 'stopped';
    this.pid = undefined;
    this.startedAt = undefined;
    this.stats.stops += 1;
    this.logs.add('INFO', `Server ${this.id} stopped (exit code ${exit?.code ?? 'unknown'})`);
    this.#emit('server.stopped', { exit_code: exit?.code ?? null, trigger });
  }

  #watch(client: Client, transport: ChildProcessTransport): void {
    const refresh = (): void => {
      if (this.#client !== client) return;
      loadInventory(client, this.#hooks.requestTimeoutMs).then(
        (inv) => {
          if (this.#client === client) this.#setInventory(inv);
        },
        () => undefined,
      );
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, refresh);
    client.setNotificationHandler(PromptListChangedNotificationSchema, refresh);
    client.setNotificationHandler(ResourceListChangedNotificationSchema, refresh);
    void transport.exited.then((exit) => {
      if (this.#transport === transport && this.state === 'running') this.#onCrash(exit);
    });
  }

  #onCrash(exit: ChildExit): void {
    const ranFor = Date.now() - (this.startedAt ?? Date.now());
    this.#transport = undefined;
    this.#client = undefined;
    this.#lastExit = exit;
    this.state = 'crashed';
    this.pid = undefined;
    this.startedAt = undefined;
    this.stats.crashes += 1;
    const how = exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
    this.lastError = `Process exited unexpectedly (${how})`;
    this.logs.add('ERROR', `Server ${this.id} crashed (${how})`);
    this.#hooks.log.warn({ server_id: this.id, exit_code: exit.code, signal: exit.signal }, 'server crashed');
    this.#emit('server.crashed', { exit_code: exit.code, signal: exit.signal });
    if (ranFor >= STABLE_RUN_MS) this.#consecutiveCrashes = 0;
    this.#scheduleRestart();
  }

  #scheduleRestart(): void {
    if (!this.#hooks.autoRestart || this.#removed) return;
    this.#consecutiveCrashes += 1;
    const factor = 2 ** Math.min(this.#consecutiveCrashes - 1, 20);
    const delay = Math.min(this.#hooks.backoffMaxMs, this.#hooks.backoffInitialMs * factor);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#run(() => this.#restartAfterCrash()).catch(() => undefined);
    }, delay);
  }

  async #restartAfterCrash(): Promise<void> {
    if (this.state !== 'crashed' || this.#removed) return;
    try {
      await this.#spawn('supervisor');
    } catch {
      this.#scheduleRestart();
      return;
    }
    this.restartCount += 1;
    this.#emit('server.restarted', { reason: 'crash', pid: this.pid ?? null });
  }

  #cancelRestart(): void {
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
  }

  #setInventory(inventory: Inventory): void {
    const changed = inventoryKey(inventory) !== inventoryKey(this.inventory);
    this.inventory = inventory;
    if (changed) this.#hooks.inventoryChanged(this);
  }
}
