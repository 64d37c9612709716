// /api/v1/config (get, put, validate, reload) and /api/v1/translators (kept in memory; plausible shapes).
import type { ComposerContext } from '../context.ts';
import { bodyMissing, bodyNotObject, isRecord, naiveIso, readJson, sendDetail, sendJson } from './respond.ts';
import type { RouteContext, Router } from './router.ts';

/** A config body may be `{"config": {...}}` or the config itself. */
function configOf(body: Record<string, unknown>): unknown {
  return Object.keys(body).length === 1 && isRecord(body.config) ? body.config : body;
}

/** Reads a required JSON-object body; answers 422 and returns undefined otherwise. */
async function objectBody({ req, res }: RouteContext): Promise<Record<string, unknown> | undefined> {
  const body = await readJson(req, res);
  if (!body.ok) return undefined;
  if (body.empty) {
    bodyMissing(res);
    return undefined;
  }
  if (!isRecord(body.value)) {
    bodyNotObject(res, body.value);
    return undefined;
  }
  return body.value;
}

interface Translator {
  readonly name: string;
  readonly type: 'stdio-to-sse' | 'sse-to-stdio';
  readonly status: 'running';
  readonly created_at: string;
  readonly config: Record<string, unknown>;
}

export function addConfigRoutes(router: Router, ctx: ComposerContext): void {
  router.add('GET', '/api/v1/config', ({ res }) => sendJson(res, 200, { config: ctx.config.current }));

  router.add('PUT', '/api/v1/config', async (rc) => {
    const body = await objectBody(rc);
    if (!body) return;
    const result = await ctx.config.replace(configOf(body));
    if (!result.ok) return sendJson(rc.res, 400, { error: 'configuration_error', message: result.message });
    sendJson(rc.res, 200, { config: result.config });
  });

  router.add('POST', '/api/v1/config/validate', async (rc) => {
    const body = await objectBody(rc);
    if (!body) return;
    const check = ctx.config.validate(configOf(body));
    const answer = { valid: check.ok, errors: check.ok ? [] : check.errors };
    sendJson(rc.res, !check.ok && ctx.options.apiShape === 'doc' ? 400 : 200, answer);
  });

  router.add('POST', '/api/v1/config/reload', async ({ res }) => {
    const result = await ctx.config.reload('api');
    if (!result.ok) return sendJson(res, 400, { error: 'configuration_error', message: result.message });
    sendJson(res, 200, { success: true, message: 'Configuration reloaded successfully', reloaded_at: naiveIso(result.reloadedAt) });
  });

  const translators = new Map<string, Translator>();
  router.add('GET', '/api/v1/translators', ({ res }) => {
    sendJson(res, 200, { translators: [...translators.values()], total: translators.size });
  });
  for (const type of ['stdio-to-sse', 'sse-to-stdio'] as const) {
    router.add(
      'POST',
      `/api/v1/translators/${type}`,
      async (rc) => {
        const body = await objectBody(rc);
        if (!body) return;
        if (typeof body.name !== 'string' || body.name === '') {
          return sendJson(rc.res, 422, { detail: [{ type: 'missing', loc: ['body', 'name'], msg: 'Field required', input: body }] });
        }
        if (translators.has(body.name)) return sendDetail(rc.res, 400, `Translator '${body.name}' already exists`);
        const t: Translator = { name: body.name, type, status: 'running', created_at: naiveIso(new Date()), config: body };
        translators.set(t.name, t);
        sendJson(rc.res, 200, t);
      },
      { resource: 'translators' },
    );
  }
  router.add('DELETE', '/api/v1/translators/{name}', ({ res, params }) => {
    const name = params.name ?? '';
    if (!translators.delete(name)) return sendDetail(res, 404, `Translator '${name}' not found`);
    sendJson(res, 200, { success: true, message: `Translator '${name}' removed` });
  });
  router.add('POST', '/api/v1/translators/{name}/translate', async (rc) => {
    const name = rc.params.name ?? '';
    const body = await objectBody(rc);
    if (!body) return;
    if (!translators.has(name)) return sendDetail(rc.res, 404, `Translator '${name}' not found`);
    sendJson(rc.res, 200, { success: true, translator: name, message: body });
  });
}
