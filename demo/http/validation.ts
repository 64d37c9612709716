// Input checks with the real composer's answers: FastAPI 422 lists for query parameters, and a small
// JSON-Schema check of tool arguments worded like Python's jsonschema (`'a' is a required property`).
import type { ServerResponse } from 'node:http';
import { isRecord, sendJson } from './respond.ts';

/** An integer query parameter with bounds; answers 422 and returns undefined when invalid. */
export function intQuery(res: ServerResponse, query: URLSearchParams, name: string, fallback: number, ge: number, le?: number): number | undefined {
  const raw = query.get(name);
  if (raw === null) return fallback;
  const loc = ['query', name];
  if (!/^\s*[+-]?\d+\s*$/.test(raw)) {
    sendJson(res, 422, { detail: [{ type: 'int_parsing', loc, msg: 'Input should be a valid integer, unable to parse string as an integer', input: raw }] });
    return undefined;
  }
  const n = Number(raw);
  if (n < ge) {
    sendJson(res, 422, { detail: [{ type: 'greater_than_equal', loc, msg: `Input should be greater than or equal to ${ge}`, input: raw, ctx: { ge } }] });
    return undefined;
  }
  if (le !== undefined && n > le) {
    sendJson(res, 422, { detail: [{ type: 'less_than_equal', loc, msg: `Input should be less than or equal to ${le}`, input: raw, ctx: { le } }] });
    return undefined;
  }
  return n;
}

function typeOk(type: unknown, v: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'object':
      return isRecord(v);
    case 'array':
      return Array.isArray(v);
    case 'null':
      return v === null;
    default:
      return true;
  }
}

function pyLiteral(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  return JSON.stringify(v);
}

/** The first problem of `args` against a tool's input schema, or undefined when they fit. */
export function checkArguments(schema: unknown, args: Record<string, unknown>): string | undefined {
  if (!isRecord(schema)) return undefined;
  const required = Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : [];
  for (const name of required) if (!(name in args)) return `'${name}' is a required property`;
  const props = isRecord(schema.properties) ? schema.properties : {};
  for (const [name, value] of Object.entries(args)) {
    const prop = props[name];
    if (!isRecord(prop)) continue;
    const types = Array.isArray(prop.type) ? prop.type : [prop.type];
    if (prop.type !== undefined && !types.some((t) => typeOk(t, value))) {
      return `${pyLiteral(value)} is not of type ${types.map((t) => `'${String(t)}'`).join(', ')}`;
    }
    if (typeof value === 'number' && typeof prop.minimum === 'number' && value < prop.minimum) return `${value} is less than the minimum of ${prop.minimum}`;
    if (typeof value === 'number' && typeof prop.maximum === 'number' && value > prop.maximum) return `${value} is greater than the maximum of ${prop.maximum}`;
  }
  return undefined;
}

/**
 * The arguments of an invoke body, accepting both shapes: `{"arguments": {...}}` (the real code) or the
 * arguments object itself (the docs). A body whose only keys are `arguments` (an object or null) and
 * optionally `timeout` is the code shape.
 */
export function invokeArguments(body: Record<string, unknown>): Record<string, unknown> {
  const keys = Object.keys(body);
  const wrapped = keys.includes('arguments') && keys.every((k) => k === 'arguments' || k === 'timeout');
  if (wrapped && (isRecord(body.arguments) || body.arguments === null)) return isRecord(body.arguments) ? body.arguments : {};
  return body;
}
