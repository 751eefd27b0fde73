/**
 * One app process of a chaos run: the package wired as the README shows, on its own ioredis
 * client (plain, Sentinel or Cluster), listening on a free loopback port. Every route answers
 * what the history needs: the user id and the data field `note` it saw. Started by chaos/run.ts.
 *   ESS_REDIS          JSON: {"port":N} | {"cluster":[ports]} | {"sentinels":[ports],"name":"..."}
 *   ESS_KEY_PREFIX, ESS_STORE_TIMEOUT, ESS_IDLE_TIMEOUT (s)
 *   ESS_WAIT_FOR_REPLICAS  JSON `{ replicas, timeoutMs }` for the `waitForReplicas` option (absent: off)
 *   ESS_LOG_ERRORS=1   the store errors behind 503s and the client's connection events on stderr
 * Prints {"port":N,"features":[...]} when listening; GET /faults reports unhandled rejections,
 * uncaught exceptions and a Redis client that ended for good, which must all stay empty.
 */
import cookieParser from 'cookie-parser';
import express, { type NextFunction, type Request, type Response } from 'express';
import Redis, { Cluster } from 'ioredis';
import { createSessionManager } from '../lib';

declare module '../lib' {
  interface SessionData {
    note: string;
  }
}

/** Also `clientEnded`: the Redis client gave up for good (status `end`) while the app did not close it. */
const faults = { unhandledRejections: [] as string[], uncaughtExceptions: [] as string[], clientEnded: [] as string[] };
let closing = false;
process.on('unhandledRejection', (reason) => faults.unhandledRejections.push(String(reason)));
process.on('uncaughtException', (err) => faults.uncaughtExceptions.push(String(err)));

const target = JSON.parse(process.env.ESS_REDIS ?? '{}') as { port?: number; cluster?: number[]; sentinels?: number[]; name?: string };
const retryStrategy = (n: number) => Math.min(n * 50, 500);
const redis = target.cluster
  ? new Cluster(target.cluster.map((port) => ({ host: '127.0.0.1', port })))
  : target.sentinels
    ? new Redis({ sentinels: target.sentinels.map((port) => ({ host: '127.0.0.1', port })), name: target.name, retryStrategy }) // no failoverDetector: README, Redis Sentinel
    : new Redis({ host: '127.0.0.1', port: target.port, retryStrategy });
redis.on('error', () => undefined);
redis.on('end', () => {
  if (!closing) faults.clientEnded.push(`the Redis client of app ${process.pid} ended at ${new Date().toISOString()} (status end: no reconnect until a restart)`);
});
/** ESS_LOG_ERRORS=1: the store errors behind 503s and the client's connection events on stderr (at most one error line per second). */
const logErrors = process.env.ESS_LOG_ERRORS === '1';
let lastLogged = 0;
const note = (line: string) => process.stderr.write(`app ${process.pid} ${new Date().toISOString().slice(11, 23)} ${line}\n`);
if (logErrors) for (const event of ['ready', 'reconnecting', 'end', '+node', '-node']) redis.on(event, () => note(`${event} ${(redis as unknown as { stream?: { remotePort?: number } }).stream?.remotePort ?? ''}`));

const sessions = createSessionManager({
  redis,
  keyPrefix: process.env.ESS_KEY_PREFIX,
  storeTimeoutMs: Number(process.env.ESS_STORE_TIMEOUT ?? 500),
  idleTimeout: Number(process.env.ESS_IDLE_TIMEOUT ?? 60),
  absoluteTimeout: false,
  cookie: { secure: false },
  onError: (err) => {
    if (!logErrors || Date.now() - lastLogged < 1000) return;
    lastLogged = Date.now();
    const cause = (err as { cause?: unknown }).cause;
    note(`${err.code}: ${cause instanceof Error ? cause.message : String(cause ?? err.message)}`);
  },
  ...(process.env.ESS_WAIT_FOR_REPLICAS ? { waitForReplicas: JSON.parse(process.env.ESS_WAIT_FOR_REPLICAS) as { replicas: number; timeoutMs: number } } : {}),
});
/** Methods added by later versions of the package, used when present. */
const optional = sessions as unknown as { revokeSession?: (userId: string, sessionId: string) => Promise<unknown> };
const features = typeof optional.revokeSession === 'function' ? ['revokeSession'] : [];

const app = express();
app.use(cookieParser('chaos-secret-for-cookie-signing-0123456789'));
app.use(express.json());
app.use(sessions.middleware());

const answer = (req: Request, res: Response) => res.json({ userId: req.session!.userId, sessionId: req.session!.sessionId, note: req.session!.note ?? null });
app.post('/login', async (req, res) => {
  await sessions.login(req, res, String(req.body.userId));
  answer(req, res);
});
app.get('/me', sessions.requireSession(), answer);
app.post('/save', sessions.requireSession(), async (req, res) => {
  req.session!.note = String(req.body.note);
  await req.session!.save();
  answer(req, res);
});
app.post('/logout', async (req, res) => {
  await sessions.logout(req, res);
  res.status(204).end();
});
app.post('/revoke', async (req, res) => {
  const ended = req.body.sessionId && optional.revokeSession
    ? await optional.revokeSession(String(req.body.userId), String(req.body.sessionId))
    : await sessions.revokeUser(String(req.body.userId));
  res.json({ ended });
});
app.get('/faults', (_req, res) => {
  res.json(faults);
});
app.use((err: { status?: number; code?: string; message: string }, _req: Request, res: Response, _next: NextFunction) => {
  res.status(err.status ?? 500).json({ error: { code: err.code ?? 'INTERNAL', message: err.message } });
});

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port, features })}\n`);
});
process.on('SIGTERM', () => {
  closing = true;
  server.close();
  redis.disconnect();
});
