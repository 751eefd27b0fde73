/**
 * Redis key names and the stored-format version. Every key of a user shares the hash tag
 * `{userTag}`, so each script touches one Cluster slot.
 *
 * Format 2 (package 0.2): `<prefix>{tag}:v2` is the user index, a hash from each session's token
 * hash to `''` while the session is live or to a tombstone (`D`isplaced, `R`evoked, `L`ogged out,
 * `E`xpired, or `T` for a token rotated by re-authentication, followed by the time) that tells a later
 * request why its session is gone;
 * `<prefix>{tag}<token hash>` is one session's record (the scripts name it from the index by dropping `:v2`) (no separator: every byte of a key name is paid
 * for each live session, and the 43 characters of the default prefix's names fit a 48-byte allocation);
 * records are only ever named from a cookie of this format or from the index. Notices of ended sessions
 * are published on the shard channel `<prefix>{tag}:v2:n`.
 */

/** The stored-format version this package writes. Changing it is a major-version change. */
export const FORMAT_VERSION = 2;

/** The keys of one user (and, given a token hash, of one session). */
export interface UserKeys {
  readonly index: string;
  readonly channel: string;
  session(tokenHash: string): string;
}

/** Builds the key namer for one key prefix. */
export function keyNamer(prefix: string): (userTag: string) => UserKeys {
  return (userTag) => {
    const base = `${prefix}{${userTag}}`;
    const index = `${base}:v${FORMAT_VERSION}`;
    return {
      index,
      channel: `${index}:n`,
      session: (tokenHash) => `${base}${tokenHash}`,
    };
  };
}

/** A SCAN pattern matching every user index under `prefix` (glob characters in the prefix escaped). */
export function indexPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, '\\$&')}{*}:v${FORMAT_VERSION}`;
}

/** The user tag inside an index key name. */
export function userTagOfIndex(prefix: string, indexKey: string): string {
  return indexKey.slice(prefix.length + 1, indexKey.lastIndexOf('}'));
}
