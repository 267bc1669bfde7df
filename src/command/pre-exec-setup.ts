/**
 * The steps before exec a command records (session and process group, no_new_privs,
 * parent-death signal, namespaces to join or make, cgroup, chroot, nice, a native hook, the
 * handshake) and the run-time checks on them: plain data and checks, for plan.ts; the builder
 * methods are in pre-exec.ts.
 */

/** What the builder records (part of CommandState). */
export interface PreExecSetup {
  noNewPrivs: boolean;
  parentDeathSignal: number;
  setsid: boolean;
  pgid: number;
  nice: number | null;
  namespaces: { fd: number; type: number }[];
  unshareFlags: number;
  cgroup: string | null;
  /** A cgroup directory fd (joinCgroup(fd)), or -1. */
  cgroupFd: number;
  chroot: string | null;
  hook: { library: string; symbol: string; data: Buffer } | null;
  handshake: boolean;
}

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
