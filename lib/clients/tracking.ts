/**
 * The local cache's connection to Redis, the same for every client library: one raw RESP3 socket to the
 * master, with `CLIENT TRACKING ON`, that carries the cache's reads, receives the invalidations of the keys
 * they read (RESP3 pushes on the same connection), and runs the read barrier. Redis writes one
 * connection's output in order, so a `PING` sent on it returns only after every invalidation that a
 * write executed before the `PING` caused: a cache hit waits for such a `PING` sent after its request
 * arrived. Any loss (close, error, a barrier or a connect not answered in time, the client's master
 * moved) drops everything before anything else, then the connection is opened again.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import type { Command, ConnectionState } from './adapter';

/** Where the master is and how to log in, as the app's client connects to it right now. */
export interface TrackingTarget {
  readonly host?: string;
  readonly port?: number;
  /** A Unix socket instead of host and port. */
  readonly path?: string;
  readonly username?: string | null;
  readonly password?: string | null;
  readonly tls?: ConnectionOptions | null;
  readonly db?: number;
  /** The client's key prefix (ioredis `keyPrefix`), put before the key of each read. */
  readonly keyPrefix?: string;
}

/** What the connection tells the cache. */
export interface InvalidationHandlers {
  /** Keys whose cached values are stale; null: everything (a flush, a loss, tracking lost its table). */
  invalidate(keys: string[] | null): void;
}

/** The cache's reads, the barrier, and the connection's state. */
export interface TrackedReader {
  /** `ready` only while tracking is on; a loss has already dropped everything. */
  state(): ConnectionState;
  /** Single-key read commands in one write; resolves to RESP2-shaped replies (an error reply rejects). */
  pipeline(commands: readonly Command[]): Promise<unknown[]>;
  /**
   * Resolves once a `PING` sent after this call (one per turn of the event loop for all callers) was
   * answered on the tracked connection; rejects when the connection is lost or the `PING` times out.
   */
  barrier(): Promise<void>;
  close(): void;
}

type Reply = string | number | null | Error | Reply[];
type Parsed = { value: Reply; next: number; push: boolean };

/** Parses one RESP2/RESP3 value at `offset` (maps flattened, as RESP2 sends them); undefined when more bytes are needed. */
function parse(buffer: Buffer, offset: number): Parsed | undefined {
  const end = buffer.indexOf('\r\n', offset);
  if (end === -1) return undefined;
  const type = String.fromCharCode(buffer[offset] ?? 0);
  const line = buffer.toString('utf8', offset + 1, end);
  const next = end + 2;
  const push = type === '>';
  switch (type) {
    case '+': case '(': return { value: line, next, push };
    case '-': return { value: new Error(line), next, push };
    case ':': case ',': return { value: Number(line), next, push };
    case '#': return { value: line === 't' ? 1 : 0, next, push };
    case '_': return { value: null, next, push };
    case '$': case '=': {
      const length = Number(line);
      if (length < 0) return { value: null, next, push };
      if (buffer.length < next + length + 2) return undefined;
      const text = buffer.toString('utf8', next, next + length);
      return { value: type === '=' ? text.slice(4) : text, next: next + length + 2, push };
    }
    case '*': case '>': case '~': case '%': {
      const count = Number(line) * (type === '%' ? 2 : 1);
      if (count < 0) return { value: null, next, push };
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.next;
      }
      return { value: items, next: at, push };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

function encode(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

const same = (a: TrackingTarget, b: TrackingTarget): boolean => a.host === b.host && a.port === b.port && a.path === b.path;

/** How often an idle connection is checked (a barrier, and whether the client's master moved). */
const HEARTBEAT_MS = 1000;
/** The least time between two barrier PINGs: under load each serves the hits of this long (an idle hit waits for none). */
const BARRIER_GAP_MS = 1;
/** How long after a loss, or a failed attempt, the connection is opened again. */
const RETRY_MS = 200;

interface Waiter {
  resolve(value: Reply): void;
  reject(err: Error): void;
}

/** Keeps a tracked connection to wherever `target()` says the master is; `timeoutMs` bounds a connect and a barrier. */
export function openTrackedReader(target: () => TrackingTarget | null, handlers: InvalidationHandlers, timeoutMs: number): TrackedReader {
  let socket: Socket | null = null;
  let at: TrackingTarget | null = null;
  let tracking = false;
  let closed = false;
  const replies: Waiter[] = [];
  /** The barrier waiting to be sent, and whether one is on its way. */
  let next: { promise: Promise<void>; resolve(): void; reject(err: Error): void } | null = null;
  let barrierOut = false;
  /** Whether a send of the waiting barrier is scheduled, and when the last one left (performance.now()). */
  let scheduled = false;
  let lastSent = -Infinity;
  let retry: NodeJS.Timeout | null = null;

  /** Sends commands in one write; each promise settles with its reply, in order. */
  function send(commands: readonly (readonly string[])[]): Promise<Reply>[] {
    const out = socket;
    if (!out) return commands.map(() => Promise.reject(new Error('the tracked connection is down')));
    const answers = commands.map(() => new Promise<Reply>((resolve, reject) => replies.push({ resolve, reject })));
    out.write(commands.map(encode).join(''));
    return answers;
  }

  /** Drops the connection and everything cached, fails what waits on it, and opens it again soon. */
  function lose(reason: Error): void {
    tracking = false;
    socket?.destroy();
    socket = null;
    at = null;
    handlers.invalidate(null);
    for (const waiter of replies.splice(0)) waiter.reject(reason);
    const waiting = next;
    next = null;
    barrierOut = false;
    waiting?.reject(reason);
    if (!closed && !retry) {
      retry = setTimeout(open, RETRY_MS);
      retry.unref();
    }
  }

  function onData(chunk: Buffer, pending: { buffer: Buffer }): void {
    pending.buffer = pending.buffer.length ? Buffer.concat([pending.buffer, chunk]) : chunk;
    let offset = 0;
    try {
      for (let item = parse(pending.buffer, offset); item; item = parse(pending.buffer, offset)) {
        offset = item.next;
        const { value } = item;
        if (item.push) {
          if (Array.isArray(value) && value[0] === 'invalidate') {
            handlers.invalidate(Array.isArray(value[1]) ? value[1].filter((key): key is string => typeof key === 'string') : null);
          }
          continue;
        }
        const waiter = replies.shift();
        if (value instanceof Error) waiter?.reject(value);
        else waiter?.resolve(value);
      }
    } catch (err) {
      return lose(err as Error);
    }
    pending.buffer = pending.buffer.subarray(offset);
  }

  function open(): void {
    retry = null;
    if (closed || socket) return;
    const where = target();
    if (!where) return lose(new Error('the client is not connected'));
    const options = where.path ? { path: where.path } : { host: where.host ?? '127.0.0.1', port: where.port ?? 6379 };
    const mine = where.tls ? connectTls({ ...where.tls, ...options }) : connectTcp(options);
    mine.setNoDelay(true);
    socket = mine;
    at = where;
    const pending = { buffer: Buffer.alloc(0) };
    const gone = (err: Error): void => {
      if (socket === mine) lose(err);
    };
    mine.on('data', (chunk: Buffer) => onData(chunk, pending));
    mine.on('error', gone);
    mine.on('close', () => gone(new Error('the tracked connection closed')));
    const giveUp = setTimeout(() => gone(new Error(`the tracked connection did not open within ${timeoutMs} ms`)), timeoutMs);
    giveUp.unref();
    mine.once(where.tls ? 'secureConnect' : 'connect', () => {
      setUp(where).then(
        () => {
          clearTimeout(giveUp);
          if (socket === mine) tracking = true;
        },
        (err: Error) => {
          clearTimeout(giveUp);
          gone(err);
        },
      );
    });
  }

  /** Logs in with RESP3, selects the database, checks it is a master, and switches tracking on. */
  async function setUp(where: TrackingTarget): Promise<void> {
    const hello = ['HELLO', '3', 'SETNAME', 'ess-cache'];
    if (typeof where.password === 'string' && where.password !== '') hello.push('AUTH', where.username || 'default', where.password);
    const steps: string[][] = [hello];
    if (where.db) steps.push(['SELECT', String(where.db)]);
    steps.push(['ROLE'], ['CLIENT', 'TRACKING', 'on']);
    const answers = await Promise.all(send(steps));
    const role = answers[answers.length - 2];
    if (!Array.isArray(role) || role[0] !== 'master') throw new Error('the tracked connection reached a replica');
  }

  /**
   * Schedules the waiting barrier's PING: once this turn's I/O is handled (every request read in this turn
   * waits on the same PING), and at least BARRIER_GAP_MS after the previous one left, so that under load
   * one PING serves the hits of a millisecond, not of one turn. Idle, nothing is added to a hit's wait.
   */
  function schedule(): void {
    if (scheduled || barrierOut || !next) return;
    scheduled = true;
    const wait = lastSent + BARRIER_GAP_MS - performance.now();
    if (wait <= 0) setImmediate(sendBarrier);
    else setTimeout(sendBarrier, wait).unref();
  }

  /** Sends the waiting barrier's PING, unless one is on its way (its answer schedules the next). */
  function sendBarrier(): void {
    scheduled = false;
    const batch = next;
    if (!batch || barrierOut) return;
    next = null;
    barrierOut = true;
    lastSent = performance.now();
    const timer = setTimeout(() => lose(new Error(`the tracked connection did not answer a PING within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    send([['PING']])[0]!.then(
      () => {
        clearTimeout(timer);
        barrierOut = false;
        batch.resolve();
        schedule();
      },
      (err: Error) => {
        clearTimeout(timer);
        batch.reject(err);
        lose(err);
      },
    );
  }

  function barrier(): Promise<void> {
    if (!tracking) return Promise.reject(new Error('the tracked connection is down'));
    if (!next) {
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      const promise = new Promise<void>((yes, no) => ((resolve = yes), (reject = no)));
      next = { promise, resolve, reject };
      schedule();
    }
    return next.promise;
  }

  // The heartbeat: a barrier every second finds a dead connection, and a master that moved drops everything.
  const heartbeat = setInterval(() => {
    if (!tracking || !at) return;
    const now = target();
    if (!now || !same(now, at)) return lose(new Error('the master moved'));
    barrier().catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  open();

  return {
    state: (): ConnectionState => (tracking ? 'ready' : closed ? 'offline' : 'connecting'),
    pipeline(commands) {
      if (!tracking) return Promise.reject(new Error('the tracked connection is down'));
      const prefix = at?.keyPrefix ?? '';
      return Promise.all(send(commands.map(([name, key, ...args]) => (key === undefined ? [name] : [name, prefix + key, ...args]))));
    },
    barrier,
    close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      if (retry) clearTimeout(retry);
      lose(new Error('closed'));
    },
  };
}
