/**
 * The `req.session` object: read-only facts about the session (getters) next to the app's own
 * data (plain properties). It remembers the JSON it was loaded with, so only the fields a request
 * changed are written back, and two requests that change different fields both keep their change.
 */
import { SessionError } from './errors';
import type { SessionStore, StoredSession } from './store';
import type { SessionRef } from './token';

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
  /** The start of the current request (every authenticated request counts as activity). */
  readonly lastActiveAt: Date;
  /** When the session ends if unused: `lastActiveAt` plus the idle timeout, capped by the absolute deadline. */
  readonly expiresAt: Date;
  /** `lastActiveAt` plus the idle timeout. */
  readonly idleExpiresAt: Date;
  /** The absolute deadline, or `null` when `absoluteTimeout` is off. */
  readonly absoluteExpiresAt: Date | null;
  /** Writes changed data now instead of at the end of the response. Rejects with `SESSION_DISPLACED` or `SESSION_EXPIRED` if the session is no longer current. */
  save(): Promise<void>;
  /** The facts (times as ISO-8601 strings) and the data, for `res.json`. */
  toJSON(): Record<string, unknown>;
}

/** What `req.session` is on a resolved request: facts plus the app's data. */
export type Session = SessionInfo & Partial<SessionData>;

/** The names apps cannot use for their own data. */
export const RESERVED = new Set([
  'userId', 'sessionId', 'createdAt', 'lastActiveAt', 'expiresAt', 'idleExpiresAt', 'absoluteExpiresAt',
  'save', 'toJSON', '__proto__', 'constructor', 'prototype',
]);

interface Facts {
  readonly ref: SessionRef;
  readonly store: SessionStore;
  readonly idleMs: number;
  /** As Redis answered; `data` holds the JSON of each field as last loaded or saved. */
  readonly stored: StoredSession;
}

/** The concrete class behind `req.session`. Not exported from the package. */
export class ActiveSession {
  readonly #facts: Facts;

  constructor(facts: Facts) {
    this.#facts = facts;
    for (const [name, json] of facts.stored.data) {
      if (!RESERVED.has(name)) (this as Record<string, unknown>)[name] = JSON.parse(json);
    }
  }

  get userId(): string { return this.#facts.stored.userId; }
  get sessionId(): string { return this.#facts.stored.sessionId; }
  get createdAt(): Date { return new Date(this.#facts.stored.createdAt); }
  get lastActiveAt(): Date { return new Date(this.#facts.stored.lastActiveAt); }
  get idleExpiresAt(): Date { return new Date(this.#facts.stored.lastActiveAt + this.#facts.idleMs); }
  get absoluteExpiresAt(): Date | null {
    const deadline = this.#facts.stored.absoluteDeadline;
    return deadline > 0 ? new Date(deadline) : null;
  }
  get expiresAt(): Date {
    const { idleMs, stored } = this.#facts;
    const idle = stored.lastActiveAt + idleMs;
    return new Date(stored.absoluteDeadline > 0 && stored.absoluteDeadline < idle ? stored.absoluteDeadline : idle);
  }

  async save(): Promise<void> {
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

  toJSON(): Record<string, unknown> {
    const absolute = this.absoluteExpiresAt;
    return {
      ...(this as unknown as Record<string, unknown>),
      userId: this.userId,
      sessionId: this.sessionId,
      createdAt: this.createdAt.toISOString(),
      lastActiveAt: this.lastActiveAt.toISOString(),
      expiresAt: this.expiresAt.toISOString(),
      idleExpiresAt: this.idleExpiresAt.toISOString(),
      absoluteExpiresAt: absolute ? absolute.toISOString() : null,
    };
  }
}

/** Builds `req.session` from what the store returned. Throws if a data field is not JSON. */
export function createSession(ref: SessionRef, store: SessionStore, idleMs: number, stored: StoredSession): ActiveSession {
  return new ActiveSession({ ref, store, idleMs, stored });
}

/** The session's reference in Redis, for logout. */
export function refOf(session: ActiveSession): SessionRef {
  return ActiveSession.factsOf(session).ref;
}

/**
 * Turns app data into [field, JSON] pairs, refusing what cannot round-trip.
 * Throws `INVALID_ARGUMENT` naming the field.
 */
export function encodeData(data: object): [string, string][] {
  const entries: [string, string][] = [];
  for (const name of Object.keys(data)) {
    const value = (data as Record<string, unknown>)[name];
    if (value === undefined) continue;
    entries.push([name, encodeField(name, value)]);
  }
  return entries;
}

function encodeField(name: string, value: unknown): string {
  if (RESERVED.has(name)) throw new SessionError('INVALID_ARGUMENT', `session data cannot use the reserved name \`${name}\`.`);
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (cause) {
    throw new SessionError('INVALID_ARGUMENT', `session data field \`${name}\` cannot be stored as JSON.`, { cause });
  }
  if (json === undefined) throw new SessionError('INVALID_ARGUMENT', `session data field \`${name}\` cannot be stored as JSON.`);
  return json;
}

/** The data fields changed since load or the last save; `null` when nothing changed. */
export function changesOf(session: ActiveSession): { set: [string, string][]; remove: string[] } | null {
  const saved = ActiveSession.factsOf(session).stored.data;
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
  return set.length === 0 && remove.length === 0 ? null : { set, remove };
}
