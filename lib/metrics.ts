/**
 * The optional Prometheus bridge: counters and a store-latency histogram registered on the app's
 * prom-client `Registry`, fed by the manager's events. prom-client is loaded only when asked for.
 */
import type { EventEmitter } from 'node:events';
import { SessionError } from './errors';
import type { SessionEvents } from './events';
import type { StoreObserver } from './store/store';

interface Counter { inc(labels?: Record<string, string> | number, value?: number): void }
interface Histogram { observe(labels: Record<string, string>, value: number): void }
interface PromClient {
  Counter: new (config: object) => Counter;
  Histogram: new (config: object) => Histogram;
}

function loadPromClient(): PromClient {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('prom-client') as PromClient;
  } catch (cause) {
    throw new SessionError('INVALID_OPTIONS', '`metrics` needs the prom-client package: npm install prom-client.', { cause });
  }
}

/** Registers the metrics on `registry`, listens to `events`, and returns the store-latency observer. */
export function registerMetrics(registry: unknown, events: EventEmitter): StoreObserver {
  const prom = loadPromClient();
  const registers = [registry];
  const counter = (name: string, help: string, labelNames: string[] = []): Counter =>
    new prom.Counter({ name, help, labelNames, registers });
  const signIns = counter('ess_sign_ins_total', 'Sessions created by login().');
  const displacements = counter('ess_displacements_total', 'Sessions ended by a newer sign-in of the same user.');
  const rejections = counter('ess_sign_in_rejections_total', "Sign-ins refused by maxSessions with onLimit 'reject-new'.");
  const revocations = counter('ess_revocations_total', 'Sessions ended by revokeSession() or revokeUser().');
  const logouts = counter('ess_logouts_total', 'Sessions signed out.');
  const requests = counter('ess_requests_total', 'Requests resolved by the middleware, by outcome (OK or the error code).', ['outcome']);
  const latency = new prom.Histogram({
    name: 'ess_store_call_seconds',
    help: 'Duration of session store calls to Redis, by operation and result.',
    labelNames: ['operation', 'result'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const on = <K extends keyof SessionEvents>(name: K, listener: (event: SessionEvents[K]) => void): void => {
    events.on(name, listener);
  };
  on('login', () => signIns.inc());
  on('displaced', (event) => { if (!event.remote) displacements.inc(); });
  on('limit', () => rejections.inc());
  on('revoked', (event) => { if (!event.remote) revocations.inc(); });
  on('logout', (event) => { if (!event.remote) logouts.inc(); });
  on('request', (event) => requests.inc({ outcome: event.outcome }));
  return (operation, seconds, ok) => latency.observe({ operation, result: ok ? 'ok' : 'error' }, seconds);
}
