/**
 * The new root and the mounts of a command (pivotRoot(), addMount(), addDevMount()): plain
 * data, the run-time checks, and the NativePlan's mountSetup with every path built for the
 * child as it must hand it to the kernel (native/child/child_mounts.cc makes raw syscalls
 * only). The builder methods are in mounts.ts.
 */
import * as fs from 'node:fs';
import { NAMESPACE_FLAGS } from '../constants';
import type { NativeMountSetup, NativeMountStep } from '../native';
import type { NamespaceSetup } from './ns-setup';

/** The file systems addMount() mounts. */
export type MountType = 'bind' | 'tmpfs' | 'proc' | 'sysfs' | 'mqueue' | 'devpts';

/** addMount()'s options. */
export interface MountOptions {
  /** what is mounted */
  type: MountType;
  /** 'bind': the host's file or directory bound at the target (required, absolute) */
  source?: string;
  /** read-only: a bind is remounted MS_RDONLY, the others are mounted so */
  readonly?: boolean;
  /** the file system's options, as mount -o takes them ('size=1m,mode=755'); not for 'bind' */
  options?: string;
}

/** One recorded mount: addMount(), or addDevMount() ('dev'). */
export interface MountEntry {
  type: MountType | 'dev';
  target: string;
  source: string | null;
  readonly: boolean;
  options: string | null;
}

/** What the builder records. */
export interface MountState {
  pivotRoot: string | null;
  mounts: MountEntry[];
}

export const OLD_ROOT_DIR = '.vircommand-oldroot';

const MS_RDONLY = 1;
const MS_NOSUID = 2;
const MS_NODEV = 4;
const MS_NOEXEC = 8;
const MS_BIND = 4096;
const MS_REC = 0x4000;

/** mount(2) flags and default options of each type (those of util-linux's and bwrap's mounts). */
const FS_TYPES: Readonly<Record<Exclude<MountType, 'bind'>, { flags: number; data: string | null }>> = {
  tmpfs: { flags: MS_NOSUID | MS_NODEV, data: 'mode=755' },
  proc: { flags: MS_NOSUID | MS_NODEV | MS_NOEXEC, data: null },
  sysfs: { flags: MS_NOSUID | MS_NODEV | MS_NOEXEC, data: null },
  mqueue: { flags: MS_NOSUID | MS_NODEV | MS_NOEXEC, data: null },
  devpts: { flags: MS_NOSUID | MS_NOEXEC, data: 'newinstance,ptmxmode=0666,mode=620' },
};
export const MOUNT_TYPES: readonly MountType[] = ['bind', 'tmpfs', 'proc', 'sysfs', 'mqueue', 'devpts'];

/** The device nodes of the minimal /dev (bwrap's --dev), bound from the host's. */
export const DEV_NODES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const;
const DEV_LINKS: readonly [string, string][] = [
  ['fd', '/proc/self/fd'],
  ['stdin', '/proc/self/fd/0'],
  ['stdout', '/proc/self/fd/1'],
  ['stderr', '/proc/self/fd/2'],
  ['core', '/proc/kcore'],
  ['ptmx', 'pts/ptmx'],
];

export function defaultMountState(): MountState {
  return { pivotRoot: null, mounts: [] };
}

// A bind's source as the child passes it to mount(2): symlinks resolved here, in the host's
// view (inside the new root an absolute link would point elsewhere), then reached through the
// parked old root after pivot_root, or relative to the old root (the child's cwd) after chroot.
function bindSource(source: string, s: MountState, chroot: string | null): { path: string; isFile: boolean } {
  let real = source;
  let isFile = false;
  try {
    real = fs.realpathSync(source);
    isFile = !fs.statSync(real).isDirectory();
  } catch {
    // Missing: the child's mount reports ENOENT at stage 'mount', naming the mount.
  }
  if (s.pivotRoot !== null) return { path: `/${OLD_ROOT_DIR}${real}`, isFile };
  if (chroot !== null) return { path: real === '/' ? '.' : real.slice(1), isFile };
  return { path: real, isFile };
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

// bwrap's --dev: a tmpfs holding the host's harmless device nodes (bound), the /proc/self/fd
// links, a new devpts instance with its ptmx, and a tmpfs /dev/shm.
function devSteps(target: string, index: number, s: MountState, chroot: string | null, ids: FsIds): NativeMountStep[] {
  const base = { readonly: false, index, data: null, fstype: null, source: null, ...ids };
  const steps: NativeMountStep[] = [{ ...base, kind: 0, create: 1, target, fstype: 'tmpfs', flags: MS_NOSUID | MS_NODEV, data: 'mode=755' }];
  for (const name of DEV_NODES) {
    steps.push({ ...base, kind: 0, create: 2, target: join(target, name), source: bindSource(`/dev/${name}`, s, chroot).path, flags: MS_BIND });
  }
  steps.push({ ...base, kind: 0, create: 1, target: join(target, 'shm'), fstype: 'tmpfs', flags: MS_NOSUID | MS_NODEV, data: 'mode=1777' });
  steps.push({ ...base, kind: 0, create: 1, target: join(target, 'pts'), fstype: 'devpts', flags: FS_TYPES.devpts.flags, data: FS_TYPES.devpts.data });
  for (const [name, to] of DEV_LINKS) steps.push({ ...base, kind: 1, create: 0, target: join(target, name), source: to, flags: 0 });
  return steps;
}

type FsIds = { asUid: number; asGid: number };

// The id inside a map for fs ids when `own` (the caller's id) is left out of it: the namespace's
// root where mapped, else the first id mapped; -1 when `own` is mapped or no map is written.
function mappedId(maps: readonly { inside: number; outside: number; count: number }[] | null, own: number): number {
  if (maps === null || maps.length === 0) return -1;
  if (maps.some((m) => own >= m.outside && own < m.outside + m.count)) return -1;
  return maps.some((m) => m.inside === 0) ? 0 : maps[0].inside;
}

// addDevMount() creates files on a tmpfs of the new user namespace, which refuses owners it
// cannot map (EOVERFLOW): with maps that leave out the caller's ids, the child makes its steps
// in a helper with mapped fs ids (native/child/child_mounts.cc).
function devFsIds(n: NamespaceSetup): FsIds {
  const uid = mappedId(n.uidMappings, process.geteuid?.() ?? 0);
  const gid = mappedId(n.gidMappings, process.getegid?.() ?? 0);
  return { asUid: uid, asGid: gid };
}

/** NativePlan.mountSetup, or null when the command has no new root and no mounts. Run time: it reads the host's file system. */
export function nativeMountSetup(s: MountState, n: NamespaceSetup, chroot: string | null): NativeMountSetup | null {
  const procPrivate = n.remountProc && (n.propagation === 'shared' || n.propagation === 'unchanged');
  if (s.pivotRoot === null && s.mounts.length === 0 && !procPrivate) return null;
  const steps: NativeMountStep[] = [];
  for (const [index, m] of s.mounts.entries()) {
    if (m.type === 'dev') {
      steps.push(...devSteps(m.target, index, s, chroot, devFsIds(n)));
    } else if (m.type === 'bind') {
      const src = bindSource(m.source ?? '', s, chroot);
      steps.push({
        kind: 0,
        create: src.isFile ? 2 : 1,
        source: src.path,
        target: m.target,
        fstype: null,
        flags: MS_BIND | MS_REC,
        data: null,
        readonly: m.readonly,
        index,
      });
    } else {
      const t = FS_TYPES[m.type];
      steps.push({
        kind: 0,
        create: 1,
        source: m.type,
        target: m.target,
        fstype: m.type,
        flags: t.flags | (m.readonly ? MS_RDONLY : 0),
        data: m.options ?? t.data,
        readonly: false,
        index,
      });
    }
  }
  return { pivotRoot: s.pivotRoot, oldRoot: OLD_ROOT_DIR, procPrivate, steps, targets: s.mounts.map((m) => m.target) };
}

/** Why the new root or the mounts cannot be set up in this run (a usage error), or null. */
export function mountMisuse(s: MountState, flags: number, n: NamespaceSetup, chroot: string | null): string | null {
  if (s.pivotRoot === null && s.mounts.length === 0) return null;
  const what = s.pivotRoot !== null ? 'pivotRoot()' : 'addMount()';
  if (s.pivotRoot !== null && chroot !== null) return 'pivotRoot() and chroot() cannot be combined: choose one new root';
  if ((flags & NAMESPACE_FLAGS.mnt) === 0) return `${what} needs a new mount namespace: unshare(['mnt'])`;
  if (n.propagation === 'shared' || n.propagation === 'unchanged') {
    return `${what} needs setMountPropagation('private') or 'slave': with '${n.propagation}' the mounts would reach the host`;
  }
  return null;
}
