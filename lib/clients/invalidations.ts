/**
 * A minimal RESP connection that listens for client-side-caching invalidations on
 * `__redis__:invalidate` (the REDIRECT target of `CLIENT TRACKING`). Redis 7.0 sends them to a RESP2
 * subscriber either as a pub/sub message or as a RESP3 push, which ioredis cannot read; this reads both.
 * It pings every second and reports itself lost on any close, error or missed pong.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';

/** Where and how to connect: the same server as the tracked connection. */
export interface ListenerTarget {
  host: string;
  port: number;
  username?: string | null;
  password?: string | null;
  tls?: ConnectionOptions | null;
}

/** What the listener tells its owner. */
export interface InvalidationHandlers {
  /** Keys whose cached values are stale; null: everything (a flush, or tracking lost its table). */
  invalidate(keys: string[] | null): void;
  /** The listener is gone: nothing cached can be trusted any more. Called once. */
  lost(reason: Error): void;
}

/** A connected listener: its client id (for `CLIENT TRACKING ... REDIRECT id`) and a way to close it. */
export interface InvalidationListener {
  readonly clientId: number;
  close(): void;
}

type Reply = string | number | null | Error | Reply[];

/** Parses one RESP2/RESP3 value from `buffer` at `offset`; undefined when more bytes are needed. */
function parse(buffer: Buffer, offset: number): { value: Reply; next: number } | undefined {
  const end = buffer.indexOf('\r\n', offset);
  if (end === -1) return undefined;
  const type = String.fromCharCode(buffer[offset] ?? 0);
  const line = buffer.toString('utf8', offset + 1, end);
  const next = end + 2;
  switch (type) {
    case '+': return { value: line, next };
    case '-': return { value: new Error(line), next };
    case ':': return { value: Number(line), next };
    case '_': return { value: null, next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString('utf8', next, next + length), next: next + length + 2 };
    }
    case '*': case '>': case '~': {
      const count = Number(line);
      if (count < 0) return { value: null, next };
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, at);
        if (!item) return undefined;
        items.push(item.value);
        at = item.next;
      }
      return { value: items, next: at };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

function encode(args: string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

/** Connects, authenticates, subscribes, and resolves once it listens (rejects within `timeoutMs` otherwise). */
export function listenForInvalidations(target: ListenerTarget, handlers: InvalidationHandlers, timeoutMs: number): Promise<InvalidationListener> {
  return new Promise((resolve, reject) => {
    const socket: Socket = target.tls
      ? connectTls({ host: target.host, port: target.port, ...target.tls })
      : connectTcp({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    let clientId = 0;
    let listening = false;
    let closed = false;
    let awaitingPong = false;
    const replies: ((reply: Reply) => void)[] = [];

    const fail = (reason: Error): void => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      clearTimeout(giveUp);
      socket.destroy();
      if (listening) handlers.lost(reason);
      else reject(reason);
    };
    const giveUp = setTimeout(() => fail(new Error(`the invalidation listener did not connect within ${timeoutMs} ms`)), timeoutMs);
    giveUp.unref();
    const heartbeat = setInterval(() => {
      if (!listening) return;
      if (awaitingPong) return fail(new Error('the invalidation listener missed a heartbeat'));
      awaitingPong = true;
      socket.write(encode(['PING']));
    }, 1000);
    heartbeat.unref();

    const send = (args: string[]): Promise<Reply> =>
      new Promise((answer) => {
        replies.push(answer);
        socket.write(encode(args));
      });

    const onValue = (value: Reply): void => {
      if (Array.isArray(value) && (value[0] === 'invalidate' || (value[0] === 'message' && value[1] === '__redis__:invalidate'))) {
        const keys = value[0] === 'invalidate' ? value[1] : value[2];
        handlers.invalidate(Array.isArray(keys) ? keys.filter((key): key is string => typeof key === 'string') : null);
        return;
      }
      if (listening && Array.isArray(value) && value[0] === 'pong') {
        awaitingPong = false;
        return;
      }
      if (listening && value === 'PONG') {
        awaitingPong = false;
        return;
      }
      replies.shift()?.(value);
    };

    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let offset = 0;
      try {
        for (let item = parse(pending, offset); item; item = parse(pending, offset)) {
          offset = item.next;
          onValue(item.value);
        }
      } catch (err) {
        return fail(err as Error);
      }
      pending = pending.subarray(offset);
    });
    socket.on('error', (err) => fail(err));
    socket.on('close', () => fail(new Error('the invalidation listener connection closed')));

    socket.once(target.tls ? 'secureConnect' : 'connect', () => {
      start().catch((err: Error) => fail(err));
    });

    async function start(): Promise<void> {
      if (typeof target.password === 'string' && target.password !== '') {
        const auth = await send(target.username ? ['AUTH', target.username, target.password] : ['AUTH', target.password]);
        if (auth instanceof Error) return fail(auth);
      }
      const id = await send(['CLIENT', 'ID']);
      if (typeof id !== 'number') return fail(new Error('CLIENT ID gave no id'));
      clientId = id;
      const subscribed = await send(['SUBSCRIBE', '__redis__:invalidate']);
      if (subscribed instanceof Error) return fail(subscribed);
      clearTimeout(giveUp);
      listening = true;
      resolve({
        clientId,
        close() {
          if (closed) return;
          closed = true;
          clearInterval(heartbeat);
          socket.destroy();
        },
      });
    }
  });
}
