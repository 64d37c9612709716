import { describe, expect, it } from 'vitest';
import { BodyReader } from '../../src/sources/mcp/body-reader.ts';
import { parseMessages } from '../../src/sources/mcp/jsonrpc.ts';
import type { MessageReader } from '../../src/sources/mcp/read-messages.ts';

const CALL = '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"calc_add","arguments":{"a":1,"b":2}}}';

/** A reader that records the bytes it was given (as text, at the time of the call) and parses them. */
function recording(): { read: MessageReader; seen: Buffer[]; texts: string[] } {
  const seen: Buffer[] = [];
  const texts: string[] = [];
  return {
    seen,
    texts,
    read: (bytes) => {
      seen.push(bytes);
      texts.push(bytes.toString('utf8'));
      return parseMessages(bytes.toString('utf8'));
    },
  };
}

describe('MCP body reader', () => {
  it('reads a body that arrives whole in its first chunk from that chunk, before the call returns', () => {
    const r = recording();
    const chunk = Buffer.from(CALL);
    const reader = new BodyReader(1024, String(chunk.length));
    const read = reader.push(chunk, r.read);
    expect(r.seen).toHaveLength(1);
    expect(r.seen[0]).toBe(chunk);
    // The proxy may reuse its buffer afterwards: what was read is already decided.
    chunk.fill(0x20);
    expect(read).toEqual(parseMessages(CALL));
    expect(reader.take(r.read)).toBeUndefined();
    expect(reader.push(Buffer.from(CALL), r.read)).toBeUndefined();
    expect(r.seen).toHaveLength(1);
  });

  it('reads a body split across chunks once its Content-Length is in, and not before', () => {
    for (const cuts of [[10], [1, 2, 50], [CALL.length - 1]]) {
      const r = recording();
      const bytes = Buffer.from(CALL);
      const reader = new BodyReader(1024, String(bytes.length));
      let at = 0;
      for (const cut of cuts) {
        expect(reader.push(bytes.subarray(at, cut), r.read)).toBeUndefined();
        at = cut;
      }
      expect(r.seen).toHaveLength(0);
      const read = reader.push(bytes.subarray(at), r.read);
      expect(read).toEqual(parseMessages(CALL));
      expect(r.texts).toEqual([CALL]);
    }
  });

  it('refuses a body over the bound as too_large without reading it, whole or split', () => {
    const bytes = Buffer.from(CALL);
    for (const parts of [[bytes], [bytes.subarray(0, 20), bytes.subarray(20)]]) {
      const r = recording();
      const reader = new BodyReader(32, String(bytes.length));
      const reads = parts.map((p) => reader.push(p, r.read));
      expect(reads.filter((x) => x !== undefined)).toEqual(['too_large']);
      expect(r.seen).toHaveLength(0);
    }
  });

  it('reads a body without (or with an unusable) Content-Length only when told it is complete', () => {
    for (const length of [undefined, 'abc', ['12', '12']] as const) {
      const r = recording();
      const reader = new BodyReader(1024, length === undefined ? undefined : typeof length === 'string' ? length : [...length]);
      expect(reader.push(Buffer.from(CALL.slice(0, 30)), r.read)).toBeUndefined();
      expect(reader.push(Buffer.from(CALL.slice(30)), r.read)).toBeUndefined();
      expect(reader.take(r.read)).toEqual(parseMessages(CALL));
      expect(r.texts).toEqual([CALL]);
    }
  });

  it('reads an empty body as empty, with Content-Length 0 or with nothing pushed', () => {
    const r = recording();
    expect(new BodyReader(1024, '0').push(Buffer.alloc(0), r.read)).toBe('empty');
    expect(new BodyReader(1024, undefined).take(r.read)).toBe('empty');
    expect(r.seen).toHaveLength(0);
  });
});
