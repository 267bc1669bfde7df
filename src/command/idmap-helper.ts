/**
 * Id maps beyond the caller's own id without privileges: the kernel lets a writer without
 * CAP_SETUID (CAP_SETGID) map only its own uid (gid), one id. Anything more (util-linux
 * `unshare --map-users`, a container's 65536 ids) goes through the setuid helpers newuidmap and
 * newgidmap of the uidmap package, which check /etc/subuid and /etc/subgid. Decided here, at
 * run time; native runs the helper for the child's pid (native/core/idmap_helper.cc).
 */
import * as os from 'node:os';
import { stageError } from '../errors';
import type { NativePlan } from '../native';
import { resolveCandidates } from '../plan';
import type { IdMapping } from './ns-setup';

// Where the helpers live; PATH is not used (they are setuid, and a caller's PATH may name anything).
const HELPER_DIRS = '/usr/bin:/bin:/usr/sbin:/sbin';

/** Whether writing `maps` needs the helper: more than one id, or not our own. */
export function needsMapHelper(maps: readonly IdMapping[] | null, ownId: number, privileged: boolean): boolean {
  if (maps === null || privileged) return false;
  return !(maps.length === 1 && maps[0].outside === ownId && maps[0].count === 1);
}

/**
 * Sets plan.namespaceSetup's helper paths where the maps need them.
 * @throws {CommandError} stage 'idmap', code 'ENOENT' when a needed helper is not installed
 */
export function applyIdMapHelpers(maps: { uid: readonly IdMapping[] | null; gid: readonly IdMapping[] | null }, plan: NativePlan, command: string): void {
  const euid = process.geteuid?.() ?? 0;
  const egid = process.getegid?.() ?? 0;
  const wants: ['uidMapHelper' | 'gidMapHelper', string, boolean, string][] = [
    ['uidMapHelper', 'newuidmap', needsMapHelper(maps.uid, euid, euid === 0), `uid ${euid}`],
    ['gidMapHelper', 'newgidmap', needsMapHelper(maps.gid, egid, euid === 0), `gid ${egid}`],
  ];
  for (const [field, helper, needed, own] of wants) {
    if (!needed) continue;
    const found = resolveCandidates(helper, HELPER_DIRS)[0];
    if (found === undefined) {
      throw stageError(
        'idmap',
        os.constants.errno.ENOENT,
        { command, path: helper, exitStatus: null },
        `the map names more than your own ${own}: without privileges that needs the setuid helper ${helper} (package uidmap)`,
      );
    }
    plan.namespaceSetup[field] = found;
  }
}
