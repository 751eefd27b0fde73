/**
 * The notices the scripts publish when a session ends: the shard channel of a user and the message
 * format, one letter (`D`isplaced, `R`evoked, `L`ogged out) and the session id as stored (see keys.ts).
 */
import { keyNamer } from './keys';
import { uuidOf } from './records';

/**
 * Why a session ended: the one name for it. A live stream's `ended` event carries it as `code`; a request
 * whose session ended gets the same codes (signed out reads as `SESSION_EXPIRED` there), see `EndedCode`.
 */
export type LiveEndCode = 'SESSION_DISPLACED' | 'SESSION_REVOKED' | 'SESSION_EXPIRED' | 'SESSION_LOGGED_OUT';

/** One decoded notice. */
export interface EndNotice {
  readonly code: Exclude<LiveEndCode, 'SESSION_EXPIRED'>;
  /** The session id as `req.session.sessionId` shows it. */
  readonly sessionId: string;
}

const KINDS: Record<string, EndNotice['code']> = { D: 'SESSION_DISPLACED', R: 'SESSION_REVOKED', L: 'SESSION_LOGGED_OUT' };
const NOTICE = /^[DRL][0-9a-f]{32}$/;

/** Builds the channel namer for one key prefix: the shard channel of a user's notices. */
export function channelNamer(prefix: string): (userTag: string) => string {
  const keysOf = keyNamer(prefix);
  return (userTag) => keysOf(userTag).channel;
}

/** Decodes a notice; null for anything this format version does not publish. */
export function decodeNotice(message: string): EndNotice | null {
  if (typeof message !== 'string' || !NOTICE.test(message)) return null;
  const code = KINDS[message.charAt(0)];
  return code ? { code, sessionId: uuidOf(message.slice(1)) } : null;
}
