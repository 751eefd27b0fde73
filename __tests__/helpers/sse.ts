/**
 * A small Server-Sent Events client over plain HTTP for the live tests: opens a stream with a cookie,
 * parses text/event-stream itself, and lets a test wait for the next event or for the stream's end.
 */
import { get, type IncomingHttpHeaders } from 'node:http';

/** One event as received. `data` is parsed JSON. */
export interface SseEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
  /** `performance.now()` when it arrived. */
  readonly at: number;
}

/** An open (or refused) stream. */
export interface SseStream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Every event so far. */
  readonly events: SseEvent[];
  /** Heartbeat comments so far. */
  readonly comments: number;
  /** Everything the server sent, as text. */
  readonly raw: string;
  /** True once the server ended the response (or the socket closed). */
  readonly ended: boolean;
  /** The body of a refused (non-200) response, parsed. */
  body(): Promise<unknown>;
  /** Resolves with the next event named `name` not yet taken (rejects after `timeoutMs`). */
  next(name: string, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves once the response has ended. */
  closed(timeoutMs?: number): Promise<void>;
  /** Closes the connection from the client side. */
  close(): void;
}

/** Opens `GET base + path` with `Accept: text/event-stream` and the cookie; resolves once headers arrived. */
export function openStream(base: string, cookie: string, path = '/events'): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = get(`${base}${path}`, { headers: { Accept: 'text/event-stream', Cookie: cookie }, agent: false }, (res) => {
      res.setEncoding('utf8');
      const events: SseEvent[] = [];
      const taken = new Set<SseEvent>();
      let raw = '';
      let buffer = '';
      let comments = 0;
      let ended = false;
      const waiters = new Set<() => void>();
      const wake = (): void => {
        for (const waiter of [...waiters]) waiter();
      };
      res.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        let cut;
        while ((cut = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments++;
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) events.push({ event, data: JSON.parse(data) as Record<string, unknown>, at: performance.now() });
        }
        wake();
      });
      const finish = (): void => {
        ended = true;
        wake();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);

      const waitFor = <T>(what: string, ready: () => T | undefined, timeoutMs: number): Promise<T> =>
        new Promise((ok, fail) => {
          const check = (): void => {
            const value = ready();
            if (value === undefined) return;
            waiters.delete(check);
            clearTimeout(timer);
            ok(value);
          };
          const timer = setTimeout(() => {
            waiters.delete(check);
            fail(new Error(`no ${what} within ${timeoutMs} ms; received: ${raw}`));
          }, timeoutMs);
          waiters.add(check);
          check();
        });

      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        get comments() {
          return comments;
        },
        get raw() {
          return raw;
        },
        get ended() {
          return ended;
        },
        body: () => waitFor('end of body', () => (ended ? (JSON.parse(raw) as unknown) : undefined), 5000),
        next(name, timeoutMs = 5000) {
          return waitFor(`event "${name}"`, () => {
            const found = events.find((e) => e.event === name && !taken.has(e));
            if (found) taken.add(found);
            return found;
          }, timeoutMs);
        },
        closed: (timeoutMs = 5000) => waitFor('end of stream', () => (ended ? true : undefined), timeoutMs).then(() => undefined),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}
