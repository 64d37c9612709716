import { describe, expect, it } from 'vitest';
import { PROXIED_TRANSPORTS } from '../../src/ledger/ledger.ts';
import { streamRequestPath } from '../../src/sources/events/stream.ts';

describe('streamRequestPath: the event stream is asked without the events of proxied transports', () => {
  it('adds exclude_transports to a plain path, listing every transport the ledger drops', () => {
    const path = streamRequestPath('/api/v1/events', PROXIED_TRANSPORTS);
    const url = new URL(path, 'http://composer');
    expect(url.pathname).toBe('/api/v1/events');
    expect(url.searchParams.get('exclude_transports')?.split(',')).toEqual([...PROXIED_TRANSPORTS]);
  });

  it("keeps a configured path's own query and joins it with one separator", () => {
    expect(streamRequestPath('/events?stream=main', ['sse', 'rest'])).toBe('/events?stream=main&exclude_transports=sse,rest');
    expect(streamRequestPath('/events?', ['sse'])).toBe('/events?exclude_transports=sse');
    expect(streamRequestPath('/events?a=1&', ['sse'])).toBe('/events?a=1&exclude_transports=sse');
  });

  it('encodes what a transport name could smuggle into the query, and leaves the path alone with nothing to exclude', () => {
    expect(streamRequestPath('/events', ['a&b=c', 'd e'])).toBe('/events?exclude_transports=a%26b%3Dc,d%20e');
    expect(streamRequestPath('/events', [])).toBe('/events');
  });
});
