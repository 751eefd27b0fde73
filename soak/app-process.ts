/**
 * The app process of a soak run: the package wired as the README shows, on one ioredis client,
 * listening on a free loopback port, with short TTLs from the environment. GET /soak/stats forces a
 * garbage collection (node --expose-gc) and reports heap, RSS, open handles by kind, open HTTP
 * connections and event listeners, which soak/run.ts samples over time.
 *   ESS_REDIS_PORT, ESS_KEY_PREFIX, ESS_IDLE_TIMEOUT (s), ESS_ABSOLUTE_TIMEOUT (s)
 * Prints {"port":N} when listening.
 */
import type { EventEmitter } from 'node:events';
import cookieParser from 'cookie-parser';
import express, { type NextFunction, type Request, type Response } from 'express';
import Redis from 'ioredis';
import { createSessionManager } from '../lib';

declare module '../lib' {
  interface SessionData {
    note: string;
    visits: number;
  }
}

const faults: string[] = [];
process.on('unhandledRejection', (reason) => faults.push(`unhandledRejection: ${String(reason)}`));
process.on('uncaughtException', (err) => faults.push(`uncaughtException: ${String(err)}`));

const redis = new Redis({ host: '127.0.0.1', port: Number(process.env.ESS_REDIS_PORT), enableAutoPipelining: true });
redis.on('error', () => undefined);
const sessions = createSessionManager({
  redis,
  keyPrefix: process.env.ESS_KEY_PREFIX,
  idleTimeout: Number(process.env.ESS_IDLE_TIMEOUT ?? 3),
  absoluteTimeout: Number(process.env.ESS_ABSOLUTE_TIMEOUT ?? 20),
  cookie: { secure: false },
});

const app = express();
app.use(cookieParser('soak-secret-for-cookie-signing-0123456789'));
app.use(express.json());
app.use(sessions.middleware());

const wrap = (handler: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
  handler(req, res).catch(next);
};
app.post('/login', wrap(async (req, res) => {
  const session = await sessions.login(req, res, String(req.body.userId), { visits: 0 });
  res.json({ sessionId: session.sessionId });
}));
app.get('/me', sessions.requireSession(), (req, res) => {
  res.json({ userId: req.session!.userId, visits: req.session!.visits ?? 0 });
});
app.post('/save', sessions.requireSession(), wrap(async (req, res) => {
  req.session!.visits = (req.session!.visits ?? 0) + 1;
  req.session!.note = String(req.body.note);
  await req.session!.save();
  res.json({ visits: req.session!.visits });
}));
app.post('/logout', wrap(async (req, res) => {
  await sessions.logout(req, res);
  res.status(204).end();
}));
app.post('/revoke', wrap(async (req, res) => {
  res.json({ ended: await sessions.revokeUser(String(req.body.userId)) });
}));

/** Listeners on the emitters a leak would pile up on: the Redis client, the manager, the HTTP server, the process. */
function listenerCount(emitter: EventEmitter): number {
  return emitter.eventNames().reduce((sum, name) => sum + emitter.listenerCount(name), 0);
}

app.get('/soak/stats', (_req, res) => {
  (globalThis as { gc?: () => void }).gc?.();
  const handles: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) handles[kind] = (handles[kind] ?? 0) + 1;
  server.getConnections((err, connections) => {
    const memory = process.memoryUsage();
    res.json({
      heapUsed: memory.heapUsed,
      rss: memory.rss,
      handles,
      connections: err ? -1 : connections,
      listeners: {
        redis: listenerCount(redis),
        sessions: listenerCount(sessions as unknown as EventEmitter),
        server: listenerCount(server),
        process: listenerCount(process),
      },
      faults,
    });
  });
});
app.use((err: { status?: number; code?: string; message: string }, _req: Request, res: Response, _next: NextFunction) => {
  res.status(err.status ?? 500).json({ error: { code: err.code ?? 'INTERNAL', message: err.message } });
});

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  redis.disconnect();
});
