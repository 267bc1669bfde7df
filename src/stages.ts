/**
 * The stages a CommandError can name: 'validate' (a misuse, found in TypeScript before any
 * spawn), then the native ones of native/core/stage.cc (kStageNames without 'none'): the
 * parent's 'pipe', 'fork' and 'idmap', the child's steps in their numbered order, and the parent's
 * 'wait'. test/unit/name-tables.test.ts fails when native has a stage this list lacks: add
 * it here, in the order of stage.cc, and to docs/internals.md.
 */
export const COMMAND_STAGES = [
  'validate',
  'pipe',
  'fork',
  'idmap',
  'signals',
  'stdio',
  'close-fds',
  'daemon',
  'pidfile',
  'rlimit',
  'setsid',
  'setpgid',
  'nice',
  'cgroup',
  'namespace',
  'unshare',
  'mounts',
  'pivot_root',
  'chroot',
  'proc',
  'mount',
  'hostname',
  'hook',
  'affinity',
  'mempolicy',
  'sched-core',
  'setgroups',
  'setgid',
  'setuid',
  'caps',
  'pdeathsig',
  'no-new-privs',
  'chdir',
  'selinux',
  'apparmor',
  'handshake',
  'sigmask',
  'seccomp',
  'exec',
  'wait',
] as const;

/** A setup stage, as CommandError.stage names it. */
export type CommandStage = (typeof COMMAND_STAGES)[number];

/** A stage name from native (a NativeFailure) as a CommandStage; the table test keeps them in step. */
export function toStage(name: string): CommandStage {
  return name as CommandStage;
}
