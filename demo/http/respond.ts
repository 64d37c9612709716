// Small HTTP helpers shared by every route: JSON answers, body reading with a size limit, and the exact
// error bodies of FastAPI/Starlette (404/405 `{"detail": ...}`, 422 validation lists).
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body read, in bytes (4 MiB, like the MCP SDK's limit). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

export function notFound(res: ServerResponse): void {
  sendJson(res, 404, { detail: 'Not Found' });
}

export function methodNotAllowed(res: ServerResponse, allowed: readonly string[]): void {
  sendJson(res, 405, { detail: 'Method Not Allowed' }, { allow: allowed.join(', ') });
}

/** FastAPI's HTTPException body. */
export function sendDetail(res: ServerResponse, status: number, detail: string): void {
  sendJson(res, status, { detail });
}

export class BodyTooLarge extends Error {}

/** Reads the whole body (at most MAX_BODY_BYTES, else BodyTooLarge). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge(`request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Python's json error wording for the most common JSON.parse failures. */
function pythonJsonError(message: string): string {
  if (/property name/i.test(message)) return 'Expecting property name enclosed in double quotes';
  if (/Unterminated string/i.test(message)) return 'Unterminated string starting at';
  if (/after JSON|non-whitespace/i.test(message)) return 'Extra data';
  if (/Expected ',' or '}'/i.test(message)) return "Expecting ',' delimiter";
  return 'Expecting value';
}

export type JsonBody = { readonly ok: true; readonly value: unknown; readonly empty: boolean } | { readonly ok: false };

/**
 * Reads and parses a JSON body. An empty body yields `{ok: true, value: undefined, empty: true}`. Malformed
 * JSON answers 422 exactly as FastAPI does and yields `{ok: false}`; so does a body over the size limit (413).
 */
export async function readJson(req: IncomingMessage, res: ServerResponse): Promise<JsonBody> {
  let raw: Buffer;
  try {
    raw = await readBody(req);
  } catch (err) {
    if (err instanceof BodyTooLarge) sendDetail(res, 413, 'Request Entity Too Large');
    else res.destroy();
    return { ok: false };
  }
  (req as IncomingMessage & { bodyBytes?: number }).bodyBytes = raw.length;
  const text = raw.toString('utf8');
  if (text.trim() === '') return { ok: true, value: undefined, empty: true };
  try {
    return { ok: true, value: JSON.parse(text) as unknown, empty: false };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const at = /position (\d+)/.exec(message);
    const pos = at ? Number(at[1]) : /end of JSON input/i.test(message) ? text.length : 0;
    sendJson(res, 422, {
      detail: [{ type: 'json_invalid', loc: ['body', pos], msg: 'JSON decode error', input: {}, ctx: { error: pythonJsonError(message) } }],
    });
    return { ok: false };
  }
}

/** 422 for a required body that is missing. */
export function bodyMissing(res: ServerResponse): void {
  sendJson(res, 422, { detail: [{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }] });
}

/** 422 for a body that is not a JSON object. */
export function bodyNotObject(res: ServerResponse, input: unknown): void {
  sendJson(res, 422, { detail: [{ type: 'dict_type', loc: ['body'], msg: 'Input should be a valid dictionary', input }] });
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Python's `datetime.utcnow().isoformat()`: naive (no `Z`), microseconds. */
export function naiveIso(d: Date): string {
  return d.toISOString().replace('Z', '000');
}
