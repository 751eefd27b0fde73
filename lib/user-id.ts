/** The one check every method that takes a user id runs: a canonical id Redis stores exactly as given. */
import { SessionError } from './errors';

/** The longest user id accepted, in UTF-16 code units. */
export const MAX_USER_ID_LENGTH = 1024;

/** `String.prototype.isWellFormed` (Node 20+; the ES2024 typings are not in this project's `lib`). */
const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * Refuses a user id that is not a non-empty string of at most {@link MAX_USER_ID_LENGTH} characters,
 * is blank (only whitespace), or is not well-formed Unicode (a lone surrogate would reach Redis as
 * U+FFFD and share a slot with another id). Throws `INVALID_ARGUMENT` naming `method`.
 */
export function checkUserId(userId: unknown, method: string): asserts userId is string {
  let problem: string | null = null;
  if (typeof userId !== 'string') problem = `received ${userId === null ? 'null' : typeof userId}`;
  else if (userId.length === 0) problem = 'received an empty string';
  else if (userId.length > MAX_USER_ID_LENGTH) problem = `received ${userId.length} characters`;
  else if (userId.trim() === '') problem = 'received only whitespace';
  else if (!isWellFormed(userId)) problem = 'it is not well-formed Unicode (it has a lone surrogate)';
  if (problem !== null) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      `${method}() needs a user id: a non-blank, well-formed string of at most ${MAX_USER_ID_LENGTH} characters; ${problem}. Pass the user's canonical, unchanging id (its primary key).`,
    );
  }
}
