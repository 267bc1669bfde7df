/**
 * Command's container identity: the user (setUser), the host and domain name of a new uts
 * namespace, and a seccomp filter: the builder methods (the recorded data and run-time checks
 * are in container-setup.ts). The user is resolved at run time (command/user.ts); the names and
 * the filter are applied by the child (native/child/child_uts.cc at step 6, child_seccomp.cc
 * at step 17).
 */
import { ID_MAX } from '../constants';
import { arg, checkInteger, checkString, rangeError, toPrivateBytes, typeError, valueError } from '../validate';
import { Command, stateOf } from './command';
import { defineMethods } from './define-methods';
import { BPF_MAXINSNS, SOCK_FILTER_SIZE, UTS_NAME_MAX } from './container-setup';
import type { UserSpec } from './user';

function checkUtsName(method: string, name: unknown): string {
  const s = checkString(method, arg('name'), name);
  const bytes = Buffer.byteLength(s, 'utf8');
  if (bytes > UTS_NAME_MAX) throw rangeError(method, `${arg('name')} length`, `at most ${UTS_NAME_MAX} bytes (the kernel's limit)`, bytes);
  return s;
}

declare module './command' {
  interface Command {
    /**
     * Runs the program as a user of the system: its uid, its primary gid and its supplementary
     * groups (initgroups(3)'s list: the groups that name it in the group database), as `runuser`
     * and `start-stop-daemon --chuid` do. A name or a uid; it is looked up at each run (not
     * now), in the parent, through the C library (any NSS source). setUID() alone keeps the
     * parent's gid (root's group when root runs it): setUser() is what most callers mean.
     * A later setGID() picks another primary group; a later setUID() replaces the user (its
     * groups are dropped); setGroups() replaces the groups.
     * @throws {TypeError} for an empty name, a NUL byte or another type; {RangeError} for a uid
     *   outside 0..2^32-2. The run rejects with a CommandError (stage 'setuid', code
     *   'ERR_UNKNOWN_USER') when there is no such user.
     * @example cmd.setUser('nobody')
     */
    setUser(nameOrUid: string | number): this;
    /** The user set with setUser() (a name or a uid, not yet looked up), or null. @example cmd.getUser() */
    getUser(): string | number | null;
    /**
     * The host name in the child's new uts namespace (needs `unshare(['uts'])`; without it the
     * run fails as a misuse), set before the credentials change (step 6).
     * @throws {TypeError} for a non-string or a NUL byte; {RangeError} for more than 64 bytes
     * @example cmd.unshare(['uts']).setHostname('box')
     */
    setHostname(name: string): this;
    /**
     * The NIS domain name (/proc/sys/kernel/domainname) in the child's new uts namespace (needs
     * `unshare(['uts'])`).
     * @throws {TypeError} for a non-string or a NUL byte; {RangeError} for more than 64 bytes
     * @example cmd.unshare(['uts']).setDomainname('example')
     */
    setDomainname(name: string): this;
    /**
     * A seccomp filter for the program: a classic BPF program, the bytes of `struct
     * sock_filter` instructions (8 bytes each, the machine's byte order), as bwrap's --seccomp
     * reads them. Copied now (changing the array later changes nothing). Installed as the last
     * step before execve (after setNoNewPrivs()), so it must allow execve and, for the
     * "about to exec" report, write. The kernel requires no_new_privs (setNoNewPrivs()) or
     * CAP_SYS_ADMIN: otherwise the run fails at stage 'seccomp' with EACCES; a program the
     * kernel refuses fails there with EINVAL. null removes the filter.
     * @throws {TypeError} for a non-Uint8Array or a length not a multiple of 8; {RangeError} for
     *   0 or more than 4096 instructions
     * @example cmd.setNoNewPrivs().setSeccompFilter(program)
     */
    setSeccompFilter(program: Uint8Array | null): this;
  }
}

defineMethods(Command.prototype, {
  setUser(nameOrUid: string | number) {
    const m = 'Command.setUser';
    let user: UserSpec;
    if (typeof nameOrUid === 'number') user = checkInteger(m, arg('nameOrUid'), nameOrUid, 0, ID_MAX);
    else if (typeof nameOrUid === 'string') user = checkString(m, arg('nameOrUid'), nameOrUid, true);
    else throw typeError(m, arg('nameOrUid'), 'a user name or a uid', nameOrUid);
    const s = stateOf(this);
    s.container.user = user;
    s.uid = -1;
    s.gid = -1;
    return this;
  },

  getUser(): string | number | null {
    return stateOf(this).container.user;
  },

  setHostname(name: string) {
    stateOf(this).container.hostname = checkUtsName('Command.setHostname', name);
    return this;
  },

  setDomainname(name: string) {
    stateOf(this).container.domainname = checkUtsName('Command.setDomainname', name);
    return this;
  },

  setSeccompFilter(program: Uint8Array | null) {
    const m = 'Command.setSeccompFilter';
    if (program === null) {
      stateOf(this).container.seccompFilter = null;
      return this;
    }
    if (!(program instanceof Uint8Array)) throw typeError(m, arg('program'), 'a Uint8Array of struct sock_filter', program);
    const copy = toPrivateBytes(m, arg('program'), program);
    if (copy.length % SOCK_FILTER_SIZE !== 0) {
      throw valueError(m, `${arg('program')} length`, `must be a multiple of ${SOCK_FILTER_SIZE} (struct sock_filter), not ${copy.length}`);
    }
    const count = copy.length / SOCK_FILTER_SIZE;
    if (count < 1 || count > BPF_MAXINSNS) throw rangeError(m, `${arg('program')} instructions`, `1 to ${BPF_MAXINSNS}`, count);
    stateOf(this).container.seccompFilter = copy;
    return this;
  },
});
