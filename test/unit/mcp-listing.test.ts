import { describe, expect, it } from 'vitest';
import { classifyMessage } from '../../src/sources/mcp/jsonrpc.ts';
import {
  cursorOf,
  ListingAssembler,
  listPageOf,
  MAX_CURSOR_LENGTH,
  MAX_ITEM_NAME,
  MAX_LISTING_ITEMS,
  serverIdentityOf,
  type ListPage,
} from '../../src/sources/mcp/listing.ts';

const page = (names: string[], nextCursor?: string | false): ListPage => ({
  kind: 'tools',
  items: names.map((name) => ({ name })),
  count: names.length,
  capped: false,
  ...(nextCursor === undefined ? {} : { nextCursor }),
});

describe('list results: what is kept of a page', () => {
  it('keeps the count, the names and nextCursor, never descriptions, schemas or other fields', () => {
    const p = listPageOf({
      tools: [
        { name: 'a', description: 'secret text', inputSchema: { type: 'object' } },
        { name: 'b', annotations: {} },
      ],
      nextCursor: 'c1',
      _meta: { x: 1 },
    });
    expect(p).toEqual({ kind: 'tools', items: [{ name: 'a' }, { name: 'b' }], count: 2, capped: false, nextCursor: 'c1' });
    expect(JSON.stringify(p)).not.toContain('secret');
  });

  it('reduces resource URIs (no query, fragment or credentials) and bounds names', () => {
    const p = listPageOf({
      resources: [
        { name: 'x'.repeat(300), uri: 'https://user:pw@host/doc?token=abc#frag' },
        { name: 'r', uri: 'file:///a.txt' },
      ],
    });
    expect(p?.items).toEqual([
      { name: 'x'.repeat(MAX_ITEM_NAME + 1), uri: 'https://host/doc' },
      { name: 'r', uri: 'file:///a.txt' },
    ]);
    expect(JSON.stringify(p)).not.toContain('token');
    expect(JSON.stringify(p)).not.toContain('pw');
  });

  it('counts unnamed entries in the total but not as items, and caps the items read', () => {
    expect(listPageOf({ prompts: [{ name: 'p' }, { title: 'no name' }, 'junk', null] })).toEqual({
      kind: 'prompts',
      items: [{ name: 'p' }],
      count: 4,
      capped: false,
    });
    const big = listPageOf({ tools: Array.from({ length: MAX_LISTING_ITEMS + 5 }, (_, i) => ({ name: `t${i}` })) });
    expect(big?.count).toBe(MAX_LISTING_ITEMS + 5);
    expect(big?.items).toHaveLength(MAX_LISTING_ITEMS);
    expect(big?.capped).toBe(true);
  });

  it('ends a listing at an absent, null or empty nextCursor and marks an unusable one', () => {
    for (const end of [undefined, null, '']) expect(listPageOf({ tools: [], nextCursor: end })?.nextCursor).toBeUndefined();
    expect(listPageOf({ tools: [], nextCursor: 42 })?.nextCursor).toBe(false);
    expect(listPageOf({ tools: [], nextCursor: 'c'.repeat(MAX_CURSOR_LENGTH + 1) })?.nextCursor).toBe(false);
  });

  it('is no page for results without a list (tool results, reads, templates)', () => {
    for (const r of [{ content: [] }, { contents: [] }, { resourceTemplates: [] }, { tools: 'no' }]) expect(listPageOf(r)).toBeUndefined();
  });

  it('reads the cursor of a list request, and marks one it cannot follow', () => {
    expect(cursorOf({})).toBeUndefined();
    expect(cursorOf({ cursor: 'abc' })).toBe('abc');
    expect(cursorOf({ cursor: 7 })).toBe(false);
    expect(cursorOf({ cursor: 'c'.repeat(MAX_CURSOR_LENGTH + 1) })).toBe(false);
  });

  it('reads the server name and capability kinds of an initialize result', () => {
    expect(
      serverIdentityOf({
        protocolVersion: '2025-06-18',
        serverInfo: { name: 'mcp-server-composer', version: '1' },
        capabilities: { tools: { listChanged: true }, resources: {}, logging: {} },
      }),
    ).toEqual({
      name: 'mcp-server-composer',
      kinds: ['tools', 'resources'],
      listChanged: ['tools'],
    });
    expect(serverIdentityOf({ serverInfo: { version: '1' } })).toEqual({ listChanged: [] });
    expect(serverIdentityOf({ capabilities: {} })).toBeUndefined();
  });

  it('classifies list requests with their cursor and list and initialize results with what is kept', () => {
    expect(classifyMessage({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { cursor: 'c2' } })).toEqual({
      kind: 'request',
      id: 3,
      method: 'tools/list',
      cursor: 'c2',
    });
    expect(classifyMessage({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 't', cursor: 'x' } })).toEqual({
      kind: 'request',
      id: 4,
      method: 'tools/call',
      toolName: 't',
    });
    expect(classifyMessage({ jsonrpc: '2.0', id: 3, result: { tools: [{ name: 'a', description: 'd' }] } })).toEqual({
      kind: 'response',
      id: 3,
      response: { kind: 'result', isError: false, unknownTool: false, listPage: { kind: 'tools', items: [{ name: 'a' }], count: 1, capped: false } },
    });
    const init = classifyMessage({
      jsonrpc: '2.0',
      id: 0,
      result: { protocolVersion: '2025-06-18', serverInfo: { name: 's', version: '1' }, capabilities: { prompts: {} }, instructions: 'private' },
    });
    expect(init).toEqual({
      kind: 'response',
      id: 0,
      response: {
        kind: 'result',
        isError: false,
        unknownTool: false,
        protocolVersion: '2025-06-18',
        server: { name: 's', kinds: ['prompts'], listChanged: [] },
      },
    });
  });
});

describe('pagination: a listing counts whole or not at all', () => {
  it('reports a one-page listing at once', () => {
    const a = new ListingAssembler();
    expect(a.page('s', undefined, page(['a', 'b']), 0)).toEqual({ kind: 'tools', items: [{ name: 'a' }, { name: 'b' }], count: 2, capped: false });
    expect(a.size).toBe(0);
  });

  it('puts pages together when each is asked for with the previous nextCursor', () => {
    const a = new ListingAssembler();
    expect(a.page('s', undefined, page(['a', 'b'], 'c2'), 0)).toBeUndefined();
    expect(a.page('s', 'c2', page(['c', 'd'], 'c4'), 1)).toBeUndefined();
    expect(a.page('s', 'c4', page(['e']), 2)).toMatchObject({ count: 5, items: [{ name: 'a' }, { name: 'b' }, { name: 'c' }, { name: 'd' }, { name: 'e' }] });
    expect(a.size).toBe(0);
  });

  it('never reports a listing whose pages stopped half-way, and drops it when a new one starts', () => {
    const a = new ListingAssembler();
    a.page('s', undefined, page(['a', 'b'], 'c2'), 0);
    // The client starts again: the half-read listing is abandoned, the new one counts alone.
    expect(a.page('s', undefined, page(['x'], 'n1'), 1)).toBeUndefined();
    expect(a.page('s', 'c2', page(['c']), 2)).toBeUndefined();
    expect(a.page('s', 'n1', page(['y']), 3)).toMatchObject({ count: 2, items: [{ name: 'x' }, { name: 'y' }] });
  });

  it('ignores a page whose request carries a cursor it did not see (a continuation of an unseen start, a skipped page)', () => {
    const a = new ListingAssembler();
    expect(a.page('s', 'c9', page(['z']), 0)).toBeUndefined();
    a.page('s', undefined, page(['a'], 'c1'), 0);
    expect(a.page('s', 'c5', page(['q']), 1)).toBeUndefined();
    expect(a.page('s', false, page(['q']), 1)).toBeUndefined();
    expect(a.page('s', 'c1', page(['b']), 2)).toMatchObject({ count: 2 });
  });

  it('keeps sessions and kinds apart', () => {
    const a = new ListingAssembler();
    a.page('s1', undefined, page(['a'], 'c1'), 0);
    a.page('s2', undefined, page(['x'], 'c1'), 0);
    a.page('s1', undefined, { ...page(['p'], 'c1'), kind: 'prompts' }, 0);
    expect(a.page('s2', 'c1', page(['y']), 1)).toMatchObject({ kind: 'tools', count: 2, items: [{ name: 'x' }, { name: 'y' }] });
    expect(a.page('s1', 'c1', { ...page(['q']), kind: 'prompts' }, 1)).toMatchObject({ kind: 'prompts', count: 2 });
    expect(a.page('s1', 'c1', page(['b']), 1)).toMatchObject({ kind: 'tools', count: 2 });
  });

  it('drops a listing whose next cursor cannot be followed, or that goes past the page bound', () => {
    const a = new ListingAssembler({ maxInProgress: 8, maxItems: 100, maxPages: 2, maxAgeMs: 1000 });
    expect(a.page('s', undefined, page(['a'], false), 0)).toBeUndefined();
    expect(a.size).toBe(0);
    a.page('s', undefined, page(['a'], 'c1'), 0);
    expect(a.page('s', 'c1', page(['b'], 'c2'), 0)).toBeUndefined();
    expect(a.size).toBe(0);
    expect(a.page('s', 'c2', page(['c']), 0)).toBeUndefined();
  });

  it('is bounded: listings in progress, their age, and the items kept (the count goes on, marked capped)', () => {
    const a = new ListingAssembler({ maxInProgress: 2, maxItems: 3, maxPages: 10, maxAgeMs: 1000 });
    a.page('s1', undefined, page(['a'], 'c'), 0);
    a.page('s2', undefined, page(['a'], 'c'), 1);
    a.page('s3', undefined, page(['a'], 'c'), 2);
    expect(a.size).toBe(2);
    expect(a.page('s1', 'c', page(['b']), 3)).toBeUndefined(); // the oldest was dropped
    expect(a.page('s2', 'c', page(['b']), 2000)).toBeUndefined(); // too old by then
    expect(a.size).toBe(0);
    a.page('s', undefined, page(['a', 'b'], 'c'), 0);
    expect(a.page('s', 'c', page(['c', 'd']), 1)).toEqual({ kind: 'tools', items: [{ name: 'a' }, { name: 'b' }, { name: 'c' }], count: 4, capped: true });
  });
});
