/**
 * `npm run chaos`: starts a private Redis deployment and several app processes on loopback, runs
 * simulated users against them while a seeded scheduler injects faults, records the history
 * (chaos/.tmp/), checks it (chaos/checker.ts), prints the table per fault kind and exits 1 on a
 * violation the README does not name as possible.
 *
 *   npm run chaos -- --topology sentinel|cluster --duration 60 --seed 1 --processes 3
 *     [--users 12] [--faults kill-master,sigstop,restart-aof,client-kill,debug-sleep]
 *     [--store-timeout 300] [--margin 1000] [--stall 600] [--out file.jsonl]
 *     [--wait-for-replicas 1 [--wait-timeout 200]]   (the apps' `waitForReplicas` option; off by default)
 *     [--lagging half|always|never]   (how often a killed master's replica lags behind; default half)
 *     [--lag-ms 1000]   (how long a lagging replica is cut off before its master is killed)
 *     [--scenario mixed|devices]   (mixed: every operation, 2 clients per user; devices: each user
 *      switches between two devices and the one put down keeps polling with its old cookie)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { checkText } from './check';
import type { Fault, HistoryMeta, Operation } from './history';
import { seededRandom, simulate, type Endpoint, type Scenario } from './simulate';
import { FAULT_KINDS, inject, startTopology, type FaultKind, type Topology } from './topology';

const { values: args } = parseArgs({
  options: {
    topology: { type: 'string', default: 'sentinel' },
    duration: { type: 'string', default: '60' },
    seed: { type: 'string', default: '1' },
    processes: { type: 'string', default: '3' },
    users: { type: 'string', default: '12' },
    faults: { type: 'string', default: FAULT_KINDS.join(',') },
    'store-timeout': { type: 'string', default: '300' },
    margin: { type: 'string', default: '1000' },
    stall: { type: 'string', default: '600' },
    out: { type: 'string' },
    'wait-for-replicas': { type: 'string' },
    'wait-timeout': { type: 'string', default: '200' },
    lagging: { type: 'string', default: 'half' },
    'lag-ms': { type: 'string', default: '1000' },
    scenario: { type: 'string', default: 'mixed' },
  },
});

const topologyName = args.topology as 'sentinel' | 'cluster';
if (topologyName !== 'sentinel' && topologyName !== 'cluster') throw new Error('--topology must be sentinel or cluster');
const faultKinds = args.faults.split(',').filter(Boolean) as FaultKind[];
for (const kind of faultKinds) if (!FAULT_KINDS.includes(kind)) throw new Error(`unknown fault kind ${kind}; known: ${FAULT_KINDS.join(', ')}`);
const durationMs = Number(args.duration) * 1000;
const seed = Number(args.seed);
const storeTimeoutMs = Number(args['store-timeout']);
const marginMs = Number(args.margin);
const stallMs = Number(args.stall);
const LAGGING: Record<string, number> = { half: 0.5, always: 1, never: 0 };
const laggingShare = LAGGING[args.lagging];
if (laggingShare === undefined) throw new Error('--lagging must be half, always or never');
const lagMs = Number(args['lag-ms']);
const scenario = args.scenario as Scenario;
if (scenario !== 'mixed' && scenario !== 'devices') throw new Error('--scenario must be mixed or devices');
const waitForReplicas = args['wait-for-replicas'] ? { replicas: Number(args['wait-for-replicas']), timeoutMs: Number(args['wait-timeout']) } : null;
const IDLE_S = 60;
/** Effects within 2 s after a fault healed are counted under that fault (Redis catching up, clients reconnecting). */
const SETTLE_MS = 2000;

const started = performance.now();
const now = () => performance.now() - started;
const log = (line: string) => process.stderr.write(`chaos ${(now() / 1000).toFixed(1)}s: ${line}\n`);

interface AppChild {
  endpoint: Endpoint;
  faults(): Promise<{ unhandledRejections: string[]; uncaughtExceptions: string[]; clientEnded: string[] }>;
  stop(): Promise<void>;
}

function startApp(name: string, topology: Topology, keyPrefix: string): Promise<AppChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'app-process.ts')], {
    env: { ...process.env, NODE_NO_WARNINGS: '1', ESS_REDIS: JSON.stringify(topology.target), ESS_KEY_PREFIX: keyPrefix, ESS_STORE_TIMEOUT: String(storeTimeoutMs), ESS_IDLE_TIMEOUT: String(IDLE_S),
      ...(waitForReplicas ? { ESS_WAIT_FOR_REPLICAS: JSON.stringify(waitForReplicas) } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`app process ${name} exited with ${code} before listening`)));
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      if (!out.includes('\n')) return;
      const { port, features } = JSON.parse(out.split('\n')[0]) as { port: number; features: string[] };
      const base = `http://127.0.0.1:${port}`;
      resolve({
        endpoint: { name, base, features },
        faults: async () => (await (await fetch(`${base}/faults`)).json()) as Awaited<ReturnType<AppChild['faults']>>,
        async stop() {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
  });
}

async function main(): Promise<number> {
  const random = seededRandom(seed);
  log(`starting ${topologyName}, ${args.processes} app processes, ${args.users} users x 2 ${scenario === 'devices' ? 'devices' : 'clients'}, seed ${seed}, faults ${faultKinds.join(',')}${waitForReplicas ? `, waitForReplicas ${JSON.stringify(waitForReplicas)}` : ''}`);
  const topology = await startTopology(topologyName);
  const apps: AppChild[] = [];
  const operations: Operation[] = [];
  const faults: Fault[] = [];
  try {
    for (let i = 0; i < Number(args.processes); i++) apps.push(await startApp(`p${i}`, topology, `chaos${seed}:`));
    let stop!: () => void;
    const until = new Promise<void>((resolve) => (stop = resolve));
    const traffic = simulate({
      scenario, endpoints: apps.map((a) => a.endpoint), users: Number(args.users), clientsPerUser: 2, seed, now,
      clientTimeoutMs: storeTimeoutMs + marginMs + 5000, until, record: (op) => operations.push(op),
    });
    const trafficStart = now();
    await new Promise((r) => setTimeout(r, 2000));
    // Faults one at a time, with quiet gaps, until 3 s before the end.
    while (faultKinds.length > 0 && now() - trafficStart < durationMs - 3000) {
      const kind = faultKinds[Math.floor(random() * faultKinds.length)];
      const masters = await topology.masters();
      const master = masters[Math.floor(random() * masters.length)];
      const start = now();
      const target = await inject(topology, kind, master, { stallMs: Math.round(stallMs * (0.5 + random() / 2)), lagMs: random() < laggingShare ? lagMs : 0 });
      faults.push({ type: 'fault', kind, target, start, end: now() });
      log(`${kind} on ${target}: ${Math.round(now() - start)} ms until healed`);
      await new Promise((r) => setTimeout(r, 1000 + random() * 2000));
    }
    const left = durationMs - (now() - trafficStart);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    stop();
    await traffic;
    const reports = await Promise.all(apps.map((a) => a.faults()));
    const crashes = reports.flatMap((f) => [...f.unhandledRejections, ...f.uncaughtExceptions]);
    // An ioredis client that ended by itself (the README's Sentinel caveat, without failoverDetector now): reported, not failed on.
    const ended = reports.flatMap((f) => f.clientEnded);

    const meta: HistoryMeta = {
      type: 'meta', storeTimeoutMs, marginMs, settleMs: SETTLE_MS, idleMs: IDLE_S * 1000, absoluteMs: 0, maxSessions: 1, waitForReplicas,
      topology: topologyName, seed, processes: apps.length, durationMs, faults: faultKinds, scenario, lagging: args.lagging, lagMs,
    };
    const text = [meta, ...faults, ...operations].map((e) => JSON.stringify(e)).join('\n');
    const out = args.out ?? join(__dirname, '.tmp', `history-${topologyName}-${scenario}-${seed}${waitForReplicas ? '-wait' : ''}.jsonl`);
    mkdirSync(join(out, '..'), { recursive: true });
    writeFileSync(out, `${text}\n`);
    const { report, passed } = checkText(text);
    const option = `${scenario} scenario, ` + (waitForReplicas ? `waitForReplicas ${JSON.stringify(waitForReplicas)}` : 'no waitForReplicas');
    process.stdout.write(`\n${topologyName}, seed ${seed}, ${Math.round(durationMs / 1000)} s, ${apps.length} app processes, ${option}: ${operations.length} operations, ${faults.length} faults (history: ${out})\n\n${report}\n`);
    if (crashes.length > 0) process.stdout.write(`\nApp processes reported ${crashes.length} unhandled rejection(s) or uncaught exception(s):\n${crashes.slice(0, 5).join('\n')}\n`);
    if (ended.length > 0) process.stdout.write(`\n${ended.length} app process(es) lost their Redis client for good (see the README's Redis Sentinel section); every later request of theirs answered 503:\n${ended.join('\n')}\n`);
    return passed && crashes.length === 0 ? 0 : 1;
  } finally {
    await Promise.all(apps.map((a) => a.stop()));
    await topology.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
