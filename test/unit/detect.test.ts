import { describe, expect, it } from 'vitest';
import { presence } from '../../src/sources/detect/detect.ts';
import { describeSources } from '../../src/sources/surfaces.ts';
import { countByServer } from '../../src/sources/poll/mcp-inventory.ts';

describe('source detection', () => {
  it('reads any answer but 404 as present, and no answer as unknown', () => {
    expect([200, 400, 401, 405, 404, undefined].map(presence)).toEqual([true, true, true, true, false, undefined]);
  });

  it('says what a released composer lets the sidecar see and not see', () => {
    const d = describeSources({ rest: false, events: false, sse: true, streamable_http: false, tools_list: true });
    expect(d.found).toEqual(['sse', 'tools_list']);
    expect(d.sees).toContain('inventory from MCP (tools, prompts, resources)');
    expect(d.blind).toContain('server lifecycle (starts, stops, restarts, crashes)');
  });

  it('says a full composer hides nothing but stdio calls', () => {
    const d = describeSources({ rest: true, events: true, sse: true, streamable_http: true, tools_list: true });
    expect(d.missing).toEqual([]);
    expect(d.blind).toEqual([]);
  });
});

describe('per-server counts from MCP names', () => {
  it('splits names at the separator, and attributes resources only to known servers', () => {
    expect(countByServer([{ name: 'calc_add' }, { name: 'calc_echo' }, { name: 'clock_now' }, { name: 'plain' }], '_')).toEqual(
      new Map([
        ['calc', 2],
        ['clock', 1],
      ]),
    );
    const known = new Set(['calc', 'files']);
    expect(
      countByServer(
        [
          { name: 'constants', uri: 'calc://constants' },
          { name: 'readme', uri: 'file:///demo/readme.txt' },
          { name: 'files_data', uri: 'file:///x' },
          { name: 'x_y', uri: 'x://y' },
        ],
        '_',
        known,
      ),
    ).toEqual(
      new Map([
        ['calc', 1],
        ['files', 1],
      ]),
    );
    expect(countByServer([{ name: 'calc.add' }], '.')).toEqual(new Map([['calc', 1]]));
  });
});
