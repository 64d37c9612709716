/**
 * One proxied MCP exchange as the tap reads it: the body tap attached to it (so it lives exactly as long
 * as the exchange), turning bytes into the {@link Correlator}'s events. It reads the request body
 * (body-reader.ts: a bounded copy, read as soon as `Content-Length` bytes are in, else at the response
 * head), the SSE answer (sse-feed.ts) or the JSON answer, and tells the correlator what each read gave.
 * It keeps no session state: what the exchange means for its session is the correlator's.
 */
import type { Exchange, ExchangeTap } from '../../observe/exchange.ts';
import { type BodyRead, BodyReader } from './body-reader.ts';
import type { Correlator } from './correlator.ts';
import type { MessageReader } from './read-messages.ts';
import { headerValue } from './routes.ts';
import type { Flow } from './session.ts';
import { SseFeed, type SseFeedSink, type SseProblem } from './sse-feed.ts';

function is2xx(status: number): boolean {
  return status >= 200 && status < 300;
}

function isJson(ex: Exchange): boolean {
  const ct = ex.responseHeaders?.['content-type'];
  return typeof ct === 'string' && ct.toLowerCase().includes('json');
}

/**
 * The bytes-to-events adapter of one exchange the correlator follows. Also its body tap, and the sink of
 * its SSE feed (so an SSE answer costs the feed and nothing else: no sink object, no closures).
 */
export class ExchangeState implements ExchangeTap, SseFeedSink {
  readonly #correlator: Correlator;
  readonly #flow: Flow;
  /** Largest MCP message read (`--body-capture-limit`). */
  readonly #limit: number;
  readonly #read: MessageReader;
  #reader: BodyReader | undefined;
  #feed: SseFeed | undefined = undefined;
  #json: BodyReader | undefined = undefined;
  /** The JSON answer, read once complete; the correlator is told at the exchange's end. */
  #jsonRead: BodyRead | undefined = undefined;

  /** @param read how bodies and event data are read (read-messages.ts: the scanner, the parser where it cannot decide). */
  constructor(correlator: Correlator, flow: Flow, ex: Exchange, limit: number, read: MessageReader) {
    this.#correlator = correlator;
    this.#flow = flow;
    this.#limit = limit;
    this.#read = read;
    this.#reader = flow.readsBody ? new BodyReader(limit, ex.requestHeaders['content-length']) : undefined;
  }

  onRequestBody(chunk: Buffer): void {
    const reader = this.#reader;
    if (reader === undefined) return;
    const read = reader.push(chunk, this.#read);
    if (read === undefined) return;
    this.#reader = undefined;
    this.#correlator.requestRead(this.#flow, read, performance.now());
  }

  onResponseStart(ex: Exchange): void {
    const at = ex.headersTime;
    this.#readRequest(at);
    const correlator = this.#correlator;
    correlator.responseHead(this.#flow, ex.status, headerValue(ex.responseHeaders?.['mcp-session-id']), at);
    if (ex.stream === 'sse' && is2xx(ex.status)) {
      this.#feed = new SseFeed(this.#limit, this);
    } else if (this.#flow.route === 'streamable' && ex.method === 'POST' && isJson(ex)) {
      this.#json = new BodyReader(this.#limit, ex.responseHeaders?.['content-length']);
    }
  }

  onResponseBody(chunk: Buffer): void {
    const feed = this.#feed;
    if (feed !== undefined) feed.push(chunk);
    else if (this.#json !== undefined) {
      // Read as soon as it is complete (from the chunk itself when it came whole), told at the end.
      const read = this.#json.push(chunk, this.#read);
      if (read !== undefined) this.#jsonRead = read;
    }
  }

  onEnd(ex: Exchange): void {
    const at = ex.endTime;
    this.#readRequest(at);
    this.#feed?.end();
    const json = this.#json;
    if (json !== undefined) {
      const read = this.#jsonRead ?? json.take(this.#read);
      if (read !== undefined) {
        const cut = ex.outcome !== 'ok' && typeof read !== 'string' && read.problem === 'not_json';
        this.#correlator.responseRead(this.#flow, cut ? 'stream_cut' : read, at);
      }
    }
    this.#correlator.end(this.#flow, ex.outcome, ex.status, at);
  }

  /** Reads the request body if it was not read yet. */
  #readRequest(at: number): void {
    const reader = this.#reader;
    if (reader === undefined) return;
    this.#reader = undefined;
    const read = reader.take(this.#read);
    if (read !== undefined) this.#correlator.requestRead(this.#flow, read, at);
  }

  /** An event of the SSE answer (its data valid during the call only). */
  onEvent(event: string | undefined, data: Buffer): void {
    const at = performance.now();
    if (event === 'endpoint') this.#correlator.endpoint(this.#flow, data.toString('utf8'), at);
    else if (event === undefined || event === 'message') this.#correlator.responseRead(this.#flow, this.#read(data), at);
  }

  /** An SSE event that could not be read (over the bound, or cut by the stream's end). */
  onProblem(problem: SseProblem): void {
    this.#correlator.responseRead(this.#flow, problem, performance.now());
  }
}
