/**
 * Command's daemon mode, capabilities, user and group ids, and resource limits. The recorded
 * data and run-time checks are in privileges-setup.ts.
 */
import { resolve as resolvePath } from 'node:path';
import { type CapabilityInput, resolveCapability } from '../capabilities';
import { ID_MAX, MEMLOCK_UNLIMITED, NGROUPS_MAX, RLIMIT_NAMES, RLIMIT_NUMBERS } from '../constants';
import type { RlimitName, RlimitValue } from '../types';
import { arg, checkInteger, checkLimit, checkString, RLIM_INFINITY, rangeError, typeError, valueError } from '../validate';
import { Command, stateOf } from './command';
import { defineMethods } from './define-methods';
import { NOT_NUMBER_OR_NAME } from './checks';

declare module './command' {
  interface Command {
    /**
     * Runs the program as a daemon: double fork, setsid, cwd '/', stdio to /dev/null unless
     * set to fds. Use run()/runSync(), which return once the intermediate process has exited and
     * the daemon has reached its exec (a failed step of the daemon rejects the run with its stage).
     * @example await new Command('dnsmasq').daemonize().setPidFile('/run/d.pid').run()
     */
    daemonize(): this;
    /**
     * The daemon writes its pid to `path` (locked, kept open across exec); needs daemonize().
     * A relative path is made absolute now, against process.cwd() (the daemon itself runs in '/').
     * @throws {TypeError} for an empty string or a NUL byte
     * @example cmd.daemonize().setPidFile('/run/app.pid')
     */
    setPidFile(path: string): this;
    /**
     * The child drops every capability, but those allowed with allowCap(): the bounding set (needs
     * CAP_SETPCAP in the parent; without it the bounding set stays), then effective, permitted,
     * inheritable and ambient.
     * @throws {CommandError} from the run, stage 'caps' and code 'EPERM', when the bounding set
     * cannot be dropped and the child would run as root (it would regain that set at exec)
     * @example cmd.clearCaps()
     */
    clearCaps(): this;
    /**
     * Keeps capability `cap` (a number, 'CAP_NET_ADMIN' or 'NET_ADMIN') in the child.
     * @throws {RangeError} for an unknown name, a number above 63 or above the kernel's last
     * @example cmd.clearCaps().allowCap('CAP_NET_BIND_SERVICE')
     */
    allowCap(cap: number | CapabilityInput): this;
    /**
     * The child's user id (raw setuid; capabilities follow clearCaps()/allowCap()). Alone it
     * keeps the parent's gid (group 0 when root runs it): to run as a user, with its primary
     * group and supplementary groups, use setUser().
     * @throws {RangeError} outside 0..2^32-2
     * @example cmd.setUID(1000)
     */
    setUID(uid: number): this;
    /**
     * The child's group id.
     * @throws {RangeError} outside 0..2^32-2
     * @example cmd.setGID(1000)
     */
    setGID(gid: number): this;
    /** The uid set with setUID(), or -1 when unset (virCommandGetUID). @example cmd.getUID() */
    getUID(): number;
    /** The gid set with setGID(), or -1 when unset (virCommandGetGID). @example cmd.getGID() */
    getGID(): number;
    /**
     * The child's supplementary groups ([] drops them all); by default native takes the
     * target user's groups when uid/gid are set and the parent is root.
     * @throws {TypeError} for a non-array; {RangeError} for an id outside 0..2^32-2, or more
     * than 65536 ids (the kernel's NGROUPS_MAX)
     * @example cmd.setGroups([100, 27])
     */
    setGroups(gids: readonly number[]): this;
    /**
     * RLIMIT_NPROC = n (soft and hard). Every limit takes 0 to 2^53-1, a bigint up to 2^64-1,
     * or Infinity / 'unlimited' / 2n ** 64n - 1n (RLIM_INFINITY) for unlimited.
     * @throws {RangeError} for a negative or fractional n, NaN, or a number past 2^53-1
     * @example cmd.setMaxProcesses(64)
     */
    setMaxProcesses(n: RlimitValue): this;
    /**
     * RLIMIT_MEMLOCK = bytes; a number of 2^53-1 or more (libvirt's rule), Infinity, 'unlimited'
     * or RLIM_INFINITY means unlimited; a bigint is taken as it is.
     * @throws {RangeError} for a negative or fractional value, or NaN
     * @example cmd.setMaxMemLock(64 * 2 ** 20)
     */
    setMaxMemLock(bytes: RlimitValue): this;
    /**
     * RLIMIT_NOFILE = exactly n (libvirt sets n+1); the kernel refuses more than
     * /proc/sys/fs/nr_open (the run fails at stage 'rlimit').
     * @throws {RangeError} for a negative or fractional n, NaN, or a number past 2^53-1
     * @example cmd.setMaxFiles(1024)
     */
    setMaxFiles(n: RlimitValue): this;
    /**
     * RLIMIT_CORE = bytes (0 disables core dumps).
     * @throws {RangeError} for a negative or fractional value, NaN, or a number past 2^53-1
     * @example cmd.setMaxCoreSize(0)
     */
    setMaxCoreSize(bytes: RlimitValue): this;
    /**
     * Any resource limit: a number or a name ('NOFILE', 'RLIMIT_NOFILE'); amounts as for
     * setMaxProcesses() (Infinity or 'unlimited' means unlimited); `hard` defaults to `soft`. A
     * later call for a resource replaces it.
     * @param hard the hard limit; `soft` by default
     * @throws {RangeError} for an unknown resource, bad amounts, or soft above hard (refused
     * here, before any fork: the kernel would refuse it in the child)
     * @example cmd.setRlimit('STACK', 8 * 2 ** 20, Infinity)
     */
    setRlimit(resource: number | RlimitName, soft: RlimitValue, hard?: RlimitValue): this;
  }
}

defineMethods(Command.prototype, {
  daemonize() {
    stateOf(this).daemonize = true;
    return this;
  },

  setPidFile(path: string) {
    stateOf(this).pidFile = resolvePath(checkString('Command.setPidFile', arg('path'), path, true));
    return this;
  },

  clearCaps() {
    stateOf(this).clearCaps = true;
    return this;
  },

  allowCap(cap: number | CapabilityInput) {
    stateOf(this).keepCaps.add(resolveCapability('Command.allowCap', cap));
    return this;
  },

  setUID(uid: number) {
    const s = stateOf(this);
    s.uid = checkInteger('Command.setUID', arg('uid'), uid, 0, ID_MAX);
    s.container.user = null; // replaces setUser()
    return this;
  },

  setGID(gid: number) {
    stateOf(this).gid = checkInteger('Command.setGID', arg('gid'), gid, 0, ID_MAX);
    return this;
  },

  getUID(): number {
    return stateOf(this).uid;
  },

  getGID(): number {
    return stateOf(this).gid;
  },

  setGroups(gids: readonly number[]) {
    if (!Array.isArray(gids)) throw typeError('Command.setGroups', arg('gids'), 'an array', gids);
    if (gids.length > NGROUPS_MAX) throw rangeError('Command.setGroups', `${arg('gids')} length`, `<= ${NGROUPS_MAX} (NGROUPS_MAX)`, gids.length);
    stateOf(this).groups = Array.from(gids, (g, i) => checkInteger('Command.setGroups', `gids[${i}]`, g, 0, ID_MAX));
    return this;
  },

  setMaxProcesses(n: RlimitValue) {
    return setLimit(this, 'Command.setMaxProcesses', 'n', RLIMIT_NUMBERS.NPROC, n);
  },

  setMaxMemLock(bytes: RlimitValue) {
    const b = typeof bytes === 'number' && bytes >= MEMLOCK_UNLIMITED ? Infinity : bytes;
    return setLimit(this, 'Command.setMaxMemLock', 'bytes', RLIMIT_NUMBERS.MEMLOCK, b);
  },

  setMaxFiles(n: RlimitValue) {
    return setLimit(this, 'Command.setMaxFiles', 'n', RLIMIT_NUMBERS.NOFILE, n);
  },

  setMaxCoreSize(bytes: RlimitValue) {
    return setLimit(this, 'Command.setMaxCoreSize', 'bytes', RLIMIT_NUMBERS.CORE, bytes);
  },

  setRlimit(resource: number | RlimitName, soft: RlimitValue, hard: RlimitValue = soft) {
    const m = 'Command.setRlimit';
    let r: number | undefined;
    if (typeof resource === 'string') {
      const name = resource.toUpperCase().replace(/^RLIMIT_/, '');
      r = Object.hasOwn(RLIMIT_NUMBERS, name) ? RLIMIT_NUMBERS[name] : undefined;
    } else if (typeof resource === 'number') r = checkInteger(m, arg('resource'), resource, 0, 15);
    else throw typeError(m, arg('resource'), NOT_NUMBER_OR_NAME, resource);
    if (r === undefined) throw valueError(m, arg('resource'), `is not a resource name: '${String(resource)}'`, RangeError);
    const s = checkLimit(m, arg('soft'), soft);
    const h = checkLimit(m, arg('hard'), hard);
    if (s > h) {
      const shown = (v: bigint): string => (v === RLIM_INFINITY ? 'unlimited' : String(v));
      throw valueError(m, arg('soft'), `must not be above argument 'hard' (soft ${shown(s)} > hard ${shown(h)} for RLIMIT_${RLIMIT_NAMES[r]})`, RangeError);
    }
    stateOf(this).rlimits.set(r, { soft: s, hard: h });
    return this;
  },
});

// setMaxProcesses() and its kin: one resource, soft and hard the same.
function setLimit(command: Command, method: string, name: string, resource: number, value: RlimitValue): Command {
  const v = checkLimit(method, arg(name), value);
  stateOf(command).rlimits.set(resource, { soft: v, hard: v });
  return command;
}
