/**
 * Command's steps in the child before exec: session and process group, no_new_privs,
 * parent-death signal, namespaces, cgroup, chroot, nice, a native hook and the handshake. The
 * recorded data and run-time checks are in pre-exec-setup.ts.
 */
import * as fs from 'node:fs';
import { NAMESPACE_FLAGS, SIGNAL_MAX } from '../constants';
import { signalNumber } from '../errors';
import type { SignalInput } from '../signal-names';
import { recordError } from '../plan';
import type { NamespaceName, PreExecHook } from '../types';
import { arg, checkInteger, checkString, toBytes, typeError, valueError } from '../validate';
import { Command, stateOf } from './command';
import { defineMethods } from './define-methods';
import { NOT_NUMBER_OR_NAME } from './checks';

function namespaceFlag(method: string, what: string, type: unknown): number {
  if (typeof type === 'string') {
    const flag = Object.hasOwn(NAMESPACE_FLAGS, type) ? NAMESPACE_FLAGS[type] : undefined;
    if (flag === undefined) throw valueError(method, what, `is not a namespace name: '${type}'`, RangeError);
    return flag;
  }
  if (typeof type !== 'number') throw typeError(method, what, NOT_NUMBER_OR_NAME, type);
  return checkInteger(method, what, type, 0, 0xffffffff);
}

declare module './command' {
  interface Command {
    /** The child starts a new session (not with setpgid()). @example cmd.setsid() */
    setsid(): this;
    /**
     * The child joins process group `pgid`, or leads its own with 0.
     * @param pgid the process group to join, or 0 (the default) to lead a new one
     * @throws {RangeError} for a negative or fractional pgid
     * @example cmd.setpgid()
     */
    setpgid(pgid?: number): this;
    /** PR_SET_NO_NEW_PRIVS in the child. @example cmd.setNoNewPrivs() */
    setNoNewPrivs(): this;
    /**
     * The signal the child gets when the parent thread dies (0: none).
     * @throws {RangeError} for an unknown name or a number outside 0..64
     * @example cmd.setParentDeathSignal('SIGTERM')
     */
    setParentDeathSignal(signal: number | SignalInput): this;
    /**
     * The child joins the namespace open at `fd` (setns); `type` checks its kind (0: any).
     * @throws {RangeError} for a negative fd or an unknown namespace name
     * @example cmd.joinNamespace(fs.openSync('/run/netns/blue', 'r'), 'net')
     */
    joinNamespace(fd: number, type: number | NamespaceName): this;
    /**
     * The child unshares these namespaces: CLONE_* bits or names; calls add up.
     * @throws {RangeError} for an unknown name or a bad number
     * @example cmd.unshare(['net', 'uts'])
     */
    unshare(flags: number | readonly NamespaceName[]): this;
    /**
     * The child moves itself into this cgroup v2 directory before exec: a path, or an fd open on
     * the directory (the child opens `cgroup.procs` relative to it, so a rename does not matter;
     * the fd must stay open until the run).
     * @throws {TypeError} for an empty path or a NUL byte; {RangeError} for an fd that is not open
     * @example cmd.joinCgroup('/sys/fs/cgroup/app')
     */
    joinCgroup(dir: string | number): this;
    /**
     * The child chroots to `dir` before exec (the program path is then inside it).
     * @throws {TypeError} for an empty string or a NUL byte
     * @example cmd.chroot('/srv/jail')
     */
    chroot(dir: string): this;
    /**
     * The child's nice value.
     * @throws {RangeError} outside -20..19
     * @example cmd.setNice(10)
     */
    setNice(n: number): this;
    /**
     * A native `int symbol(void *data)` from a shared library, run in the child before
     * exec (on a real fork); a non-zero return fails the run at stage 'hook'. Set once.
     * @throws {TypeError} for a missing library or symbol, or bad data
     * @example cmd.setPreExecHook({ library: '/usr/lib/libhook.so', symbol: 'prepare', data: 'x' })
     */
    setPreExecHook(hook: PreExecHook): this;
    /**
     * The child stops before exec until handshakeWait() and handshakeNotify() (run() or
     * runAsync(), not runSync()). Set once.
     * @example cmd.requireHandshake(); cmd.runAsync(); await cmd.handshakeWait(); cmd.handshakeNotify();
     */
    requireHandshake(): this;
  }
}

defineMethods(Command.prototype, {
  setsid() {
    stateOf(this).setsid = true;
    return this;
  },

  setpgid(pgid = 0) {
    stateOf(this).pgid = checkInteger('Command.setpgid', arg('pgid'), pgid, 0, 2 ** 31 - 1);
    return this;
  },

  setNoNewPrivs() {
    stateOf(this).noNewPrivs = true;
    return this;
  },

  setParentDeathSignal(signal: number | SignalInput) {
    const m = 'Command.setParentDeathSignal';
    if (typeof signal === 'string') {
      const n = signalNumber(signal);
      if (n === undefined) throw valueError(m, arg('signal'), `is not a signal name: '${signal}'`, RangeError);
      stateOf(this).parentDeathSignal = n;
    } else {
      stateOf(this).parentDeathSignal = checkInteger(m, arg('signal'), signal, 0, SIGNAL_MAX);
    }
    return this;
  },

  joinNamespace(fd: number, type: number | NamespaceName) {
    const n = checkInteger('Command.joinNamespace', arg('fd'), fd, 0, 2 ** 31 - 1);
    stateOf(this).namespaces.push({ fd: n, type: namespaceFlag('Command.joinNamespace', arg('type'), type) });
    return this;
  },

  unshare(flags: number | readonly NamespaceName[]) {
    const m = 'Command.unshare';
    const s = stateOf(this);
    if (Array.isArray(flags)) for (const [i, f] of flags.entries()) s.unshareFlags |= namespaceFlag(m, `flags[${i}]`, f);
    else if (typeof flags === 'number') s.unshareFlags |= checkInteger(m, arg('flags'), flags, 0, 0xffffffff);
    else throw typeError(m, arg('flags'), 'a number or an array of namespace names', flags);
    s.unshareFlags >>>= 0;
    return this;
  },

  joinCgroup(dir: string | number) {
    const m = 'Command.joinCgroup';
    if (typeof dir !== 'number') {
      const s = stateOf(this);
      s.cgroup = checkString(m, arg('dir'), dir, true);
      s.cgroupFd = -1;
      return this;
    }
    const fd = checkInteger(m, arg('dir'), dir, 0, 2 ** 31 - 1);
    try {
      fs.fstatSync(fd);
    } catch (err) {
      throw valueError(m, arg('dir'), `is not an open fd (${(err as Error).message})`, RangeError);
    }
    const s = stateOf(this);
    s.cgroup = null;
    s.cgroupFd = fd;
    return this;
  },

  chroot(dir: string) {
    stateOf(this).chroot = checkString('Command.chroot', arg('dir'), dir, true);
    return this;
  },

  setNice(n: number) {
    stateOf(this).nice = checkInteger('Command.setNice', arg('n'), n, -20, 19);
    return this;
  },

  setPreExecHook(hook: PreExecHook) {
    const m = 'Command.setPreExecHook';
    if (typeof hook !== 'object' || hook === null) throw typeError(m, arg('hook'), 'an object', hook);
    const library = checkString(m, arg('hook.library'), hook.library, true);
    const symbol = checkString(m, arg('hook.symbol'), hook.symbol, true);
    const data = hook.data === undefined ? Buffer.alloc(0) : toBytes(m, arg('hook.data'), hook.data);
    const s = stateOf(this);
    if (s.hook) recordError(s, 'cannot set pre-exec hook twice');
    else s.hook = { library, symbol, data };
    return this;
  },

  requireHandshake() {
    const s = stateOf(this);
    if (s.handshake) recordError(s, 'cannot require handshake twice');
    s.handshake = true;
    return this;
  },
});
