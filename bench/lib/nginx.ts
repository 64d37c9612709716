/**
 * nginx for the benchmark, in two roles, each its own instance with a generated configuration in a
 * temporary directory (never the system's /etc/nginx), one worker, no access log:
 *
 * - `upstream`: the fast origin every proxy is measured against. It answers a fixed 1 KiB JSON body on
 *   every path, echoes POST bodies on `/bench/echo` when Debian's `libnginx-mod-http-echo` is installed,
 *   and answers the sidecar's own requests (probe, inventory poll, source detection) with small valid
 *   composer answers, so that the sidecar runs with all its sources on and they cost next to nothing.
 *   `/api/v1/events`, `/sse` and `/mcp` answer 404: nginx serves no streams (the sidecar then re-asks
 *   every `--events-reprobe-interval`, 60 s).
 * - `proxy`: nginx as a reverse proxy with upstream keep-alive (the reference the issue compares with),
 *   configured as it must be in front of a composer and as the sidecar behaves: streaming both ways
 *   (`proxy_buffering off`, `proxy_request_buffering off`, so SSE events pass as they come) and long-lived
 *   responses allowed (`proxy_read_timeout 1h`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childrenOf, freePort, sleep, spawnPinned, stopChild } from './proc.ts';

/** The fixed body of the upstream: 1024 bytes of JSON. */
export const BODY_1K = `{"data":"${'x'.repeat(1024 - 11)}"}`;

const ECHO_MODULE = '/usr/lib/nginx/modules/ngx_http_echo_module.so';

/** Small, valid answers to the sidecar's own requests (inventory poll, probe, detection). */
export const COMPOSER_ANSWERS: Readonly<Record<string, string>> = {
  '/api/v1/health': '{"status":"healthy"}',
  '/api/v1/version': '{"version":"bench","platform":"linux"}',
  '/api/v1/status':
    '{"servers":{"total":1,"running":1,"stopped":0,"statuses":{"bench":"running"}},"capabilities":{"tools":1,"prompts":0,"resources":0},"uptime_seconds":1}',
  '/api/v1/servers': '{"servers":[{"id":"bench","status":"running","pid":1,"restart_count":0}]}',
  '/api/v1/composition': '{"conflicts":[]}',
  '/api/v1/tools': '{"tools":[{"name":"bench.t","server_id":"bench"}],"total":1}',
  '/api/v1/prompts': '{"prompts":[],"total":0}',
  '/api/v1/resources': '{"resources":[],"total":0}',
};

/** The nginx binary, or `undefined` when nginx is not installed. */
export function nginxBinary(): string | undefined {
  for (const candidate of ['/usr/sbin/nginx', '/usr/bin/nginx', 'nginx']) {
    const r = spawnSync(candidate, ['-v'], { stdio: 'ignore' });
    if (r.error === undefined && r.status === 0) return candidate;
  }
  return undefined;
}

export function hasEchoModule(): boolean {
  return existsSync(ECHO_MODULE);
}

export interface NginxInstance {
  readonly url: string;
  readonly port: number;
  /** The worker's pid (CPU and memory are read from it). */
  readonly workerPid: number;
  /** Whether `/bench/echo` echoes bodies (upstream role). */
  readonly echoes: boolean;
  stop(): Promise<void>;
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function commonHead(dir: string, echo: boolean): string {
  return `${echo ? `load_module ${ECHO_MODULE};\n` : ''}worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 8192; multi_accept on; }
http {
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 75s;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
`;
}

function upstreamConfig(dir: string, port: number, echo: boolean): string {
  const answers = Object.entries(COMPOSER_ANSWERS)
    .map(([path, body]) => `    location = ${path} { default_type application/json; return 200 ${quote(body)}; }`)
    .join('\n');
  return `${commonHead(dir, echo)}
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    client_max_body_size 16m;
    client_body_buffer_size 64k;
${answers}
    location = /api/v1/events { return 404; }
    location = /sse { return 404; }
    location = /mcp { return 404; }
${echo ? '    location = /bench/echo { default_type application/octet-stream; echo_read_request_body; echo_request_body; }\n' : ''}    location / { default_type application/json; return 200 ${quote(BODY_1K)}; }
  }
}
`;
}

function proxyConfig(dir: string, port: number, upstreamPort: number): string {
  return `${commonHead(dir, false)}
  upstream composer {
    server 127.0.0.1:${upstreamPort};
    keepalive 128;
    keepalive_requests 10000000;
    keepalive_timeout 75s;
  }
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    client_max_body_size 16m;
    location / {
      proxy_pass http://composer;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 1h;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
    }
  }
}
`;
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface NginxOptions {
  readonly role: 'upstream' | 'proxy';
  /** CPU list for taskset. */
  readonly cpus: string | undefined;
  /** Port of the upstream (role `proxy`). */
  readonly upstreamPort?: number;
}

/** Starts an nginx instance in the foreground (`daemon off`), its files in a fresh temp directory. */
export async function startNginx(bin: string, opts: NginxOptions): Promise<NginxInstance> {
  const dir = mkdtempSync(join(tmpdir(), `bench-nginx-${opts.role}-`));
  const port = await freePort();
  const echo = opts.role === 'upstream' && hasEchoModule();
  const conf = opts.role === 'upstream' ? upstreamConfig(dir, port, echo) : proxyConfig(dir, port, opts.upstreamPort ?? 0);
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawnPinned(opts.cpus, bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const deadline = Date.now() + 10_000;
  while (!(await acceptsConnections(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx (${opts.role}) did not start: ${stderr}${log}`.slice(0, 1500));
    }
    await sleep(50);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('nginx did not spawn');
  let workers = childrenOf(pid);
  for (let i = 0; i < 40 && workers.length === 0; i++) {
    await sleep(25);
    workers = childrenOf(pid);
  }
  const workerPid = workers[0];
  if (workerPid === undefined) throw new Error('nginx started without a worker');
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    workerPid,
    echoes: echo,
    async stop() {
      // SIGQUIT is nginx's graceful stop; the master waits for its worker.
      if (child.exitCode === null) child.kill('SIGQUIT');
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(3000)]);
      await stopChild(child, 1000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
