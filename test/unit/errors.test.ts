/**
 * The error table (src/errors.ts): every code is used in src/, every answer the sidecar gives itself is
 * in the table under its own code, and no source file writes an error status or body of its own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorAnswers, ErrorCodes, parserRefusal } from '../../src/errors.ts';
import { ROOT } from '../fixtures/sidecar.ts';

const SRC = join(ROOT, 'src');
const ERRORS = join(SRC, 'errors.ts');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The text of errors.ts without its two tables (their entries define codes; they are not uses). */
function errorsOutsideTables(): string {
  const text = readFileSync(ERRORS, 'utf8');
  return text.replace(/export const ErrorCodes = \{[\s\S]*?\n\} as const;/, '').replace(/export const ErrorAnswers = \{[\s\S]*?\n\} as const[^;]*;/, '');
}

const OTHERS = sources(SRC).filter((f) => f !== ERRORS);
const other = OTHERS.map((f) => ({ file: relative(ROOT, f), text: readFileSync(f, 'utf8') }));

describe('the error table', () => {
  it('names every code after itself, and gives every answer under its own code', () => {
    for (const [key, code] of Object.entries(ErrorCodes)) expect(code).toBe(key);
    for (const [key, answer] of Object.entries(ErrorAnswers)) {
      expect(answer.code).toBe(key);
      expect(answer.status).toBeGreaterThanOrEqual(400);
      if ('error' in answer) expect(answer.body).toBe(JSON.stringify({ error: answer.error }));
    }
  });

  it('has no code that src/ never uses', () => {
    const uses = `${errorsOutsideTables()}\n${other.map((o) => o.text).join('\n')}`;
    const unused = Object.keys(ErrorCodes).filter((code) => !new RegExp(`\\b${code}\\b`).test(uses));
    expect(unused).toEqual([]);
  });

  it('is the only place an error body or status is written: no source file builds one of its own', () => {
    const found: string[] = [];
    const bodies = Object.values(ErrorAnswers)
      .map((a) => a.body)
      .filter((b) => b !== '');
    for (const { file, text } of other) {
      text.split('\n').forEach((line, i) => {
        // Comments describe bodies (the composer's own, for one); only code writes them.
        if (/^\s*(?:\*|\/\*|\/\/)/.test(line)) return;
        const where = `${file}:${i + 1}`;
        if (/\\?"error\\?"\s*:/.test(line) || /JSON\.stringify\(\{\s*error\b/.test(line)) found.push(`${where}: builds an {"error":…} body`);
        if (
          /\b(?:writeHead\(|statusCode\s*=)\s*[45]\d\d\b/.test(line) ||
          /\b(?:plain|rawReject|refuseConnection|refuseStatusJson)\(\s*[\w.]+\s*,\s*[45]\d\d\b/.test(line)
        ) {
          found.push(`${where}: writes a literal error status`);
        }
        for (const body of bodies) if (line.includes(JSON.stringify(body).slice(1, -1))) found.push(`${where}: repeats the body ${JSON.stringify(body)}`);
      });
    }
    expect(found).toEqual([]);
  });

  it("answers Node's parser refusals on either port by the parser's code", () => {
    expect(parserRefusal('HPE_HEADER_OVERFLOW')).toMatchObject({ status: 431, body: '' });
    expect(parserRefusal('ERR_HTTP_REQUEST_TIMEOUT')).toMatchObject({ status: 408, body: '' });
    for (const code of ['HPE_INVALID_METHOD', 'HPE_UNEXPECTED_CONTENT_LENGTH', undefined]) expect(parserRefusal(code)).toMatchObject({ status: 400, body: '' });
  });

  it('keeps the bodies clients match byte for byte', () => {
    expect(ErrorAnswers.SIDECAR_E_UPSTREAM_UNAVAILABLE).toMatchObject({ status: 502, body: '{"error":"upstream_unavailable"}' });
    expect(ErrorAnswers.SIDECAR_E_UPSTREAM_TIMEOUT).toMatchObject({ status: 504, body: '{"error":"upstream_timeout"}' });
    expect(ErrorAnswers.SIDECAR_E_UNAUTHORIZED).toMatchObject({ status: 401, body: 'Unauthorized\n' });
    expect(ErrorAnswers.SIDECAR_E_STATUS_UNAUTHORIZED).toMatchObject({ status: 401, body: '{"error":"unauthorized"}' });
  });
});
