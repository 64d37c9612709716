// An MCP client Transport over a child process's stdin/stdout, like the SDK's StdioClientTransport but
// spawned here so that the supervisor sees the exit code and signal (needed for `server.crashed`) and gets
// every stderr line (kept for GET /servers/{id}/logs). Framing uses the SDK's own ReadBuffer/serializeMessage.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ChildSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>> | undefined;
}

export class ChildProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  /** Called once per stderr line of the child. */
  onstderr?: (line: string) => void;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ChildExit>;

  #spec: ChildSpec;
  #child: ChildProcess | undefined;
  #buffer = new ReadBuffer();
  #resolveExit!: (exit: ChildExit) => void;
  #exit: ChildExit | undefined;

  constructor(spec: ChildSpec) {
    this.#spec = spec;
    this.exited = new Promise<ChildExit>((resolve) => {
      this.#resolveExit = resolve;
    });
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The exit status once the process has exited. */
  get exit(): ChildExit | undefined {
    return this.#exit;
  }

  start(): Promise<void> {
    if (this.#child) throw new Error('ChildProcessTransport already started');
    return new Promise<void>((resolve, reject) => {
      const child = spawn(this.#spec.command, [...this.#spec.args], {
        env: { ...process.env, ...this.#spec.env },
        stdio: ['pipe', 'pipe', 'pipe'],
        shell: false,
      });
      this.#child = child;
      child.once('error', (err) => {
        reject(err);
        this.onerror?.(err);
        this.#finish({ code: null, signal: null });
      });
      child.once('spawn', () => resolve());
      child.once('exit', (code, signal) => this.#finish({ code, signal }));
      child.stdin?.on('error', (err) => this.onerror?.(err));
      child.stdout?.on('data', (chunk: Buffer) => {
        try {
          this.#buffer.append(chunk);
          for (let msg = this.#buffer.readMessage(); msg !== null; msg = this.#buffer.readMessage()) this.onmessage?.(msg);
        } catch (err) {
          this.onerror?.(err instanceof Error ? err : new Error(String(err)));
        }
      });
      if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => this.onstderr?.(line));
    });
  }

  #finish(exit: ChildExit): void {
    if (this.#exit) return;
    this.#exit = exit;
    this.#buffer.clear();
    this.#resolveExit(exit);
    this.onclose?.();
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#child?.stdin;
    if (!stdin || this.#exit || !stdin.writable) throw new Error('Not connected');
    if (!stdin.write(serializeMessage(message))) await new Promise<void>((resolve) => stdin.once('drain', () => resolve()));
  }

  /** Sends a signal to the process (no-op once it has exited). */
  kill(signal: NodeJS.Signals): void {
    if (!this.#exit) this.#child?.kill(signal);
  }

  /**
   * Graceful stop: close stdin (the demo child exits on EOF), then SIGTERM after `graceMs`, then SIGKILL
   * after another `graceMs`. Resolves with the exit status.
   */
  async stop(graceMs = 2000): Promise<ChildExit> {
    if (this.#exit) return this.#exit;
    this.#child?.stdin?.end();
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const done = await Promise.race([this.exited, delay(graceMs)]);
      if (done) return done;
      this.kill(signal);
    }
    return this.exited;
  }

  async close(): Promise<void> {
    await this.stop();
  }
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}
