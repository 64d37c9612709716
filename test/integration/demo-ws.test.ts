// The demo composer's WebSocket streams /ws/logs and /ws/metrics (JSON text frames), and 404 for any
// other upgrade.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestJson, startDemoComposer, type DemoComposer } from '../fixtures/demo-composer.ts';

/** Opens a WebSocket and resolves with the first message whose JSON satisfies `pred` (bounded). */
function firstMessage(url: string, pred: (m: Record<string, unknown>) => boolean, onOpen?: () => void): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`no matching message on ${url}`));
    }, 10_000);
    ws.onopen = () => onOpen?.();
    ws.onerror = () => {
      clearTimeout(timer);
      reject(new Error(`WebSocket error on ${url}`));
    };
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data)) as Record<string, unknown>;
      if (pred(m)) {
        clearTimeout(timer);
        ws.close();
        resolve(m);
      }
    };
  });
}

describe('demo composer WebSocket streams', () => {
  let composer: DemoComposer;
  beforeAll(async () => {
    composer = await startDemoComposer(['--servers', '1']);
  });
  afterAll(() => composer.close());

  it('/ws/metrics pushes the JSON metrics summary', async () => {
    const m = await firstMessage(`${composer.url.replace('http', 'ws')}/ws/metrics`, (x) => x.type === 'metrics');
    expect(m.data).toHaveProperty('tool_invocations_total');
    expect(m.timestamp).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+$/);
  });

  it('/ws/logs streams the log lines of the servers', async () => {
    const m = await firstMessage(
      `${composer.url.replace('http', 'ws')}/ws/logs?server_id=calc`,
      (x) => String(x.message).includes('fail tool called'),
      () => {
        void requestJson(`${composer.url}/api/v1/tools/calc.fail/invoke`, { method: 'POST', body: '{"arguments":{}}' });
      },
    );
    expect(m).toMatchObject({ type: 'log', server_id: 'calc', level: 'WARNING' });
  });

  it('any other upgrade is refused', async () => {
    await expect(firstMessage(`${composer.url.replace('http', 'ws')}/ws/nope`, () => true)).rejects.toThrow(/WebSocket error/);
  });
});
