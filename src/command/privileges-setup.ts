/**
 * The daemon mode, capabilities, ids and resource limits a command records, and the run-time
 * checks on them: plain data and checks, for plan.ts; the builder methods are in privileges.ts.
 */

/** What the builder records (part of CommandState). */
export interface PrivilegesSetup {
  daemonize: boolean;
  pidFile: string | null;
  uid: number;
  gid: number;
  groups: number[] | null;
  clearCaps: boolean;
  keepCaps: Set<number>;
  /** resource -> amounts; RLIM_INFINITY (2^64-1) is unlimited. */
  rlimits: Map<number, { soft: bigint; hard: bigint }>;
}

export function defaultPrivilegesSetup(): PrivilegesSetup {
  return {
    daemonize: false,
    pidFile: null,
    uid: -1,
    gid: -1,
    groups: null,
    clearCaps: false,
    keepCaps: new Set(),
    rlimits: new Map(),
  };
}

/** A pid file without daemonize(), or null. */
export function pidFileMisuse(s: PrivilegesSetup): string | null {
  return s.pidFile !== null && !s.daemonize ? 'creation of pid file requires daemonized command' : null;
}

/**
 * Why a daemon cannot run this way, or null: not in the background nor by exec(), not in a
 * working directory of its own (it runs in '/'), not with buffers (`stringIO`: it outlives the run).
 */
export function daemonMisuse(s: PrivilegesSetup, cwd: string | null, stringIO: boolean, mode: string): string | null {
  if (!s.daemonize) return null;
  if (mode === 'background') return 'daemonized command cannot use runAsync()';
  if (mode === 'exec') return 'daemonized command cannot use exec()';
  if (cwd !== null) return `daemonized command cannot set working directory ${cwd}`;
  if (stringIO) return 'cannot mix string I/O with daemon';
  return null;
}
