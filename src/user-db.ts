/**
 * User and group names resolved by the C library (getpwnam_r/getgrnam_r in the addon), so
 * every NSS source answers (files, LDAP, sssd, systemd's dynamic users), not only
 * /etc/passwd and /etc/group. Parent side only; the child is handed numbers.
 */
import { loadNative } from './native';

/** A user as getpwnam(3) reports it. */
export interface UserEntry {
  name: string;
  uid: number;
  /** The user's primary group. */
  gid: number;
}

/** A group as getgrnam(3) reports it. */
export interface GroupEntry {
  name: string;
  gid: number;
}

// A name the C library can be asked about: non-empty, no NUL byte.
function checkName(fn: string, name: string): void {
  if (typeof name !== 'string' || name === '' || name.includes('\0')) {
    throw new TypeError(`${fn}: argument 'name' must be a non-empty string without NUL bytes`);
  }
}

/**
 * The user named `name`, or null when the system knows no such user.
 * @throws {Error} when the lookup itself failed (an NSS source answered an error), with `errno`
 */
export function lookupUser(name: string): UserEntry | null {
  checkName('lookupUser', name);
  const native = loadNative();
  if (typeof native.lookupUser !== 'function') throw new Error('vircommand: this build of the native addon has no lookupUser(); rebuild it');
  return native.lookupUser(name);
}

/**
 * The group named `name`, or null when the system knows no such group.
 * @throws {Error} when the lookup itself failed (an NSS source answered an error), with `errno`
 */
export function lookupGroup(name: string): GroupEntry | null {
  checkName('lookupGroup', name);
  const native = loadNative();
  if (typeof native.lookupGroup !== 'function') throw new Error('vircommand: this build of the native addon has no lookupGroup(); rebuild it');
  return native.lookupGroup(name);
}
