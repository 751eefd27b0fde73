/**
 * The client boundary: the few operations the store (and later the notices and the local cache)
 * need from a Redis client. Each supported client is one adapter file; nothing else in lib/
 * imports a Redis client package.
 */

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
  pipeline(commands: readonly (readonly string[])[]): Promise<unknown[]>;
  /** WAIT on the connection that serves `routingKey`: how many replicas acknowledged its writes. */
  wait(routingKey: string, replicas: number, timeoutMs: number): Promise<number>;
  /** Key names matching `pattern` on every master, a batch at a time (SCAN: never blocks Redis). */
  scan(pattern: string, count: number): AsyncIterable<string[]>;
}
