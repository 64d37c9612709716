/**
 * Upstream faults under steady load: the upstream process is killed (SIGKILL) and started again on the same
 * port 100 times while clients keep sending requests through a sidecar that runs as a real child process.
 * The sidecar never exits, answers 502 while the upstream is down, flips /readyz, recovers by itself, and
 * afterwards its counts equal the client's own tally, status by status: nothing lost, nothing doubled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { scrape, type Family } from '../fixtures/scrape.ts';
import { localArgs, spawnSidecar, type SpawnedSidecar } from '../fixtures/sidecar.ts';

const CHILD = fileURLToPath(new URL('../fixtures/upstream-child.ts', import.meta.url));
const CYCLES = Number(process.env['FAULT_CYCLES'] ?? 100);
const LOOPS = 4;

interface Child {
  readonly process: ChildProcess;
  readonly port: number;
  readonly exited: Promise<void>;
}

function startChild(port: number): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /"port":(\d+)/.exec(out);
      if (m !== null) resolve({ process: child, port: Number(m[1]), exited });
    });
    void exited.then(() => reject(new Error(`upstream child exited before listening: ${out}`)));
  });
}

let child: Child | undefined;
let sidecar: SpawnedSidecar | undefined;
const agent = new Agent({ keepAlive: true, maxSockets: LOOPS + 2 });
afterEach(async () => {
  await sidecar?.stop();
  child?.process.kill('SIGKILL');
  await child?.exited;
  sidecar = undefined;
  child = undefined;
});

/** One request through the proxy; resolves with its status, or `error` when none arrived. */
function send(base: string, method: string, path: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(`${base}${path}`, { method, agent, headers: method === 'POST' ? { 'content-type': 'text/plain' } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.statusCode)));
      res.on('error', () => resolve(String(res.statusCode)));
    });
    req.on('error', () => resolve('error'));
    req.end(method === 'POST' ? 'payload' : undefined);
  });
}

async function status(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  for (let waited = 0; !(await cond()); waited += 10) {
    if (waited >= ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function byStatus(families: Map<string, Family>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of families.get('mcp_http_requests_total')?.samples ?? []) {
    const code = s.labels['status_code'] ?? '?';
    out[code] = (out[code] ?? 0) + s.value;
  }
  return out;
}

describe('upstream faults', () => {
  it(`survives the upstream being killed and restarted ${CYCLES} times under load: 502 while down, /readyz flips, recovers by itself, counts equal the requests made`, async () => {
    child = await startChild(0);
    const port = child.port;
    sidecar = await spawnSidecar([...localArgs(`http://127.0.0.1:${port}`), '--probe-interval', '50ms', '--probe-timeout', '500ms']);
    const proxy = sidecar.proxyUrl;
    const readyz = sidecar.metricsUrl.replace(/\/metrics$/, '/readyz');

    const tally: Record<string, number> = {};
    const count = (s: string): void => void (tally[s] = (tally[s] ?? 0) + 1);
    let running = true;
    const loops = Array.from({ length: LOOPS }, async (_, loop) => {
      for (let i = 0; running && i < 1_000_000; i++) {
        count(await send(proxy, i % 5 === 4 ? 'POST' : 'GET', `/load/${loop}/${i % 7}?i=${i}`));
        await new Promise((r) => setTimeout(r, 2));
      }
    });

    let downAnswers = 0;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      await waitUntil(async () => (await status(readyz)) === 200, `/readyz 200 (cycle ${cycle})`);
      const served = tally['200'] ?? 0;
      await waitUntil(() => (tally['200'] ?? 0) > served, `the load to be served again (cycle ${cycle})`);
      const dying = child;
      dying.process.kill('SIGKILL');
      await dying.exited;
      await waitUntil(async () => (await status(readyz)) === 503, `/readyz 503 (cycle ${cycle})`);
      const down = await send(proxy, 'GET', `/while-down/${cycle}`);
      count(down);
      if (down === '502' || down === '504') downAnswers++;
      child = await startChild(port);
      if (process.env['FAULT_DEBUG'] !== undefined) console.error(`cycle ${cycle} ${JSON.stringify(tally)}`);
    }
    await waitUntil(async () => (await status(readyz)) === 200, '/readyz 200 after the last restart');
    running = false;
    await Promise.all(loops);
    expect(sidecar.child.exitCode).toBeNull();
    expect(sidecar.child.signalCode).toBeNull();
    expect(downAnswers).toBe(CYCLES);
    expect(tally['error'] ?? 0).toBe(0);

    // Every request the clients made is counted once, with the status they saw.
    const total = Object.values(tally).reduce((a, b) => a + b, 0);
    const s = sidecar;
    let counted: Record<string, number> = {};
    await waitUntil(async () => {
      counted = byStatus(await scrape(s.metricsUrl));
      return Object.values(counted).reduce((a, b) => a + b, 0) >= total;
    }, 'the counts to catch up');
    expect(counted).toEqual(tally);
    const f = await scrape(s.metricsUrl);
    const errors = f.get('sidecar_proxy_errors_total')?.samples ?? [];
    const kinds = Object.fromEntries(errors.map((e) => [e.labels['kind'], e.value]));
    expect(kinds['upstream_unavailable']).toBeGreaterThanOrEqual(CYCLES);
    // A figure for docs/security.md.
    console.log(JSON.stringify({ faults: CYCLES, requests: total, byStatus: tally, proxyErrors: kinds }));
  }, 240_000);
});
