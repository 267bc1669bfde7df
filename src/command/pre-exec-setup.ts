/**
 * The steps before exec a command records (session and process group, no_new_privs,
 * parent-death signal, namespaces to join or make, cgroup, chroot, nice, a native hook, the
 * handshake) and the run-time checks on them: plain data and checks, for plan.ts; the builder
 * methods are in pre-exec.ts.
 */
import type { NativePlan } from '../native';

/**
 * What the builder records (part of CommandState): the NativePlan fields it is passed on as (see
 * NativePlan for each one's meaning; cgroupFd -1 and pgid -1: none), so the two cannot drift apart.
 */
export type PreExecSetup = Pick<
  NativePlan,
  'noNewPrivs' | 'parentDeathSignal' | 'setsid' | 'pgid' | 'nice' | 'namespaces' | 'unshareFlags' | 'cgroup' | 'cgroupFd' | 'chroot' | 'hook' | 'handshake'
>;

export function defaultPreExecSetup(): PreExecSetup {
  return {
    noNewPrivs: false,
    parentDeathSignal: 0,
    setsid: false,
    pgid: -1,
    nice: null,
    namespaces: [],
    unshareFlags: 0,
    cgroup: null,
    cgroupFd: -1,
    chroot: null,
    hook: null,
    handshake: false,
  };
}

/** setsid() together with setpgid(), or null. */
export function sessionMisuse(s: PreExecSetup): string | null {
  return s.setsid && s.pgid !== -1 ? 'cannot combine setsid() and setpgid()' : null;
}

/** A handshake in a run that cannot answer it (runSync(), exec()), or null. */
export function handshakeModeMisuse(s: PreExecSetup, mode: string): string | null {
  if (!s.handshake) return null;
  if (mode === 'sync') return 'a handshake needs run() or runAsync(); runSync() cannot answer it';
  if (mode === 'exec') return 'exec() cannot use a handshake';
  return null;
}
