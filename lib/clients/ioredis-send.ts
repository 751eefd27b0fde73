/**
 * Plain commands on one ioredis connection in one write: the request path's reads, without the cost
 * of an ioredis Pipeline object or auto-pipelining.
 */
import type { Redis } from 'ioredis';
import type { Command } from './adapter';

/** ioredis's own command class, as its `Redis` class exposes it (`Redis.Command`, ioredis 5 and 6). */
type CommandClass = new (name: string, args: string[], options: { replyEncoding: 'utf8'; keyPrefix?: string }) => unknown;

/**
 * Plain commands written to `client`'s socket in order, without an ioredis Pipeline object or
 * auto-pipelining (each costs more than the commands): the commands of one read are written as one
 * string, as ioredis's own Pipeline writes its commands, and the socket is corked until the end of
 * the tick, so the reads issued in one tick leave in one write. Falls back to `call` where the client
 * does not expose its command class.
 */
export function sendTogether(client: Redis): (commands: readonly Command[]) => Promise<unknown[]> {
  const CommandOf = (client.constructor as { Command?: CommandClass }).Command;
  if (typeof CommandOf !== 'function') return (commands) => Promise.all(commands.map(([name, ...args]) => client.call(name, ...args)));
  const send = client.sendCommand.bind(client) as (command: unknown, stream: unknown) => Promise<unknown>;
  // The key prefix is fixed when the client is made: one options object for every command.
  const options = { replyEncoding: 'utf8' as const, keyPrefix: client.options.keyPrefix };
  let corked: Redis['stream'] | null = null;
  const uncork = (): void => {
    const stream = corked;
    corked = null;
    stream?.uncork();
  };
  /** The text of the commands being sent, or null outside `sendTogether`'s own loop. */
  let pending: string | null = null;
  /**
   * Where ioredis writes these commands (its Pipeline hands it such a stand-in too): into `pending` while a
   * read is being sent; straight to the socket otherwise, in the order ioredis queues them (a command it
   * sends again after a reconnect, with the stream it was first sent with).
   */
  const sink = {
    isPipeline: true,
    destination: { redis: client },
    write(writable: string | Buffer): void {
      if (pending !== null && typeof writable === 'string') {
        pending += writable;
        return;
      }
      flush();
      client.stream.write(writable);
    },
  };
  const flush = (): void => {
    const text = pending;
    pending = null;
    if (text) client.stream.write(text);
  };
  return (commands) => {
    if (corked === null && client.stream) {
      corked = client.stream;
      corked.cork();
      process.nextTick(uncork);
    }
    const replies = new Array<Promise<unknown>>(commands.length);
    pending = '';
    try {
      for (let i = 0; i < commands.length; i++) {
        const [name, ...args] = commands[i]!;
        replies[i] = send(new CommandOf(name, args, options), sink);
      }
    } finally {
      flush();
    }
    return Promise.all(replies);
  };
}
