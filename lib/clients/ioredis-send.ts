/**
 * Plain commands on an ioredis client, batched by the package whatever the client's options: every
 * call made before the event loop's next check phase leaves in one ioredis `pipeline()` (one write,
 * so one read for Redis), through ioredis's public API only.
 */
import type { Cluster, Redis } from 'ioredis';
import type { Command } from './adapter';
import { slotOf } from './slot';

/** One caller's commands and where their replies go. */
interface Pending {
  readonly commands: readonly Command[];
  resolve(replies: unknown[]): void;
  reject(err: unknown): void;
}

/**
 * Without a pipeline, ioredis writes each command to the socket on its own (2 to 3 Redis reads per
 * request of two commands, measured with `total_reads_processed`), unless the app set
 * `enableAutoPipelining`, which the package must not depend on. So the calls of one turn of the event
 * loop are gathered, as node-redis and ioredis's auto-pipelining gather theirs, and sent together at
 * `setImmediate`: one read for one request, and one for all the requests that arrived together. On a
 * Cluster, one pipeline per hash slot (a pipeline must stay on one node; a user's keys share a slot).
 * A call's replies come back in order; an error reply rejects that call only.
 */
export function sendTogether(client: Redis | Cluster, isCluster = false): (commands: readonly Command[]) => Promise<unknown[]> {
  let batches: Map<number, Pending[]> | null = null;

  function send(calls: Pending[]): void {
    const pipeline = client.pipeline();
    for (const { commands } of calls) for (const [name, ...args] of commands) pipeline.call(name, ...args);
    pipeline.exec().then(
      (results) => {
        let at = 0;
        for (const call of calls) {
          const own = (results ?? []).slice(at, (at += call.commands.length));
          const failed = own.find(([err]) => err);
          if (failed) call.reject(failed[0]);
          else if (own.length !== call.commands.length) call.reject(new Error('the pipeline answered fewer commands than it was sent'));
          else call.resolve(own.map(([, reply]) => reply));
        }
      },
      (err: unknown) => {
        for (const call of calls) call.reject(err);
      },
    );
  }

  function flush(): void {
    const sending = batches!;
    batches = null;
    // The calls were made while the connection was ready; one that dropped since is not queued for later.
    if (client.status !== 'ready') {
      const err = new Error(`the Redis connection is ${client.status}`);
      for (const calls of sending.values()) for (const call of calls) call.reject(err);
      return;
    }
    for (const calls of sending.values()) send(calls);
  }

  return (commands) =>
    new Promise<unknown[]>((resolve, reject) => {
      // A script is a write: it leaves now, in the order the app made it, not after the turn's reads.
      if (commands.some(([name]) => name === 'EVALSHA' || name === 'EVAL')) {
        if (client.status === 'ready') send([{ commands, resolve, reject }]);
        else reject(new Error(`the Redis connection is ${client.status}`));
        return;
      }
      if (batches === null) {
        batches = new Map();
        setImmediate(flush);
      }
      const slot = isCluster ? slotOf(commands[0]?.[1] ?? '') : 0;
      let calls = batches.get(slot);
      if (!calls) batches.set(slot, (calls = []));
      calls.push({ commands, resolve, reject });
    });
}
