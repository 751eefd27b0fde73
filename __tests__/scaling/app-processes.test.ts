/**
 * Several app processes on one Redis: the single-session rule holds across processes, because
 * Redis, not any process's memory, decides which session is current.
 */
import Redis from 'ioredis';
import { startAppProcess, type AppProcess } from '../helpers/app-processes';
import { getMe, loginOver } from '../helpers/load';
import { userKeys } from '../helpers/suite';
import { uniquePrefix } from '../helpers/targets';
import { hashToken } from '../../lib/token';

const port = Number(process.env.ESS_TEST_REDIS_PORT);
const prefix = uniquePrefix();
let processes: AppProcess[] = [];
let redis: Redis;

beforeAll(async () => {
  redis = new Redis({ host: '127.0.0.1', port });
  processes = await Promise.all([startAppProcess({ port }, { keyPrefix: prefix }), startAppProcess({ port }, { keyPrefix: prefix })]);
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await redis.quit();
});

/** The raw token inside a signed cookie pair `ess_sid=s%3A<tag>.<token>.<signature>`. */
function tokenOf(cookiePair: string): string {
  const value = decodeURIComponent(cookiePair.slice('ess_sid='.length)).slice(2);
  return value.split('.')[1];
}

test('200 concurrent logins for one user over two processes leave exactly one valid session', async () => {
  const [a, b] = processes;
  const cookies = await Promise.all(Array.from({ length: 200 }, (_, i) => loginOver((i % 2 ? a : b).base, 'many-logins')));
  const answers = await Promise.all(cookies.map((cookie, i) => getMe((i % 2 ? b : a).base, 'many-logins', cookie)));

  const valid = answers.filter((r) => r.status === 200);
  expect(valid).toHaveLength(1);
  expect(valid[0].userId).toBe('many-logins');
  expect(answers.filter((r) => r.status === 401 && r.code === 'SESSION_DISPLACED')).toHaveLength(199);

  const keys = userKeys(prefix, 'many-logins');
  expect((await redis.keys(`${prefix}*`)).sort()).toEqual([keys.index, keys.session(hashToken(tokenOf(cookies[answers.indexOf(valid[0])])))].sort());
  const winner = hashToken(tokenOf(cookies[answers.indexOf(valid[0])]));
  expect(await redis.hget(keys.session(winner), 'u')).toBe('many-logins');
  const index = await redis.hgetall(keys.index);
  expect(Object.entries(index).filter(([, mark]) => mark === '')).toEqual([[winner, '']]);
  expect(Object.values(index).filter((mark) => /^D\d+$/.test(mark))).toHaveLength(199);
});

test('a login through process A displaces the session held through process B at once', async () => {
  const [a, b] = processes;
  const throughB = await loginOver(b.base, 'two-places');
  expect((await getMe(b.base, 'two-places', throughB)).status).toBe(200);

  const throughA = await loginOver(a.base, 'two-places');
  const old = await getMe(b.base, 'two-places', throughB);
  expect(old.status).toBe(401);
  expect(old.code).toBe('SESSION_DISPLACED');
  for (const p of processes) expect((await getMe(p.base, 'two-places', throughA)).userId).toBe('two-places');
});

test('no process saw an unhandled rejection or exception', async () => {
  for (const p of processes) {
    expect(await p.faults()).toMatchObject({ unhandledRejections: [], uncaughtExceptions: [] });
    expect(p.alive).toBe(true);
  }
});
