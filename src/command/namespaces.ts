/**
 * Command's setup of new namespaces beyond unshare(): the user namespace's uid/gid maps, the
 * mount propagation of a new mount namespace, and a new /proc for a new pid namespace. The
 * recorded data and run-time checks are in ns-setup.ts.
 */
import { arg, checkInteger, typeError, valueError } from '../validate';
import { Command, stateOf } from './command';
import { defineMethods } from './define-methods';
import { type IdMapping, MAX_ID_MAP_LINES, type MountPropagation, PROPAGATION_FLAGS } from './ns-setup';

const ID_MAX = 2 ** 32 - 1; // (uid_t)-1 is never a valid id

function checkMappings(method: string, maps: unknown): IdMapping[] {
  if (!Array.isArray(maps)) throw typeError(method, arg('mappings'), 'an array of { inside, outside, count }', maps);
  if (maps.length === 0) throw valueError(method, arg('mappings'), 'must not be empty', RangeError);
  if (maps.length > MAX_ID_MAP_LINES)
    throw valueError(method, arg('mappings'), `must have at most ${MAX_ID_MAP_LINES} entries (the kernel's limit)`, RangeError);
  const out: IdMapping[] = [];
  for (const [i, m] of maps.entries()) {
    const what = `mappings[${i}]`;
    if (typeof m !== 'object' || m === null) throw typeError(method, arg(what), 'an object { inside, outside, count }', m);
    const e = m as Record<string, unknown>;
    const inside = checkInteger(method, arg(`${what}.inside`), e.inside, 0, ID_MAX - 1);
    const outside = checkInteger(method, arg(`${what}.outside`), e.outside, 0, ID_MAX - 1);
    const count = checkInteger(method, arg(`${what}.count`), e.count, 1, ID_MAX);
    if (inside + count > ID_MAX || outside + count > ID_MAX) {
      throw valueError(method, arg(what), `runs past id ${ID_MAX - 1}`, RangeError);
    }
    // The kernel refuses overlapping ranges on either side (EINVAL): say which, here.
    for (const [j, o] of out.entries()) {
      if (inside < o.inside + o.count && o.inside < inside + count) throw valueError(method, arg(what), `overlaps mappings[${j}] inside`, RangeError);
      if (outside < o.outside + o.count && o.outside < outside + count) throw valueError(method, arg(what), `overlaps mappings[${j}] outside`, RangeError);
    }
    out.push({ inside, outside, count });
  }
  return out;
}

declare module './command' {
  interface Command {
    /**
     * The uid_map of the new user namespace (needs `unshare(['user'])`), as Go's UidMappings: the
     * parent writes it before the child goes on, so the program starts with these ids.
     * Unprivileged callers may map one id: their own (`{ inside: 0, outside: process.getuid(),
     * count: 1 }` makes the program root inside). Calls replace the maps.
     * @throws {TypeError} for a non-array or a non-object entry; {RangeError} for an empty or
     *   too long list, ids out of range or overlapping ranges
     * @example cmd.unshare(['user']).setUidMappings([{ inside: 0, outside: 1000, count: 1 }])
     */
    setUidMappings(mappings: readonly IdMapping[]): this;
    /**
     * The gid_map of the new user namespace (needs `unshare(['user'])`). A parent without
     * CAP_SETGID may map only its own gid, and the kernel then requires setgroups to be denied
     * in the namespace: vircommand writes "deny" to /proc/PID/setgroups first in that case only.
     * @throws like setUidMappings()
     * @example cmd.unshare(['user']).setGidMappings([{ inside: 0, outside: 1000, count: 1 }])
     */
    setGidMappings(mappings: readonly IdMapping[]): this;
    /**
     * Mount propagation in a new mount namespace (`unshare(['mnt'])`): 'private' (the default,
     * as util-linux `unshare --mount`: mounts made inside never reach the host, nor the host's
     * inside), 'slave' (the host's reach inside, not back), 'shared', or 'unchanged' (as
     * inherited: on a shared "/" mounts made inside appear on the host).
     * @throws {RangeError} for another value
     * @example cmd.unshare(['mnt']).setMountPropagation('slave')
     */
    setMountPropagation(mode: MountPropagation): this;
    /**
     * Mounts a new proc on /proc for the new pid namespace, as `unshare --mount-proc`: implies
     * a new mount namespace (`unshare(['mnt'])`), so the host's /proc is untouched; with
     * `unshare(['pid'])`, ps and /proc then show only the namespace's processes. With chroot() or
     * pivotRoot() it is the new root's /proc (made if missing). With a 'shared' or 'unchanged'
     * propagation, /proc is made private first (as util-linux does), so the caller's /proc is
     * never replaced; a new root whose /proc is no mount point then fails at stage 'proc' (EINVAL).
     * @example cmd.unshare(['pid']).remountProc()
     */
    remountProc(): this;
  }
}

defineMethods(Command.prototype, {
  setUidMappings(mappings: readonly IdMapping[]) {
    stateOf(this).nsSetup.uidMappings = checkMappings('Command.setUidMappings', mappings);
    return this;
  },

  setGidMappings(mappings: readonly IdMapping[]) {
    stateOf(this).nsSetup.gidMappings = checkMappings('Command.setGidMappings', mappings);
    return this;
  },

  setMountPropagation(mode: MountPropagation) {
    const m = 'Command.setMountPropagation';
    if (typeof mode !== 'string') throw typeError(m, arg('mode'), "'private', 'slave', 'shared' or 'unchanged'", mode);
    if (!Object.hasOwn(PROPAGATION_FLAGS, mode)) throw valueError(m, arg('mode'), `is not a propagation mode: '${mode}'`, RangeError);
    stateOf(this).nsSetup.propagation = mode;
    return this;
  },

  remountProc() {
    stateOf(this).nsSetup.remountProc = true;
    return this;
  },
});
