/**
 * Model-based test: random sequences of sign-in (maxSessions 2, displace-oldest), signed-in request, data
 * save, sign-out, revokeUser(), revokeSession() and time passing (idleTimeout 2 s, touchAfter 0) run over HTTP
 * against real Redis and against a small in-memory model of the rules; after every step the answer (status,
 * code, data, count) and the live sessions (listSessions() of each user) must be what the model allows.
 *
 * Time is real, so a session whose idle deadline falls inside a request's window may or may not have
 * expired when Redis looked: the model then keeps both possible worlds and lets the later answers decide.
 * Outside those windows (margins of SLACK_MS) the model allows exactly one answer.
 */
import fc from 'fast-check';
import request from 'supertest';
import { sleep, useApp } from '../helpers/suite';
import { TARGETS } from '../helpers/targets';

const IDLE_MS = 2000;
/** Index TTL: indexTtlFactor (1.5, the default) times the idle timeout; tombstones live in the index. */
const INDEX_MS = 3000;
/** Clock uncertainty around an idle deadline (TTL precision, the gap between the app's and Redis's view). */
const SLACK_MS = 150;
const USERS = ['model-a', 'model-b'] as const;

const ctx = useApp(TARGETS[0], { idleTimeout: IDLE_MS / 1000, touchAfter: 0, absoluteTimeout: false, maxSessions: 2, onLimit: 'displace-oldest' }, (app, sessions) => {
  app.post('/revoke-session', async (req, res, next) => {
    try {
      res.json({ ended: await sessions.revokeSession(req.body.userId, req.body.sessionId) });
    } catch (err) {
      next(err);
    }
  });
});

type Status = 'live' | 'D' | 'R' | 'L' | 'E';
interface ModelSession {
  readonly user: string;
  readonly sessionId: string;
  /** Order of creation (the displace-oldest rule). */
  readonly created: number;
  status: Status;
  /** Window of the last touch (sign-in or accepted request): Redis set the idle deadline somewhere inside it. */
  touchLo: number;
  touchHi: number;
  /** When the session ended (upper bound), for the tombstone's lifetime. */
  endedHi: number;
  note: string | null;
}
interface World {
  sessions: ModelSession[];
  /** Per user, the start of the last request that refreshed the index TTL. */
  keptLo: Record<string, number>;
}

const CODE: Record<Exclude<Status, 'live'>, string> = { D: 'SESSION_DISPLACED', R: 'SESSION_REVOKED', L: 'SESSION_EXPIRED', E: 'SESSION_EXPIRED' };

const clone = (world: World): World => ({ sessions: world.sessions.map((s) => ({ ...s })), keptLo: { ...world.keptLo } });
const keyOf = (world: World): string => JSON.stringify(world.sessions.map((s) => [s.status, s.note]));

/** 'alive', 'expired' or 'unsure' for a live session looked at by Redis somewhere in [start, end]. */
function idleState(session: ModelSession, start: number, end: number): 'alive' | 'expired' | 'unsure' {
  if (end - session.touchLo < IDLE_MS - SLACK_MS) return 'alive';
  if (start - session.touchHi > IDLE_MS + SLACK_MS) return 'expired';
  return 'unsure';
}

/** The codes a request with an ended session may get: its reason, or EXPIRED once its tombstone may be gone. */
function codesOf(world: World, session: ModelSession, end: number): string[] {
  const codes = [CODE[session.status as Exclude<Status, 'live'>]];
  const pruned = end - session.endedHi > IDLE_MS - SLACK_MS; // a later sign-in drops tombstones older than the idle timeout
  const indexGone = end - world.keptLo[session.user] > INDEX_MS - SLACK_MS;
  if (pruned || indexGone) codes.push('SESSION_EXPIRED');
  return codes;
}

/** Every world the real system may be in once Redis looked at `world` during [start, end]: each unsure session either way. */
function expand(world: World, start: number, end: number): World[] {
  let worlds = [clone(world)];
  world.sessions.forEach((session, i) => {
    if (session.status !== 'live') return;
    const state = idleState(session, start, end);
    const expire = (w: World): World => {
      const next = clone(w);
      next.sessions[i].status = 'E';
      next.sessions[i].endedHi = Math.min(end, session.touchHi + IDLE_MS + SLACK_MS);
      return next;
    };
    if (state === 'expired') worlds = worlds.map(expire);
    else if (state === 'unsure') worlds = worlds.flatMap((w) => [w, expire(w)]);
  });
  return worlds;
}

type Command =
  | { kind: 'signIn'; user: number }
  | { kind: 'me'; pick: number }
  | { kind: 'save'; pick: number; note: string }
  | { kind: 'logout'; pick: number }
  | { kind: 'revokeUser'; user: number }
  | { kind: 'revokeSession'; pick: number }
  | { kind: 'wait' };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('signIn' as const), user: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('me' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('save' as const), pick: fc.nat(), note: fc.string({ maxLength: 8 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('logout' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('revokeUser' as const), user: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('revokeSession' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'wait' as const }) },
);

/** What the real system answered to one step, reduced to what the model predicts. */
interface Answer {
  status: number;
  code?: string;
  note?: string | null;
  ended?: number | boolean;
  sessionId?: string;
}

/** Runs one sequence; throws (through expect) at the first step where no model world allows the answer. */
async function run(commands: Command[], round: number): Promise<void> {
  const users = USERS.map((u) => `${u}-${round}`);
  const cookies: string[] = [];
  let worlds: World[] = [{ sessions: [], keptLo: Object.fromEntries(users.map((u) => [u, 0])) }];
  const log: string[] = [];

  for (const cmd of commands) {
    if (cmd.kind === 'wait') {
      await sleep(IDLE_MS + 2 * SLACK_MS + 200);
      log.push('wait');
      continue;
    }
    // A step on a session needs one; with none issued yet, sign in instead.
    const step: Command = 'pick' in cmd && cookies.length === 0 ? { kind: 'signIn', user: 0 } : cmd;
    const pick = 'pick' in step ? step.pick % cookies.length : -1;
    const start = Date.now();
    const answer = await perform(step, users, cookies, pick, worlds[0]);
    const end = Date.now();
    log.push(`${JSON.stringify(step)} -> ${JSON.stringify(answer)}`);

    const next: World[] = [];
    for (const world of worlds) {
      for (const candidate of expand(world, start, end)) {
        if (apply(candidate, step, pick, answer, users, start, end)) next.push(candidate);
      }
    }
    // Which sessions are live now, as Redis says, against every surviving world.
    const listStart = Date.now();
    const live = await Promise.all(users.map((u) => ctx.sessions.listSessions(u)));
    const listEnd = Date.now();
    const liveIds = new Set(live.flat().map((s) => s.sessionId));
    worlds = dedupe(next.flatMap((w) => agreeOnLive(w, liveIds, listStart, listEnd)));
    if (worlds.length === 0) {
      throw new Error(`the real system left the model at step ${log.length}:\n${log.join('\n')}\nlive now: ${[...liveIds].join(', ')}`);
    }
  }
}

function dedupe(worlds: World[]): World[] {
  const seen = new Map<string, World>();
  for (const w of worlds) if (!seen.has(keyOf(w))) seen.set(keyOf(w), w);
  return [...seen.values()];
}

/** Sends one step over HTTP (or, for revokeUser, through the test app's /revoke route). */
async function perform(step: Command, users: string[], cookies: string[], pick: number, world: World): Promise<Answer> {
  switch (step.kind) {
    case 'signIn': {
      const res = await request(ctx.app).post('/login').send({ userId: users[step.user] });
      if (res.status === 200) cookies.push(res.headers['set-cookie'][0].split(';')[0]);
      await sleep(2); // two sign-ins never share Redis's millisecond, so "oldest" is never a tie
      return { status: res.status, code: res.body.error?.code, sessionId: res.body.sessionId };
    }
    case 'me': {
      const res = await request(ctx.app).get('/me').set('Cookie', cookies[pick]);
      return { status: res.status, code: res.body.error?.code, note: res.status === 200 ? (res.body.note ?? null) : undefined };
    }
    case 'save': {
      const res = await request(ctx.app).post('/data').set('Cookie', cookies[pick]).send({ note: step.note });
      return { status: res.status, code: res.body.error?.code };
    }
    case 'logout': {
      const res = await request(ctx.app).post('/logout').set('Cookie', cookies[pick]);
      return { status: res.status, code: res.body?.error?.code };
    }
    case 'revokeUser': {
      const res = await request(ctx.app).post('/revoke').send({ userId: users[step.user] });
      return { status: res.status, ended: res.body.ended };
    }
    case 'revokeSession': {
      const target = world.sessions[pick];
      const res = await request(ctx.app).post('/revoke-session').send({ userId: target.user, sessionId: target.sessionId });
      return { status: res.status, ended: res.body.ended };
    }
    default:
      throw new Error('unreachable');
  }
}

/** Applies `step` to `world` (already expanded for time); false when the world does not allow `answer`. */
function apply(world: World, step: Command, pick: number, answer: Answer, users: string[], start: number, end: number): boolean {
  const touch = (s: ModelSession): void => {
    s.touchLo = start;
    s.touchHi = end;
    world.keptLo[s.user] = start;
  };
  const endSession = (s: ModelSession, status: Status): void => {
    s.status = status;
    s.endedHi = end;
  };
  const target = pick >= 0 ? world.sessions[pick] : undefined;
  const refused = (s: ModelSession): boolean => answer.status === 401 && codesOf(world, s, end).includes(answer.code!);
  switch (step.kind) {
    case 'signIn': {
      if (answer.status !== 200 || !answer.sessionId) return false;
      const user = users[step.user];
      const live = world.sessions.filter((s) => s.user === user && s.status === 'live').sort((a, b) => a.created - b.created);
      if (live.length >= 2) endSession(live[0], 'D');
      const session: ModelSession = { user, sessionId: answer.sessionId, created: world.sessions.length, status: 'live', touchLo: start, touchHi: end, endedHi: 0, note: null };
      world.sessions.push(session);
      world.keptLo[user] = start;
      return true;
    }
    case 'me':
      if (target!.status !== 'live') return refused(target!);
      if (answer.status !== 200 || answer.note !== target!.note) return false;
      touch(target!);
      return true;
    case 'save':
      if (target!.status !== 'live') return refused(target!);
      if (answer.status !== 200) return false;
      touch(target!);
      target!.note = (step as { note: string }).note;
      return true;
    case 'logout':
      if (answer.status !== 204) return false;
      if (target!.status === 'live') endSession(target!, 'L');
      return true;
    case 'revokeUser': {
      const live = world.sessions.filter((s) => s.user === users[step.user] && s.status === 'live');
      if (answer.status !== 200 || answer.ended !== live.length) return false;
      for (const s of live) endSession(s, 'R');
      return true;
    }
    case 'revokeSession': {
      const wasLive = target!.status === 'live';
      if (answer.status !== 200 || answer.ended !== wasLive) return false;
      if (wasLive) endSession(target!, 'R');
      return true;
    }
    default:
      return false;
  }
}

/** The worlds in which listSessions() could have answered `liveIds` during [start, end] (unsure sessions may have expired by then). */
function agreeOnLive(world: World, liveIds: Set<string>, start: number, end: number): World[] {
  for (const s of world.sessions) {
    const listed = liveIds.has(s.sessionId);
    if (s.status !== 'live') {
      if (listed) return [];
      continue;
    }
    const state = idleState(s, start, end);
    if (listed && state === 'expired') return [];
    if (!listed && state === 'alive') return [];
    if (!listed) {
      s.status = 'E';
      s.endedHi = end;
    }
  }
  const known = new Set(world.sessions.map((s) => s.sessionId));
  return [...liveIds].every((id) => known.has(id)) ? [world] : [];
}

let round = 0;

test('random sequences of sign-in, request, save, sign-out, revoke and time passing agree with the model at every step', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 4, maxLength: 15 }), async (commands) => {
      await run(commands, round++);
    }),
    { numRuns: 15, seed: 1408, endOnFailure: true },
  );
}, 120_000);
