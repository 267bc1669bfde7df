/**
 * setUser(): a user's name or uid resolved at run time (getpwnam_r/getpwuid_r in the parent,
 * like runuser and start-stop-daemon --chuid) into the uid and primary gid of the plan. The
 * supplementary groups follow from them in native (getgrouplist() of the user, initgroups'
 * list), as for setUID()+setGID() run by root.
 */
import { CommandError, errnoName } from '../errors';
import { loadNative, type NativePlan } from '../native';

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
      command, stage: 'setuid', errno, code: errno === null ? undefined : errnoName(errno), cause: err,
    });
  }
  if (entry === null) {
    throw new CommandError(`Child process (${command}) failed at stage 'setuid': no such user ${how} in the user database`, {
      command, stage: 'setuid', code: 'ERR_UNKNOWN_USER',
    });
  }
  plan.uid = entry.uid;
  if (plan.gid < 0) plan.gid = entry.gid;
}
