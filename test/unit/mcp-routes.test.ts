import { describe, expect, it } from 'vitest';
import { headerValue, MAX_LEARNED_PATHS, McpRoutes, pathOfUrl, sessionIdOfUrl } from '../../src/sources/mcp/routes.ts';

describe('MCP routes', () => {
  it('recognises the legacy SSE, messages and streamable-HTTP paths, and nothing else', () => {
    const r = new McpRoutes('/');
    expect(['/sse', '/messages/', '/messages', '/mcp', '/mcp/'].map((p) => r.classify(p))).toEqual(['sse', 'messages', 'messages', 'streamable', 'streamable']);
    for (const p of ['/', '/api/v1/tools', '/sse/x', '/mcpx', '/tools', '/api/v1/events']) expect(r.classify(p)).toBeUndefined();
  });

  it('recognises them under a prefix', () => {
    const r = new McpRoutes('/composer/');
    expect(r.classify('/composer/sse')).toBe('sse');
    expect(r.classify('/composer/mcp')).toBe('streamable');
    expect(r.classify('/sse')).toBeUndefined();
  });

  it('learns the POST path an endpoint event announces, boundedly', () => {
    const r = new McpRoutes('/');
    r.learnEndpoint('/mounted/messages/?session_id=1');
    r.learnEndpoint('http://composer:8000/other/msg?session_id=2');
    r.learnEndpoint('not a path');
    expect(r.classify('/mounted/messages/')).toBe('messages');
    expect(r.classify('/other/msg')).toBe('messages');
    for (let i = 0; i < MAX_LEARNED_PATHS + 5; i++) r.learnEndpoint(`/p${i}?session_id=x`);
    expect(r.classify(`/p${MAX_LEARNED_PATHS}`)).toBeUndefined();
    expect(r.classify('/sse')).toBe('sse');
    expect([pathOfUrl('/a/b?x#y'), pathOfUrl('https://h:1/c'), pathOfUrl('https://h'), pathOfUrl('x')]).toEqual(['/a/b', '/c', undefined, undefined]);
  });

  it('reads the session id of a legacy POST URL or endpoint event, in either spelling, bounded', () => {
    expect(sessionIdOfUrl('/messages/?session_id=abc123')).toBe('abc123');
    expect(sessionIdOfUrl('http://h:1/messages/?x=1&sessionId=s-1#f')).toBe('s-1');
    expect(sessionIdOfUrl('/messages/')).toBeUndefined();
    expect(sessionIdOfUrl('/messages/?session_id=')).toBeUndefined();
    expect(sessionIdOfUrl(`/messages/?session_id=${'a'.repeat(300)}`)).toBeUndefined();
  });

  it('reads single-valued headers, bounded', () => {
    expect(headerValue('x')).toBe('x');
    expect(headerValue(['a', 'b'])).toBe('a');
    expect(headerValue(undefined)).toBeUndefined();
    expect(headerValue('y'.repeat(40), 32)).toBeUndefined();
  });
});
