/**
 * The I/O of `mcp-composer-sidecar check`: asks the composer what it serves, as the sidecar would, and
 * nothing it would act on. Source detection is the sidecar's own (sources/detect/detect.ts); the other probes are
 * as harmless:
 * - `GET /api/v1/status` without and with the upstream token (read-only), to tell whether REST needs one;
 * - `GET {events path}` with the token, read to its status line and closed, for the stream's answer;
 * - for each MCP transport the composer has, a POST that no MCP server can act on — a body that is not
 *   JSON, on `/mcp` without a session (parse error, no session is created) and on
 *   `/messages/?session_id=` + a session id nobody holds — sent with the upstream's own `Host`, with a
 *   foreign `Host` (DNS-rebinding protection answers 421) and with a foreign `Origin` (403);
 * - when the upstream is on loopback, the same read-only probe to its port on each non-loopback address of
 *   this host: an answer there means clients can reach the composer around the sidecar.
 * No MCP session is opened, nothing is started, stopped or invoked.
 */
import { networkInterfaces } from 'node:os';
import { Client } from 'undici';
import { detectSources } from '../sources/detect/detect.ts';
import type { Surface } from '../sources/surfaces.ts';

/** What an HTTP probe got: a status, or why there was none. */
export interface Answer {
  readonly status: number | undefined;
  /** The connection error's code when there was no answer (`ECONNREFUSED`, `timeout`, …). */
  readonly error?: string;
}

export interface McpProbe {
  /** With the upstream's own Host, as the sidecar sends it. */
  readonly ownHost: Answer;
  /** With a foreign Host (what a client's Host would be with --preserve-host). */
  readonly foreignHost: Answer;
  /** With the upstream's Host and a foreign Origin. */
  readonly foreignOrigin: Answer;
}

export interface ProbeResults {
  /** Any answer at all from the upstream. */
  readonly reachable: boolean;
  /** Why it was not reachable (the probe path's connection error). */
  readonly unreachableBecause: string | undefined;
  /** The probe path's answer (`--probe-path`): the sidecar's readiness follows it. */
  readonly probePath: Answer;
  readonly detected: Partial<Record<Surface, boolean>>;
  /** `GET /api/v1/status` without a token, and with the upstream token when one is configured. */
  readonly restAnonymous: Answer | undefined;
  readonly restWithToken: Answer | undefined;
  /** `GET {events path}` as the subscriber sends it. */
  readonly events: Answer | undefined;
  readonly mcp: Partial<Record<'sse' | 'streamable_http', McpProbe>>;
  /** Whether the upstream's host is a loopback address (only then can the bypass be checked from here). */
  readonly loopback: boolean;
  /** The upstream's port on this host's other addresses, and what each answered. */
  readonly elsewhere: readonly { readonly url: string; readonly answer: Answer }[];
}

export interface ProbeOptions {
  readonly origin: URL;
  readonly eventsPath: string;
  readonly probePath: string;
  readonly mcpPathPrefix: string;
  readonly timeoutMs: number;
  readonly token: string | undefined;
}

/** A host name no resolver answers for (RFC 2606), as a client's Host or Origin would be. */
export const FOREIGN_HOST = 'mcp-composer-sidecar-check.invalid';
const NOT_JSON = 'mcp-composer-sidecar check: not a JSON-RPC message';
const NO_SESSION = '00000000000000000000000000000000';

type Ask = (method: string, path: string, headers?: Record<string, string>, body?: string) => Promise<Answer>;

function asker(origin: string, timeoutMs: number): { ask: Ask; close: () => Promise<void> } {
  const client = new Client(origin, { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs } });
  const ask: Ask = async (method, path, headers = {}, body) => {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      const res = await client.request({
        method,
        path,
        headers: { 'user-agent': 'mcp-composer-sidecar-check', ...headers },
        body: body ?? null,
        signal: ac.signal,
      });
      // Only the status matters; streams (SSE) never end by themselves, so the body is dropped at once.
      res.body.on('error', () => undefined);
      res.body.destroy();
      return { status: res.statusCode };
    } catch (err) {
      const code = ac.signal.aborted ? 'timeout' : ((err as { code?: unknown }).code ?? 'error');
      return { status: undefined, error: String(code) };
    } finally {
      clearTimeout(timer);
    }
  };
  return { ask, close: () => client.destroy().catch(() => undefined) };
}

/** Whether a host (as a URL spells it) is a loopback address or `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::1' || h === '0:0:0:0:0:0:0:1';
}

/** This host's addresses that are not loopback (IPv6 link-local ones need a scope and are left out). */
export function otherAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal || (a.family === 'IPv6' && /^fe80:/i.test(a.address))) continue;
      out.push(a.family === 'IPv6' ? `[${a.address}]` : a.address);
    }
  }
  return out;
}

function joinPath(prefix: string, path: string): string {
  return `${prefix.replace(/\/+$/, '')}${path}`;
}

async function probeMcp(ask: Ask, path: string, host: string): Promise<McpProbe> {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const [ownHost, foreignHost, foreignOrigin] = await Promise.all([
    ask('POST', path, headers, NOT_JSON),
    ask('POST', path, { ...headers, host: FOREIGN_HOST }, NOT_JSON),
    ask('POST', path, { ...headers, host, origin: `http://${FOREIGN_HOST}` }, NOT_JSON),
  ]);
  return { ownHost, foreignHost, foreignOrigin };
}

export async function probeComposer(opts: ProbeOptions): Promise<ProbeResults> {
  const { ask, close } = asker(opts.origin.origin, opts.timeoutMs);
  const auth: Record<string, string> = opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` };
  try {
    const [probePath, { surfaces: detected }] = await Promise.all([
      ask('GET', opts.probePath, { accept: 'application/json' }),
      detectSources({
        origin: opts.origin,
        eventsPath: opts.eventsPath,
        mcpPathPrefix: opts.mcpPathPrefix,
        timeoutMs: opts.timeoutMs,
        ...(opts.token === undefined ? {} : { token: () => opts.token }),
      }),
    ]);
    const reachable = probePath.status !== undefined || Object.keys(detected).length > 0;
    const restAnonymous = detected.rest === true ? await ask('GET', '/api/v1/status', { accept: 'application/json' }) : undefined;
    const restWithToken =
      detected.rest === true && opts.token !== undefined ? await ask('GET', '/api/v1/status', { accept: 'application/json', ...auth }) : undefined;
    const events = detected.events === true ? await ask('GET', opts.eventsPath, { accept: 'text/event-stream', ...auth }) : undefined;
    const mcp: Partial<Record<'sse' | 'streamable_http', McpProbe>> = {};
    const host = opts.origin.host;
    if (detected.streamable_http === true) mcp.streamable_http = await probeMcp(ask, joinPath(opts.mcpPathPrefix, '/mcp'), host);
    if (detected.sse === true) mcp.sse = await probeMcp(ask, `${joinPath(opts.mcpPathPrefix, '/messages/')}?session_id=${NO_SESSION}`, host);
    const loopback = isLoopbackHost(opts.origin.hostname);
    const elsewhere = loopback && reachable ? await probeElsewhere(opts) : [];
    return {
      reachable,
      unreachableBecause: reachable ? undefined : probePath.error,
      probePath,
      detected,
      restAnonymous,
      restWithToken,
      events,
      mcp,
      loopback,
      elsewhere,
    };
  } finally {
    await close();
  }
}

/** The upstream's port on each non-loopback address of this host, asked the probe path. */
async function probeElsewhere(opts: ProbeOptions): Promise<{ url: string; answer: Answer }[]> {
  const port = opts.origin.port === '' ? (opts.origin.protocol === 'https:' ? '443' : '80') : opts.origin.port;
  return Promise.all(
    otherAddresses().map(async (address) => {
      const url = `${opts.origin.protocol}//${address}:${port}`;
      const { ask, close } = asker(url, Math.min(opts.timeoutMs, 2000));
      try {
        return { url, answer: await ask('GET', opts.probePath, { accept: 'application/json' }) };
      } finally {
        await close();
      }
    }),
  );
}
