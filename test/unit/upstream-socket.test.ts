/**
 * The attribution of undici's `undici:client:sendHeaders` publications to the handler that claimed them
 * (proxy/upstream-socket.ts), and what a socket's end says about how it ended.
 */
import { channel } from 'node:diagnostics_channel';
import { PassThrough, type Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { claimUpstreamSocket, socketError, type UpstreamSocketClaimant } from '../../src/proxy/upstream-socket.ts';

const sendHeaders = channel('undici:client:sendHeaders');

function claimant(method: string, path: string): UpstreamSocketClaimant & { got: Duplex[] } {
  const got: Duplex[] = [];
  return { claimedMethod: method, claimedPath: path, got, upstreamSocket: (s) => got.push(s) };
}

describe('upstream socket attribution', () => {
  it('gives a claimant the socket of the next request undici writes, once', () => {
    const c = claimant('GET', '/items?page=2');
    const socket = new PassThrough();
    const other = new PassThrough();
    claimUpstreamSocket(c);
    sendHeaders.publish({ request: { method: 'GET', path: '/items?page=2' }, headers: '', socket });
    sendHeaders.publish({ request: { method: 'GET', path: '/items?page=2' }, headers: '', socket: other });
    expect(c.got).toEqual([socket]);
  });

  it('never attributes another client’s request (the probe, the poller) to a claimant whose request was not written', () => {
    const c = claimant('POST', '/api/v1/tools/x/invoke');
    claimUpstreamSocket(c);
    sendHeaders.publish({ request: { method: 'GET', path: '/api/v1/health' }, headers: '', socket: new PassThrough() });
    sendHeaders.publish({ request: { method: 'POST', path: '/api/v1/tools/x/invoke' }, headers: '', socket: new PassThrough() });
    expect(c.got).toEqual([]);
  });

  it('a socket destroyed by an error (a reset) reports it; an open or cleanly closed one reports none', async () => {
    expect(socketError(null)).toBeNull();
    const open = new PassThrough();
    expect(socketError(open)).toBeNull();
    const clean = new PassThrough();
    clean.destroy();
    expect(socketError(clean)).toBeNull();
    const reset = new PassThrough();
    reset.on('error', () => undefined);
    const err = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    reset.destroy(err);
    expect(socketError(reset)).toBe(err);
  });
});
