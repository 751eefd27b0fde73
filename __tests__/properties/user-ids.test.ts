/**
 * Properties of user ids, on the Redis Cluster target: any well-formed id (non-blank, 1-1024 UTF-16
 * units, any Unicode without a lone surrogate) signs in, and every key the store wrote for that user
 * (found by SCAN on every master, named with the store's own keyNamer) lives in one Cluster slot (CLUSTER
 * KEYSLOT); any ill-formed id (lone surrogate, empty, blank, too long, not a string) is refused with
 * INVALID_ARGUMENT by login() over HTTP and by revokeUser()/listSessions() called directly.
 */
import fc from 'fast-check';
import type { Cluster } from 'ioredis';
import request from 'supertest';
import { SessionError } from '../../lib';
import { MAX_USER_ID_LENGTH } from '../../lib/user-id';
import { isSessionKey, useApp, userKeys } from '../helpers/suite';
import { TARGETS } from '../helpers/targets';

const clusterTarget = TARGETS.find((t) => t.deployment === 'cluster' && t.client === 'ioredis')!;
const ctx = useApp(clusterTarget);

const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();
const WHITESPACE = [' ', '\t', '\n', '\r', '\v', '\f', '\u00a0', '\u1680', '\u2003', '\u2028', '\u3000', '\ufeff'];

/** Well-formed ids: any code points (astral ones too), short ones, ones near the length limit, ids padded with spaces. */
const wellFormed = fc
  .oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
    fc.string({ unit: 'binary-ascii', minLength: MAX_USER_ID_LENGTH - 24, maxLength: MAX_USER_ID_LENGTH }),
    fc.tuple(fc.constantFrom(...WHITESPACE), fc.string({ unit: 'binary', minLength: 1, maxLength: 10 })).map(([space, id]) => `${space}${id}${space}`),
  )
  .filter((id) => id.length >= 1 && id.length <= MAX_USER_ID_LENGTH && id.trim() !== '' && isWellFormed(id));

/** A lone surrogate placed anywhere in an otherwise fine id. */
const loneSurrogate = fc
  .tuple(fc.string({ unit: 'binary', maxLength: 10 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ unit: 'binary', maxLength: 10 }))
  .map(([before, unit, after]) => `${before}${String.fromCharCode(unit)}${after}`)
  .filter((id) => !isWellFormed(id));

/** Ill-formed ids JSON can carry, so they reach login() through a request body. */
const illFormedJson = fc.oneof(
  loneSurrogate,
  fc.constant(''),
  fc.array(fc.constantFrom(...WHITESPACE), { minLength: 1, maxLength: 8 }).map((spaces) => spaces.join('')),
  fc.string({ unit: 'binary-ascii', minLength: MAX_USER_ID_LENGTH + 1, maxLength: MAX_USER_ID_LENGTH + 50 }),
  fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 })),
);

/** Any non-string at all, for the methods an app calls directly. */
const notAString = fc.anything({ withBigInt: true, withMap: true, withSet: true, withBoxedValues: true, withNullPrototype: true }).filter((v) => typeof v !== 'string');

async function keyslot(key: string): Promise<number> {
  return Number(await (ctx.redis as Cluster).call('CLUSTER', 'KEYSLOT', key));
}

test('any well-formed user id signs in on the Cluster, and all its keys share one slot', async () => {
  await fc.assert(
    fc.asyncProperty(wellFormed, async (userId) => {
      const login = await request(ctx.app).post('/login').send({ userId });
      expect(login.status).toBe(200);
      expect(login.body.userId).toBe(userId);
      const me = await request(ctx.app).get('/me').set('Cookie', login.headers['set-cookie']);
      expect(me.status).toBe(200);
      expect(me.body.userId).toBe(userId);

      const keys = userKeys(ctx.prefix, userId);
      const userBase = keys.index.slice(0, keys.index.lastIndexOf('}') + 1);
      const found: string[] = [];
      for (const node of (ctx.redis as Cluster).nodes('master')) {
        found.push(...(await node.keys(`${userBase.replace(/[*?[\]\\]/g, '\\$&')}*`)));
      }
      // The user index and the new session's record, both named by the store's key namer.
      expect(found).toContain(keys.index);
      expect(found.filter(isSessionKey).length).toBeGreaterThanOrEqual(1);
      const slots = new Set(await Promise.all([...found, keys.channel].map(keyslot)));
      expect(slots.size).toBe(1);
    }),
    { numRuns: 60, seed: 1402 },
  );
});

test('any ill-formed user id that JSON can carry is refused by login() with INVALID_ARGUMENT', async () => {
  await fc.assert(
    fc.asyncProperty(illFormedJson, async (userId) => {
      const login = await request(ctx.app).post('/login').send({ userId });
      expect(login.status).toBe(400);
      expect(login.body.error.code).toBe('INVALID_ARGUMENT');
      expect(login.headers['set-cookie']).toBeUndefined();
    }),
    { numRuns: 80, seed: 1403 },
  );
});

test('any ill-formed user id, any non-string, is refused by revokeUser() and listSessions() with INVALID_ARGUMENT', async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(illFormedJson, notAString), async (userId) => {
      for (const call of [() => ctx.sessions.revokeUser(userId as string), () => ctx.sessions.listSessions(userId as string)]) {
        const error = await call().then(() => null, (err: unknown) => err);
        expect(error).toBeInstanceOf(SessionError);
        expect((error as SessionError).code).toBe('INVALID_ARGUMENT');
      }
    }),
    { numRuns: 100, seed: 1404 },
  );
});
