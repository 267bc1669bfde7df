/**
 * Builds the adversarial suite's C support code (this directory) into
 * build/test-helper/adversarial/, on first use and again only when a source
 * changed (mtime + size + flags), with buildC() of test/helpers/build-helper.ts
 * (temporary name, then rename: parallel test files never see half a binary).
 *
 * - probe            static program (fds / busy / gen modes)
 * - seccomp-launch   launcher that refuses close_range(2), then execs
 * - fdtool.node      test-only N-API addon: dup2, fcntl, fstat, pipe, waitpid...
 * - libvchooks.so    pre-exec hooks for the stage-error and hostile-hook tests
 *
 * None of this is the product addon.
 */
import path from 'node:path';
import { BASE_FLAGS, buildC, nodeIncludeDir, REPO_ROOT } from '../../helpers/build-helper';

export const SUPPORT_DIR = path.join(REPO_ROOT, 'test', 'adversarial', 'support');
export const OUT_DIR = path.join(REPO_ROOT, 'build', 'test-helper', 'adversarial');

type Kind = 'static' | 'exe' | 'addon' | 'shared';

function build(src: string, out: string, kind: Kind): string {
  const flags = [...BASE_FLAGS];
  if (kind === 'static') flags.push('-static');
  if (kind === 'addon') flags.push('-shared', '-fPIC', `-DNODE_GYP_MODULE_NAME=${out.replace(/\W/g, '_')}`, `-I${nodeIncludeDir()}`);
  if (kind === 'shared') flags.push('-shared', '-fPIC');
  return buildC({ src: path.join(SUPPORT_DIR, src), out: path.join(OUT_DIR, out), flags, label: 'adversarial support' }).path;
}

let cached: Support | null = null;

export interface Support {
  probe: string;
  seccompLaunch: string;
  fdtoolPath: string;
  hooks: string;
}

export function buildSupport(): Support {
  if (cached) return cached;
  cached = {
    probe: build('probe.c', 'probe', 'static'),
    seccompLaunch: build('seccomp-launch.c', 'seccomp-launch', 'exe'),
    fdtoolPath: build('fdtool.c', 'fdtool.node', 'addon'),
    hooks: build('hooks.c', 'libvchooks.so', 'shared'),
  };
  return cached;
}

/** The functions of fdtool.node (see fdtool.c). Negative numbers are -errno. */
export interface FdTool {
  dup2(src: number, dst: number): number;
  dupfd(fd: number, min: number, cloexec: boolean): number;
  close(fd: number): number;
  getfd(fd: number): number;
  setCloexec(fd: number, on: boolean): number;
  getfl(fd: number): number;
  setNonblock(fd: number, on: boolean): number;
  fstat(fd: number): { dev: string; ino: string } | number;
  pipe(cloexec: boolean): [number, number] | number;
  inotify(cloexec: boolean): number;
  waitpid(pid: number, nohang: boolean): { pid: number; status: number } | { errno: number };
  read1(fd: number): number;
  write(fd: number, s: string): number;
  readAll(fd: number): string | number;
  setrlimit(resource: number, soft: number, hard: number): number;
  getrlimit(resource: number): [number, number] | number;
}

export function loadFdTool(): FdTool {
  const p = buildSupport().fdtoolPath;
  const m = { exports: {} as FdTool };
  process.dlopen(m, p);
  return m.exports;
}
