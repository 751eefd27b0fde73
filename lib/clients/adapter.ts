/**
 * The client boundary: the few operations the store (and later the notices and the local cache)
 * need from a Redis client. Each supported client is one adapter file; nothing else in lib/
 * imports a Redis client package.
 */

import type { TrackingTarget } from './tracking';

/** A plain Redis command: its name, then its arguments. */
export type Command = readonly [name: string, ...args: string[]];

/** Where the connection stands: commands go out now, wait for readiness, or fail fast. */
export type ConnectionState = 'ready' | 'connecting' | 'offline';

/** What the package asks of a Redis client. Implemented once per client library. */
export interface RedisAdapter {
  /** The client library, for messages: `ioredis` or `node-redis`. */
  readonly library: string;
  /** True for a Redis Cluster client. */
  readonly isCluster: boolean;
  /** The connection's state right now; `offline` means a command would be queued or lost. */
  state(): ConnectionState;
  /** Resolves the next time commands can be sent (starting a lazy client's connection). */
  whenReady(): Promise<void>;
  /** EVALSHA routed by the first key. Rejects with the server's error (NOSCRIPT included). */
  evalsha(sha: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /** EVAL routed by the first key. */
  eval(source: string, keys: readonly string[], args: readonly string[]): Promise<unknown>;
  /**
   * Plain commands (name and arguments) sent together in one round trip on the node of their first key;
   * resolves to each raw reply (an error reply rejects the whole call). Replies keep RESP2 shapes:
   * HGETALL is a flat array.
   */
  pipeline(commands: readonly Command[]): Promise<unknown[]>;
  /** WAIT on the connection that serves `routingKey`: how many replicas acknowledged its writes. */
  wait(routingKey: string, replicas: number, timeoutMs: number): Promise<number>;
  /**
   * Where the client's master is right now and how to log in to it (null while the client is not
   * connected), for the local cache's own tracked connection (tracking.ts). Absent where one connection
   * cannot see every key (a Cluster) or the client does not tell its connection details.
   */
  trackingTarget?(): TrackingTarget | null;
  /** Key names matching `pattern` on every master, a batch at a time (SCAN: never blocks Redis). */
  scan(pattern: string, count: number): AsyncIterable<string[]>;
  /**
   * A new subscriber for sharded pub/sub, on connections of its own (the adapter's client is never put
   * in subscriber mode). Called once per manager, lazily, by the live notices (`liveEvents()`).
   */
  subscriber(handlers: SubscriberHandlers): Subscriber;
}

/** What a {@link Subscriber} reports back. Both run synchronously; they must not throw. */
export interface SubscriberHandlers {
  /** A message arrived on a subscribed shard channel. */
  message(channel: string, message: string): void;
  /**
   * The connection serving these channels was lost (or moved to another master) and they are subscribed
   * again: messages published in between were lost, so whoever listens should check its state once.
   */
  resubscribed(channels: string[]): void;
}

/**
 * Sharded pub/sub (SSUBSCRIBE / SUNSUBSCRIBE, Redis 7+) on a dedicated connection: a `duplicate()` of the
 * app's client, or on a Cluster one connection per master, each channel on the master of its slot.
 * It opens its connection(s) on the first `subscribe()`, keeps every subscribed channel subscribed across
 * reconnects and failovers (then calls `resubscribed`), and closes them on `close()` or when the app's
 * own client ends.
 */
export interface Subscriber {
  /** SSUBSCRIBE `channel`; resolves once Redis confirmed it. Subscribing twice is harmless. */
  subscribe(channel: string): Promise<void>;
  /** SUNSUBSCRIBE `channel`; never rejects (a lost connection has nothing left to unsubscribe). */
  unsubscribe(channel: string): Promise<void>;
  /** How many connections it holds open right now. */
  connections(): number;
  /** Closes every connection; later calls to `subscribe` reject. */
  close(): void;
}
