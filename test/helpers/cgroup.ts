/** cgroup v2 lookups shared by the tests that join or create cgroups. */
import fs from 'node:fs';

/** The cgroup v2 mount point (/sys/fs/cgroup, or a hybrid system's unified mount), or a reason. */
export function cgroup2Root(): { root: string } | { reason: string } {
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' - '))
    .filter((p) => p[1]?.startsWith('cgroup2 '))
    .map((p) => p[0].split(' ')[4]);
  const root = mounts.includes('/sys/fs/cgroup') ? '/sys/fs/cgroup' : mounts[0];
  if (!root) return { reason: 'no cgroup v2 filesystem is mounted' };
  try {
    fs.accessSync(root, fs.constants.W_OK);
  } catch (e) {
    return { reason: `cgroup v2 at ${root} is not writable: ${(e as Error).message}` };
  }
  return { root };
}
