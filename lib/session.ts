/**
 * The `req.session` object: read-only facts about the session (own, non-configurable getters that no
 * assignment, definition or prototype swap can shadow or replace) next to the app's own data (plain
 * properties). It remembers the JSON it was loaded with, so only the fields a request changed are written back, and two requests
 * that change different fields both keep their change. Names the package needs and data over the
 * size limits (lib/session-data.ts) are refused loudly, never dropped.
 */
import { SessionError } from './errors';
import { checkMergedLimits, encodeField, refuseName, RESERVED, type DataLimits } from './session-data';
import type { SessionStore, StoredSession } from './store/store';
import type { SessionRef, UserTagger } from './token';

export { encodeData } from './session-data';

/**
 * The app's own session data. Extend it by declaration merging:
 * @example
 * declare module 'express-single-session' {
 *   interface SessionData { cart: string[]; theme: 'light' | 'dark' }
 * }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SessionData {}

/** Facts about a live session, kept by the package. All read-only. */
export interface SessionInfo {
  /** The signed-in user's id, as given to `login`. */
  readonly userId: string;
  /** The public handle of this session (a UUID). Safe to show and log; it is not the secret token. */
  readonly sessionId: string;
  /** When the user signed in. */
  readonly createdAt: Date;
  /** When the user last proved who they are: the sign-in, or the last `reauthenticate()`. */
  readonly authenticatedAt: Date;
  /**
   * When Redis last recorded activity: this request if it refreshed the session, otherwise the last request
   * that did (with `touchAfter`, at most that long ago; with `touchAfter: 0`, always this request).
   */
  readonly lastActiveAt: Date;
  /** When the session ends if unused: `idleExpiresAt`, capped by the absolute deadline. */
  readonly expiresAt: Date;
  /** `lastActiveAt` plus the idle timeout. */
  readonly idleExpiresAt: Date;
  /** The absolute deadline, or `null` when `absoluteTimeout` is off. */
  readonly absoluteExpiresAt: Date | null;
  /**
   * Writes changed data now instead of at the end of the response. Rejects with `SESSION_DISPLACED`,
   * `SESSION_REVOKED`, `SESSION_ROTATED` or `SESSION_EXPIRED` if this token no longer holds a live session.
   * Given `callback` (express-session's style, which Passport uses), it is called with the outcome instead.
   */
  save(callback?: (err?: unknown) => void): Promise<void>;
  /** The facts (times as ISO-8601 strings) and the data, for `res.json`. */
  toJSON(): Record<string, unknown>;
}

/** What `req.session` is on a resolved request: facts plus the app's data. */
export type Session = SessionInfo & Partial<SessionData>;

/** What a session needs from the configuration: the idle timeout, the data limits, the tag function. */
export interface SessionPolicy extends DataLimits {
  readonly idleMs: number;
  /** The manager's user tag function: a session is only valid under the tag of its own user id. */
  readonly userTagOf: UserTagger;
}

interface Facts {
  /** Changes only when `reauthenticate()` moves the session to a new token. */
  ref: SessionRef;
  readonly store: SessionStore;
  readonly policy: SessionPolicy;
  /** As Redis answered; `data` holds the JSON of each field as last loaded or saved. */
  readonly stored: StoredSession;
}

/** The concrete class behind `req.session`. Not exported from the package. */
export class ActiveSession {
  readonly #facts: Facts;
  /** A name an assignment tried to use that cannot be data (`__proto__`); reported by the next save. */
  #refused: string | null = null;

  constructor(facts: Facts) {
    this.#facts = facts;
    // Own, non-configurable and without setters: no assignment, defineProperty, delete or prototype swap can
    // shadow or replace a fact or a method on this object. One defineProperty per member with a descriptor
    // made once: about half the cost of one Object.defineProperties call (node microbenchmark, 1M sessions).
    const own = OWN_MEMBERS;
    Object.defineProperty(this, 'userId', own.userId);
    Object.defineProperty(this, 'sessionId', own.sessionId);
    Object.defineProperty(this, 'createdAt', own.createdAt);
    Object.defineProperty(this, 'authenticatedAt', own.authenticatedAt);
    Object.defineProperty(this, 'lastActiveAt', own.lastActiveAt);
    Object.defineProperty(this, 'expiresAt', own.expiresAt);
    Object.defineProperty(this, 'idleExpiresAt', own.idleExpiresAt);
    Object.defineProperty(this, 'absoluteExpiresAt', own.absoluteExpiresAt);
    Object.defineProperty(this, 'save', own.save);
    Object.defineProperty(this, 'toJSON', own.toJSON);
    for (const [name, json] of facts.stored.data) {
      if (!RESERVED.has(name)) (this as Record<string, unknown>)[name] = JSON.parse(json);
    }
  }

  get userId(): string { return this.#facts.stored.userId; }
  get sessionId(): string { return this.#facts.stored.sessionId; }
  get createdAt(): Date { return new Date(this.#facts.stored.createdAt); }
  get authenticatedAt(): Date { return new Date(this.#facts.stored.authenticatedAt); }
  get lastActiveAt(): Date { return new Date(this.#facts.stored.lastActiveAt); }
  get idleExpiresAt(): Date { return new Date(this.#facts.stored.lastActiveAt + this.#facts.policy.idleMs); }
  get absoluteExpiresAt(): Date | null {
    const deadline = this.#facts.stored.absoluteDeadline;
    return deadline > 0 ? new Date(deadline) : null;
  }
  get expiresAt(): Date {
    const { policy, stored } = this.#facts;
    const idle = stored.lastActiveAt + policy.idleMs;
    return new Date(stored.absoluteDeadline > 0 && stored.absoluteDeadline < idle ? stored.absoluteDeadline : idle);
  }

  save(callback?: (err?: unknown) => void): Promise<void> {
    const saving = this.#save();
    if (!callback) return saving;
    // Called outside the promise chain: what the callback throws is its caller's, never an unhandled rejection.
    return saving.then(() => process.nextTick(callback), (err: unknown) => process.nextTick(callback, err));
  }

  async #save(): Promise<void> {
    const changes = changesOf(this);
    if (!changes) return;
    const { store, ref, stored } = this.#facts;
    const outcome = await store.save(ref, changes.set, changes.remove);
    if (outcome !== 'OK') throw new SessionError(outcome);
    for (const [name, json] of changes.set) stored.data.set(name, json);
    for (const name of changes.remove) stored.data.delete(name);
  }

  /** The package's own view of a session (private fields are invisible to the app and to logs). */
  static factsOf(session: ActiveSession): Facts {
    return session.#facts;
  }

  /** The name an assignment tried to use as data and could not, if any. */
  static refusedOf(session: ActiveSession): string | null {
    return session.#refused;
  }

  static {
    // `Object.assign(req.session, JSON.parse('{"__proto__": {...}}'))` would otherwise swap the
    // prototype and with it every fact. This accessor stops the swap and records the refused name.
    Object.defineProperty(ActiveSession.prototype, '__proto__', {
      get(this: object) { return Object.getPrototypeOf(this); },
      set(this: object) { if (#refused in this) this.#refused = '__proto__'; },
      enumerable: false,
      configurable: false,
    });
  }

  toJSON(): Record<string, unknown> {
    const absolute = this.absoluteExpiresAt;
    return {
      ...(this as unknown as Record<string, unknown>),
      userId: this.userId,
      sessionId: this.sessionId,
      createdAt: this.createdAt.toISOString(),
      authenticatedAt: this.authenticatedAt.toISOString(),
      lastActiveAt: this.lastActiveAt.toISOString(),
      expiresAt: this.expiresAt.toISOString(),
      idleExpiresAt: this.idleExpiresAt.toISOString(),
      absoluteExpiresAt: absolute ? absolute.toISOString() : null,
    };
  }
}

// Frozen: the prototype cannot be changed in place.
Object.freeze(ActiveSession.prototype);

/** The facts and methods every session holds as its own members: the prototype's getters and functions, locked. */
const OWN_NAMES = ['userId', 'sessionId', 'createdAt', 'authenticatedAt', 'lastActiveAt', 'expiresAt', 'idleExpiresAt', 'absoluteExpiresAt', 'save', 'toJSON'] as const;
const OWN_MEMBERS = Object.fromEntries(
  OWN_NAMES.map((name) => {
    const { get, value } = Object.getOwnPropertyDescriptor(ActiveSession.prototype, name)!;
    const locked: PropertyDescriptor = get ? { get } : { value, writable: false };
    return [name, { ...locked, enumerable: false, configurable: false }];
  }),
) as Readonly<Record<(typeof OWN_NAMES)[number], PropertyDescriptor>>;

/**
 * Builds `req.session` from what the store returned. Throws if a data field is not JSON, or if the
 * cookie's user tag is not the tag of the stored user id (issued under another `userTagSecret`).
 */
export function createSession(ref: SessionRef, store: SessionStore, policy: SessionPolicy, stored: StoredSession): ActiveSession {
  if (policy.userTagOf(stored.userId) !== ref.userTag) {
    throw new SessionError('SESSION_INVALID', 'the session was issued under another user tag (userTagSecret changed).');
  }
  return new ActiveSession({ ref, store, policy, stored });
}

/** The session's reference in Redis, for logout. */
export function refOf(session: ActiveSession): SessionRef {
  return ActiveSession.factsOf(session).ref;
}

/** The current request's time in Redis's clock (for ages that must not depend on the app's clock). */
export function observedAt(session: ActiveSession): number {
  return ActiveSession.factsOf(session).stored.observedAt;
}

/** Points a session at its new token after `reauthenticate()` and records when the user proved who they are. */
export function rebind(session: ActiveSession, ref: SessionRef, authenticatedAt: number): void {
  const facts = ActiveSession.factsOf(session);
  facts.ref = ref;
  facts.stored.authenticatedAt = authenticatedAt;
  facts.stored.observedAt = Math.max(facts.stored.observedAt, authenticatedAt);
}

/**
 * The data fields changed since load or the last save; `null` when nothing changed.
 * Throws `INVALID_ARGUMENT` for a reserved name, data that is not JSON, or a result over the limits.
 */
export function changesOf(session: ActiveSession): { set: [string, string][]; remove: string[] } | null {
  const refused = ActiveSession.refusedOf(session);
  if (refused !== null) refuseName(refused);
  const { stored, policy } = ActiveSession.factsOf(session);
  const saved = stored.data;
  const names = Object.keys(session);
  if (names.length === 0 && saved.size === 0) return null;
  const set: [string, string][] = [];
  const remove: string[] = [];
  for (const name of names) {
    const value = (session as unknown as Record<string, unknown>)[name];
    if (value === undefined) continue;
    const json = encodeField(name, value);
    if (saved.get(name) !== json) set.push([name, json]);
  }
  for (const name of saved.keys()) {
    if ((session as unknown as Record<string, unknown>)[name] === undefined) remove.push(name);
  }
  if (set.length === 0 && remove.length === 0) return null;
  checkMergedLimits(saved, set, remove, policy);
  return { set, remove };
}
