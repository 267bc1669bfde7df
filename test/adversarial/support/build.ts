/**
 * Builds the adversarial suite's C support code (this directory) into
 * build/test-helper/adversarial/, on first use and again only when a source
 * changed (mtime + size + flags). Outputs are written under a temporary
 * name and renamed into place, so test files building in parallel never see
 * a half-written binary.
 *
 * - probe            static program (fds / busy / gen modes)
 * - seccomp-launch   launcher that refuses close_range(2), then execs
 * - fdtool.node      test-only N-API addon: dup2, fcntl, fstat, pipe, waitpid...
 * - libvchooks.so    pre-exec hooks for R18-R20
 *
 * None of this is the product addon.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../helpers/build-helper';

export const SUPPORT_DIR = path.join(REPO_ROOT, 'test', 'adversarial', 'support');
export const OUT_DIR = path.join(REPO_ROOT, 'build', 'test-helper', 'adversarial');

const CC = process.env.CC || 'cc';

function nodeIncludeDir(): string {
  for (const dir of [path.resolve(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node']) {
    if (fs.existsSync(path.join(dir, 'node_api.h'))) return dir;
  }
  throw new Error('adversarial support: node_api.h not found');
}

type Kind = 'static' | 'exe' | 'addon' | 'shared';

function build(src: string, out: string, kind: Kind): string {
  const srcPath = path.join(SUPPORT_DIR, src);
  const outPath = path.join(OUT_DIR, out);
  const st = fs.statSync(srcPath);
  const flags = ['-O2', '-Wall', '-Wextra'];
  if (kind === 'static') flags.push('-static');
  if (kind === 'addon') flags.push('-shared', '-fPIC', `-DNODE_GYP_MODULE_NAME=${out.replace(/\W/g, '_')}`, `-I${nodeIncludeDir()}`);
  if (kind === 'shared') flags.push('-shared', '-fPIC');
  const stampPath = `${outPath}.stamp.json`;
  const stamp = JSON.stringify({ m: st.mtimeMs, s: st.size, flags });
  try {
    if (fs.readFileSync(stampPath, 'utf8') === stamp && fs.existsSync(outPath)) return outPath;
  } catch {
    // no stamp yet
  }
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const tmp = `${outPath}.tmp-${process.pid}`;
  try {
    execFileSync(CC, [...flags, '-o', tmp, srcPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`adversarial support: cannot compile ${src}:\n${err.stderr?.toString() || err.message}`);
  }
  fs.renameSync(tmp, outPath);
  fs.writeFileSync(stampPath, stamp);
  return outPath;
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
