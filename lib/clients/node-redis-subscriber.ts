/**
 * Sharded pub/sub for node-redis: one `duplicate()` of the app's client (plain, Sentinel or Cluster;
 * node-redis routes each SSUBSCRIBE of a Cluster to the master of the channel's slot), opened on the
 * first subscribe. node-redis re-subscribes by itself after a reconnect; its next 'ready' is reported
 * as `resubscribed`, so streams check once for anything published in the gap.
 */
import type { Subscriber, SubscriberHandlers } from './adapter';

/** The members of a node-redis client (or Cluster) the subscriber uses. */
interface PubSubClient {
  isOpen: boolean;
  connect(): Promise<unknown>;
  duplicate(): PubSubClient;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  sSubscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  sUnsubscribe(channel: string): Promise<unknown>;
  destroy?(): void;
  close?(): Promise<unknown>;
  disconnect?(): Promise<unknown>;
}

/** A subscriber on a duplicate of `app`; closed with `close()` or when the app closes its client or Cluster. */
export function nodeRedisSubscriber(app: unknown, handlers: SubscriberHandlers): Subscriber {
  const client = app as PubSubClient;
  const channels = new Set<string>();
  let connection: PubSubClient | null = null;
  let opening: Promise<PubSubClient> | null = null;
  let closed = false;
  let lost = false;

  const close = (): void => {
    if (closed) return;
    closed = true;
    const open = connection;
    connection = null;
    if (open?.destroy) open.destroy();
    else void (open?.close ?? open?.disconnect)?.call(open).catch(() => undefined);
  };
  // A client emits 'end' when closed or destroyed; a Cluster emits 'disconnect' instead (only then).
  client.on('end', close);
  client.on('disconnect', close);

  function open(): Promise<PubSubClient> {
    if (connection) return Promise.resolve(connection);
    return (opening ??= (async () => {
      const sub = client.duplicate();
      sub.on('error', () => undefined); // it reconnects; the app's own client reports Redis trouble
      sub.on('reconnecting', () => {
        lost = channels.size > 0;
      });
      sub.on('ready', () => {
        if (!lost) return;
        lost = false;
        handlers.resubscribed([...channels]);
      });
      await sub.connect();
      connection = sub;
      opening = null;
      return sub;
    })().catch((err: unknown) => {
      opening = null;
      throw err;
    }));
  }

  return {
    async subscribe(channel) {
      if (closed) throw new Error('the subscriber is closed');
      const sub = await open();
      if (channels.has(channel)) return;
      channels.add(channel);
      await sub.sSubscribe(channel, (message, from) => {
        if (channels.has(from)) handlers.message(from, message);
      });
    },
    async unsubscribe(channel) {
      if (!channels.delete(channel) || !connection) return;
      await connection.sUnsubscribe(channel).catch(() => undefined);
    },
    connections: () => (connection ? 1 : 0),
    close,
  };
}
