/** Session data as Redis keeps it: each field as JSON, names the package needs refused, sizes bounded. */
import { SessionError } from './errors';

/**
 * The names apps cannot use for their own data: the facts and methods of `req.session`,
 * `__proto__`, `prototype` and every member of `Object.prototype` (`toString`, `hasOwnProperty`, ...).
 */
export const RESERVED: ReadonlySet<string> = new Set([
  'userId', 'sessionId', 'createdAt', 'authenticatedAt', 'lastActiveAt', 'expiresAt', 'idleExpiresAt', 'absoluteExpiresAt',
  'save', 'toJSON', '__proto__', 'prototype', ...Object.getOwnPropertyNames(Object.prototype),
]);

/** The limits on a session's data (options `maxDataBytes` and `maxDataFields`). */
export interface DataLimits {
  /** Most UTF-8 bytes of field names plus JSON values a session's data may hold. */
  readonly maxDataBytes: number;
  /** Most data fields a session may hold. */
  readonly maxDataFields: number;
}

/**
 * Turns app data into [field, JSON] pairs, refusing what cannot round-trip or is over the limits.
 * Throws `INVALID_ARGUMENT` naming the field or the limit.
 */
export function encodeData(data: object, limits: DataLimits): [string, string][] {
  const entries: [string, string][] = [];
  let bytes = 0;
  for (const name of Object.keys(data)) {
    const value = (data as Record<string, unknown>)[name];
    if (value === undefined) continue;
    const json = encodeField(name, value);
    entries.push([name, json]);
    bytes += sizeOf(name, json);
  }
  checkLimits(entries.length, bytes, limits, 0, 0);
  return entries;
}

/** Bytes a field takes in the limit: its name and JSON value in UTF-8. */
function sizeOf(name: string, json: string): number {
  return Buffer.byteLength(name) + Buffer.byteLength(json);
}

/** Refuses data over a limit, unless the change does not make it bigger (so an oversized session can shrink). */
function checkLimits(fields: number, bytes: number, limits: DataLimits, fieldsBefore: number, bytesBefore: number): void {
  if (fields > limits.maxDataFields && fields > fieldsBefore) {
    throw new SessionError('INVALID_ARGUMENT', `session data would have ${fields} fields, over \`maxDataFields\` (${limits.maxDataFields}).`);
  }
  if (bytes > limits.maxDataBytes && bytes > bytesBefore) {
    throw new SessionError('INVALID_ARGUMENT', `session data would take ${bytes} bytes as JSON, over \`maxDataBytes\` (${limits.maxDataBytes}).`);
  }
}

/** Throws `INVALID_ARGUMENT` naming a field that cannot be session data. */
export function refuseName(name: string): never {
  throw new SessionError('INVALID_ARGUMENT', `session data cannot use the reserved name \`${name}\`; rename the field.`);
}

/** The JSON of one data field; throws `INVALID_ARGUMENT` for a reserved name or a value JSON cannot hold. */
export function encodeField(name: string, value: unknown): string {
  if (RESERVED.has(name)) refuseName(name);
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (cause) {
    throw new SessionError('INVALID_ARGUMENT', `session data field \`${name}\` cannot be stored as JSON.`, { cause });
  }
  if (json === undefined) throw new SessionError('INVALID_ARGUMENT', `session data field \`${name}\` cannot be stored as JSON.`);
  return json;
}

/**
 * Checks the data a save would leave in Redis: `saved` with `set` written and `remove` deleted.
 * Throws `INVALID_ARGUMENT` naming the limit if it is over one and bigger than before.
 */
export function checkMergedLimits(saved: ReadonlyMap<string, string>, set: [string, string][], remove: string[], limits: DataLimits): void {
  let bytesBefore = 0;
  for (const [name, json] of saved) bytesBefore += sizeOf(name, json);
  let bytes = bytesBefore;
  let fields = saved.size - remove.length;
  for (const [name, json] of set) {
    const old = saved.get(name);
    if (old === undefined) fields++;
    else bytes -= sizeOf(name, old);
    bytes += sizeOf(name, json);
  }
  for (const name of remove) bytes -= sizeOf(name, saved.get(name)!);
  checkLimits(fields, bytes, limits, saved.size, bytesBefore);
}
