/**
 * setUser(): a user's name or uid resolved at run time (getpwnam_r/getpwuid_r in the parent,
 * like runuser and start-stop-daemon --chuid) into the uid and primary gid of the plan. The
 * supplementary groups follow from them in native (getgrouplist() of the user, initgroups'
 * list), as for setUID()+setGID() run by root.
 */
import { NAMESPACE_FLAGS } from '../constants';
import { CommandError, errnoName } from '../errors';
import { loadNative, type NativePlan } from '../native';
import type { IdMapping, NamespaceSetup } from './ns-setup';

/** What setUser() recorded: a name, or a uid. */
export type UserSpec = string | number;

/**
 * Sets plan.uid and plan.gid from the user `spec` names, unless setGID() chose the primary
 * group after setUser() (plan.gid already set). Resolved at every run, so a user created or
 * changed after setUser() is seen as it is now.
 * @throws {CommandError} stage 'setuid', code 'ERR_UNKNOWN_USER' for no such user; with the
 *   errno when the lookup itself failed (an NSS source answered an error)
 */
export function applyUser(spec: UserSpec | null, plan: NativePlan, command: string): void {
  if (spec === null) return;
  const native = loadNative();
  const how = typeof spec === 'number' ? `uid ${spec}` : `'${spec}'`;
  let entry: { uid: number; gid: number } | null;
  try {
    if (typeof native.lookupUser !== 'function') throw new Error('this build of the native addon has no lookupUser(); rebuild it');
    entry = native.lookupUser(spec);
  } catch (err) {
    const errno = (err as { errno?: number }).errno ?? null;
    throw new CommandError(`Child process (${command}) failed at stage 'setuid': cannot look up user ${how}: ${(err as Error).message}`, {
      command,
      stage: 'setuid',
      errno,
      code: errno === null ? undefined : errnoName(errno),
      cause: err,
    });
  }
  if (entry === null) {
    throw new CommandError(`Child process (${command}) failed at stage 'setuid': no such user ${how} in the user database`, {
      command,
      stage: 'setuid',
      code: 'ERR_UNKNOWN_USER',
    });
  }
  plan.uid = entry.uid;
  if (plan.gid < 0) plan.gid = entry.gid;
}

/** Whether a map gives inside id 0 to some outside id. */
function mapsRoot(maps: readonly IdMapping[] | null): boolean {
  return maps !== null && maps.some((m) => m.inside === 0);
}

/**
 * A new user namespace whose maps give inside id 0: the program runs as that root (uid 0, gid 0
 * inside), as `unshare --map-root-user` makes it, unless setUID()/setGID()/setUser() chose
 * others. The kernel alone would leave it with the caller's ids, which show as the overflow id
 * 65534 when the maps do not name them (root mapping 0-65535 to 200000-265535, say). The child
 * changes its ids at step 9, after the maps are written, holding every capability in the
 * namespace it made. A parent that sets groups (root) also drops the supplementary groups
 * (setgroups([]) inside, unless setGroups() said otherwise): this needs gid 0 mapped, so then the
 * uid alone is not changed without it (the run would fail at 'setgroups').
 */
export function applyMappedRoot(
  s: { unshareFlags: number; nsSetup: NamespaceSetup; container: { user: UserSpec | null } },
  plan: NativePlan,
  parentIsRoot: boolean,
): void {
  if ((s.unshareFlags & NAMESPACE_FLAGS.user) === 0 || s.container.user !== null) return;
  const gidRoot = plan.gid < 0 && mapsRoot(s.nsSetup.gidMappings);
  const uidRoot = plan.uid < 0 && mapsRoot(s.nsSetup.uidMappings) && (!parentIsRoot || mapsRoot(s.nsSetup.gidMappings));
  if (uidRoot) plan.uid = 0;
  if (gidRoot) plan.gid = 0;
  if ((uidRoot || gidRoot) && parentIsRoot && plan.groups === null && mapsRoot(s.nsSetup.gidMappings)) plan.groups = [];
}
