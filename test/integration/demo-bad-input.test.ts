// Bad input to the demo composer gets the real composer's status codes and bodies (FastAPI 422 lists,
// {"detail": ...} 404/400/405, configuration_error 400) and never takes the emulator down.
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoState, requestJson, startDemoComposer, type DemoComposer } from '../fixtures/demo-composer.ts';
import { openEventStream } from '../fixtures/event-stream.ts';

describe('demo composer bad input', () => {
  let composer: DemoComposer;
  const send = (method: string, path: string, body?: string) =>
    requestJson(`${composer.url}${path}`, { method, ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }) });

  beforeAll(async () => {
    composer = await startDemoComposer(['--servers', '2', '--test-control']);
  });
  afterAll(() => composer.close());

  it('malformed JSON bodies answer 422 like FastAPI', async () => {
    for (const path of ['/api/v1/tools/calc.add/invoke', '/api/v1/config/validate']) {
      const r = await send('POST', path, '{"arguments": ');
      expect(r.status, path).toBe(422);
      expect(r.body).toEqual({ detail: [{ type: 'json_invalid', loc: ['body', 14], msg: 'JSON decode error', input: {}, ctx: { error: 'Expecting value' } }] });
    }
    expect((await send('PUT', '/api/v1/config', '{bad')).status).toBe(422);
  });

  it('a missing or non-object body answers 422', async () => {
    expect(await send('POST', '/api/v1/config/validate')).toMatchObject({
      status: 422,
      body: { detail: [{ type: 'missing', loc: ['body'], msg: 'Field required' }] },
    });
    expect(await send('POST', '/api/v1/tools/calc.add/invoke', '[1,2]')).toMatchObject({
      status: 422,
      body: { detail: [{ type: 'dict_type', loc: ['body'] }] },
    });
  });

  it('unknown tools, prompts and resources answer 404 with a detail', async () => {
    expect(await send('GET', '/api/v1/tools/calc.nope')).toMatchObject({ status: 404, body: { detail: "Tool 'calc.nope' not found" } });
    expect(await send('POST', '/api/v1/tools/nope/invoke', '{}')).toMatchObject({ status: 404, body: { detail: "Tool 'nope' not found" } });
    expect(await send('GET', '/api/v1/prompts/calc.nope')).toMatchObject({ status: 404, body: { detail: "Prompt 'calc.nope' not found" } });
    expect(await send('GET', `/api/v1/resources/${encodeURIComponent('file:///nope')}`)).toMatchObject({
      status: 404,
      body: { detail: "Resource 'file:///nope' not found" },
    });
  });

  it('arguments that break the tool schema answer 400', async () => {
    const r = await send('POST', '/api/v1/tools/calc.add/invoke', JSON.stringify({ arguments: { a: 'one', b: 2 } }));
    expect(r).toMatchObject({ status: 400, body: { detail: "Invalid arguments for tool 'calc.add': 'one' is not of type 'number'" } });
  });

  it('bad pagination answers 422 with the query location', async () => {
    expect(await send('GET', '/api/v1/tools?limit=abc')).toMatchObject({
      status: 422,
      body: { detail: [{ type: 'int_parsing', loc: ['query', 'limit'], input: 'abc' }] },
    });
    expect(await send('GET', '/api/v1/tools?limit=0')).toMatchObject({
      status: 422,
      body: { detail: [{ type: 'greater_than_equal', loc: ['query', 'limit'], ctx: { ge: 1 } }] },
    });
    expect(await send('GET', '/api/v1/prompts?offset=-1')).toMatchObject({ status: 422, body: { detail: [{ loc: ['query', 'offset'] }] } });
  });

  it('unknown routes answer 404 and wrong methods 405, as Starlette does', async () => {
    expect(await send('GET', '/api/v1/nothing/here')).toMatchObject({ status: 404, body: { detail: 'Not Found' } });
    expect(await send('GET', '/somewhere')).toMatchObject({ status: 404, body: { detail: 'Not Found' } });
    const r = await send('DELETE', '/api/v1/tools');
    expect(r).toMatchObject({ status: 405, body: { detail: 'Method Not Allowed' } });
    expect(r.headers.get('allow')).toBe('GET');
  });

  it('an invalid config is refused by PUT with 400 configuration_error and leaves the config as it was', async () => {
    const before = await send('GET', '/api/v1/config');
    const r = await send('PUT', '/api/v1/config', JSON.stringify({ config: { servers: [{ id: 'bad id', command: '' }] } }));
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      error: 'configuration_error',
      message:
        'Invalid configuration: servers.0.id: "bad id" must match ^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$; servers.0.command: field required (a non-empty string)',
    });
    expect((await send('GET', '/api/v1/config')).body).toEqual(before.body);
    const validate = await send('POST', '/api/v1/config/validate', JSON.stringify({ servers: 'x' }));
    expect(validate).toMatchObject({ status: 200, body: { valid: false, errors: ['servers: must be a list'] } });
  });

  it('an invalid config file makes POST /config/reload answer 400 and emit config.validation_failed and config.reloaded(success false)', async () => {
    const file = (await demoState(composer.url)).config_path;
    const original = await readFile(file, 'utf8');
    const stream = await openEventStream(`${composer.url}/api/v1/events`);
    try {
      await stream.next((e) => e.event === 'snapshot');
      await writeFile(file, JSON.stringify({ servers: [{ id: 'x' }] }));
      const failed = await stream.next((e) => e.event === 'config.reloaded');
      expect((failed.json as { data: unknown }).data).toMatchObject({ success: false, trigger: 'file_watch' });
      const r = await send('POST', '/api/v1/config/reload');
      expect(r).toMatchObject({
        status: 400,
        body: { error: 'configuration_error', message: 'Invalid configuration: servers.0.command: field required (a non-empty string)' },
      });
      const api = await stream.next((e) => e.event === 'config.reloaded' && (e.json as { data: { trigger: string } }).data.trigger === 'api');
      expect((api.json as { data: unknown }).data).toMatchObject({ success: false, trigger: 'api', error: expect.stringContaining('servers.0.command') });
      expect(stream.events.filter((e) => e.event === 'config.validation_failed').map((e) => (e.json as { data: unknown }).data)).toEqual([
        { error_type: 'validation_error', errors: ['servers.0.command: field required (a non-empty string)'] },
        { error_type: 'validation_error', errors: ['servers.0.command: field required (a non-empty string)'] },
      ]);
      await writeFile(file, original);
      const ok = await send('POST', '/api/v1/config/reload');
      expect(ok).toMatchObject({ status: 200, body: { success: true, message: 'Configuration reloaded successfully' } });
      expect((ok.body as { reloaded_at: string }).reloaded_at).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+$/);
    } finally {
      stream.close();
    }
  });

  it('a body larger than 4 MiB answers 413', async () => {
    const r = await send('POST', '/api/v1/config/validate', `{"x":"${'a'.repeat(4 * 1024 * 1024)}"}`);
    expect(r.status).toBe(413);
  });

  it('after all of it the composer is still up with every child running', async () => {
    expect((await send('GET', '/api/v1/health')).status).toBe(200);
    expect((await demoState(composer.url)).servers.map((s) => s.state)).toEqual(['running', 'running']);
  });
});
