/**
 * Redis Cluster: both keys of a user share the `{userTag}` hash tag, so every script and the
 * revoke DEL touch a single slot and no operation can fail with CROSSSLOT, whichever master
 * owns the user. Many users spread over all masters of the shared cluster prove it.
 */
import type { Cluster } from 'ioredis';
import request from 'supertest';
import { buildApp } from '../helpers/app';
import { isIndexKey, userKeys } from '../helpers/suite';
import { TARGETS, uniquePrefix } from '../helpers/targets';

const USERS = Array.from({ length: 120 }, (_, i) => `cluster-user-${i}`);
const target = TARGETS.find((t) => t.deployment === 'cluster' && t.client === 'ioredis')!;
const prefix = uniquePrefix();
let redis: Cluster;
let built: ReturnType<typeof buildApp>;

beforeAll(() => {
  redis = target.connect() as Cluster;
  built = buildApp(redis, { keyPrefix: prefix });
});

afterAll(async () => {
  await redis.quit();
});

async function keysPerMaster(): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  for (const node of redis.nodes('master')) result.set(`${node.options.host}:${node.options.port}`, await node.keys(`${prefix}*`));
  return result;
}

test('the shared cluster really refuses a script whose keys span two slots', async () => {
  await expect(redis.eval("return redis.call('GET', KEYS[1])", 2, `${prefix}{a}:s`, `${prefix}{b}:u`)).rejects.toThrow(/CROSSSLOT/);
});

test('every operation works for users spread over all masters, with no CROSSSLOT error', async () => {
  const { app, sessions } = built;
  const cookies = new Map<string, string>();
  for (const user of USERS) {
    const res = await request(app).post('/login').send({ userId: user, data: { n: 1 } });
    expect(res.status).toBe(200);
    cookies.set(user, String(res.headers['set-cookie']).split(';')[0]);
  }

  const perMaster = await keysPerMaster();
  expect(perMaster.size).toBe(3);
  for (const keys of perMaster.values()) expect(keys.length).toBeGreaterThan(10);
  const slotsOf = async (keys: string[]): Promise<Set<number>> => new Set(await Promise.all(keys.map((k) => redis.cluster('KEYSLOT', k) as Promise<number>)));
  for (const user of USERS) {
    const keys = userKeys(prefix, user);
    const hashes = await redis.hkeys(keys.index);
    expect(hashes).toHaveLength(1);
    expect((await slotsOf([keys.index, keys.session(hashes[0]), keys.channel])).size).toBe(1);
  }

  for (const [user, cookie] of cookies) {
    const saved = await request(app).post('/data').set('Cookie', cookie).send({ n: 2 });
    expect(saved.status).toBe(200);
    const me = await request(app).get('/me').set('Cookie', cookie);
    expect(me.body).toMatchObject({ userId: user, n: 2 });
  }
  const half = USERS.slice(0, USERS.length / 2);
  for (const user of half) expect((await request(app).post('/logout').set('Cookie', cookies.get(user)!)).status).toBe(204);
  for (const user of USERS.slice(USERS.length / 2)) expect(await sessions.revokeUser(user)).toBe(1);
  // What is left are the user indexes, holding only tombstones that say why each session ended.
  for (const keys of (await keysPerMaster()).values()) expect(keys.filter((key) => !isIndexKey(key))).toEqual([]);
  for (const user of USERS) {
    const marks = Object.values(await redis.hgetall(userKeys(prefix, user).index));
    expect(marks).toEqual([expect.stringMatching(half.includes(user) ? /^L\d+$/ : /^R\d+$/)]);
  }
});
