/**
 * The setup of the new namespaces a command asks for with unshare(): the user namespace's
 * uid/gid maps, the new mount namespace's propagation and /proc. Plain data and checks; the
 * builder methods are in namespaces.ts, the native side in native/core/clone_ns.cc and
 * native/child/child_ns.cc.
 */
import { NAMESPACE_FLAGS } from '../constants';
import type { NativeNamespaceSetup } from '../native';

/** One line of a user namespace's uid_map or gid_map: `count` ids from `inside` map to `outside`. */
export interface IdMapping {
  /** the first id inside the new user namespace */
  inside: number;
  /** the id it stands for outside (in the caller's user namespace) */
  outside: number;
  /** how many consecutive ids */
  count: number;
}

/** Mount propagation of a new mount namespace, as util-linux `unshare --propagation`. */
export type MountPropagation = 'private' | 'slave' | 'shared' | 'unchanged';

/** What the builder records. */
export interface NamespaceSetup {
  uidMappings: IdMapping[] | null;
  gidMappings: IdMapping[] | null;
  propagation: MountPropagation;
  remountProc: boolean;
}

const MS_REC = 0x4000;
/** mount(2) flags for each propagation mode. */
export const PROPAGATION_FLAGS: Readonly<Record<MountPropagation, number>> = Object.freeze({
  private: MS_REC | 0x40000, // MS_PRIVATE
  slave: MS_REC | 0x80000, // MS_SLAVE
  shared: MS_REC | 0x100000, // MS_SHARED
  unchanged: 0,
});

/** The kernel refuses more lines than this in one map (Linux 4.15 and later). */
export const MAX_ID_MAP_LINES = 340;

export function defaultNamespaceSetup(): NamespaceSetup {
  return { uidMappings: null, gidMappings: null, propagation: 'private', remountProc: false };
}

/** The unshare() flags a run uses: remountProc() implies a new mount namespace, as `unshare --mount-proc`. */
export function effectiveUnshareFlags(flags: number, n: NamespaceSetup): number {
  return (n.remountProc ? flags | NAMESPACE_FLAGS.mnt : flags) >>> 0;
}

function mapText(m: IdMapping[] | null): string | null {
  return m ? m.map((e) => `${e.inside} ${e.outside} ${e.count}\n`).join('') : null;
}

export function nativeNamespaceSetup(n: NamespaceSetup): NativeNamespaceSetup {
  return {
    uidMap: mapText(n.uidMappings),
    gidMap: mapText(n.gidMappings),
    propagation: PROPAGATION_FLAGS[n.propagation],
    mountProc: n.remountProc,
    uidMapHelper: null,
    gidMapHelper: null, // set at run time where needed (command/idmap-helper.ts)
  };
}

/**
 * Why these namespaces cannot be set up in this run (a usage error), or null. The program
 * must be created inside a new pid namespace, and the maps written while the child waits: a
 * native hook's fork(), a daemon and exec() in place cannot do either.
 */
export function namespaceMisuse(flags: number, n: NamespaceSetup, s: { hook: unknown; daemonize: boolean }, mode: string): string | null {
  const pid = (flags & NAMESPACE_FLAGS.pid) !== 0;
  const maps = n.uidMappings !== null || n.gidMappings !== null;
  if (maps && (flags & NAMESPACE_FLAGS.user) === 0) return "uid/gid mappings need unshare(['user'])";
  const what = pid && maps ? 'a new pid namespace or uid/gid mappings' : pid ? 'a new pid namespace' : 'uid/gid mappings';
  if (!pid && !maps) return null;
  if (mode === 'exec') return `exec() cannot use ${what} (no new process is made)`;
  if (s.daemonize) return `daemonized command cannot use ${what}`;
  if (s.hook) return `a pre-exec hook cannot be combined with ${what}`;
  return null;
}
