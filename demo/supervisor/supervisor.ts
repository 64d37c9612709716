// The set of supervised servers: starts them all, applies a new config (added servers start, removed
// ones stop, changed ones restart with reason `config_change`, all with trigger `config`), deletes one
// on request, and stops everything at shutdown.
import type { ComposerConfig, ServerConfig } from '../config.ts';
import { ManagedServer, type ServerHooks } from './managed-server.ts';

export interface SupervisorHooks extends Omit<ServerHooks, 'inventoryChanged'> {
  /** A server's inventory changed, or the server was removed (`removed` true). */
  readonly inventoryChanged: (serverId: string, removed: boolean) => void;
}

function sameSpec(a: ServerConfig, b: ServerConfig): boolean {
  return JSON.stringify([a.command, a.args, a.env ?? {}]) === JSON.stringify([b.command, b.args, b.env ?? {}]);
}

export class Supervisor {
  #servers = new Map<string, ManagedServer>();
  #hooks: SupervisorHooks;
  #serverHooks: ServerHooks;

  constructor(hooks: SupervisorHooks) {
    this.#hooks = hooks;
    this.#serverHooks = { ...hooks, inventoryChanged: (s) => hooks.inventoryChanged(s.id, false) };
  }

  list(): ManagedServer[] {
    return [...this.#servers.values()];
  }

  get(id: string): ManagedServer | undefined {
    return this.#servers.get(id);
  }

  #add(spec: ServerConfig): ManagedServer {
    const server = new ManagedServer(spec, this.#serverHooks);
    this.#servers.set(spec.id, server);
    return server;
  }

  /** Starts every server of `config` (trigger `startup`); failures leave the server stopped with last_error. */
  async startAll(config: ComposerConfig): Promise<void> {
    const servers = config.servers.map((spec) => this.#add(spec));
    await Promise.all(servers.map((s) => s.start('startup').catch(() => undefined)));
  }

  /** Brings the running set in line with `config`. Resolves when every change is done (failures included). */
  async apply(config: ComposerConfig): Promise<void> {
    const wanted = new Map(config.servers.map((s) => [s.id, s]));
    const work: Promise<unknown>[] = [];
    for (const server of this.list()) {
      if (!wanted.has(server.id)) work.push(this.#remove(server, 'config'));
    }
    for (const spec of config.servers) {
      const existing = this.#servers.get(spec.id);
      if (!existing) {
        work.push(this.#add(spec).start('config'));
      } else if (!sameSpec(existing.spec, spec)) {
        existing.spec = spec;
        work.push(existing.restart('config', 'config_change'));
      }
    }
    await Promise.all(work.map((p) => p.catch(() => undefined)));
  }

  async #remove(server: ManagedServer, trigger: 'api' | 'config'): Promise<void> {
    await server.remove(trigger);
    if (this.#servers.get(server.id) === server) this.#servers.delete(server.id);
    this.#hooks.inventoryChanged(server.id, true);
  }

  /** DELETE /servers/{id}: false when there is no such server. */
  async delete(id: string): Promise<boolean> {
    const server = this.#servers.get(id);
    if (!server) return false;
    await this.#remove(server, 'api');
    return true;
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.list().map((s) => s.shutdown().catch(() => undefined)));
  }
}
