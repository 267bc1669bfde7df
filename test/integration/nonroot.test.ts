/**
 * A parent running as nobody: a node process started
 * with `setpriv --reuid=65534 --regid=65534 --clear-groups` loads the compiled
 * package and asks for setUID(0) (stage 'setuid', EPERM) and joinCgroup
 * (stage 'cgroup', EACCES or EPERM), with run(), runSync() and runAsync(),
 * and must be left with no extra fd, no zombie and no child.
 *
 * The package is compiled from tsconfig.build.json (or the repository's
 * dist/) into a 0755 temporary directory together with the addon,
 * package.json and node-gyp-build, so that nobody can read all of it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addonUnderTest, sanitizerEnv } from '../adversarial/support/nobody';
import { REPO_ROOT } from '../helpers/build-helper';
import { useInvariants } from '../helpers/invariants';
import { describeRoot } from '../helpers/root';
import { makeTmpDir, removeTmpDirs } from '../helpers/tmp';

useInvariants();

/** A nobody-readable copy of the package, or why there is none. */
function buildPackage(): { dir: string } | { reason: string } {
  const found = addonUnderTest();
  if ('reason' in found) return found;
  const addon = found.path;
  const dir = makeTmpDir('vc-nobody-pkg-');
  const tsconfig = path.join(REPO_ROOT, 'tsconfig.build.json');
  if (fs.existsSync(tsconfig)) {
    try {
      execFileSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', tsconfig, '--outDir', path.join(dir, 'dist')], {
        cwd: REPO_ROOT,
        stdio: 'pipe',
      });
    } catch (e) {
      const err = e as { stdout?: Buffer; message: string };
      throw new Error(`tsc -p tsconfig.build.json failed:\n${err.stdout?.toString() || err.message}`);
    }
  } else if (fs.existsSync(path.join(REPO_ROOT, 'dist', 'index.js'))) {
    fs.cpSync(path.join(REPO_ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
  } else {
    return { reason: 'neither tsconfig.build.json nor dist/index.js exists: no compiled package to load as nobody' };
  }
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(addon, path.join(dir, 'build', 'Release', 'vircommand.node'));
  fs.copyFileSync(path.join(REPO_ROOT, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(REPO_ROOT, 'node_modules', 'node-gyp-build'), path.join(dir, 'node_modules', 'node-gyp-build'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'script.js'), SCRIPT);
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  return { dir };
}

/** A cgroup v2 directory nobody cannot write to: the v2 root (its cgroup.procs is root's, 0644). */
function cgroupDir(): string | null {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post?.startsWith('cgroup2 ')) return pre.split(' ')[4];
  }
  return null;
}

const SCRIPT = `'use strict';
const fs = require('fs');
const vc = require(process.argv[2]);
const cgroup = process.argv[3] || null;
const fds = () => fs.readdirSync('/proc/self/fd').map((n) => {
  try { return n + ' -> ' + fs.readlinkSync('/proc/self/fd/' + n); } catch { return null; }
}).filter(Boolean).sort();
function children() {
  const out = [];
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\\d+$/.test(n)) continue;
    try {
      const s = fs.readFileSync('/proc/' + n + '/stat', 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === process.pid) out.push(n + ' ' + f[0]);
    } catch {}
  }
  return out;
}
const pick = (e) => ({ isCommandError: e instanceof vc.CommandError, stage: e && e.stage, code: e && e.code, errno: e && e.errno, message: String(e && e.message) });
(async () => {
  // Groups from the kernel (process.getgroups() adds the egid on its own).
  const groupsLine = /^Groups:(.*)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1].trim();
  const out = { uid: process.getuid(), euid: process.geteuid(), gid: process.getgid(), groups: groupsLine ? groupsLine.split(/\\s+/).map(Number) : [] };
  // Warm up (loads the addon, starts libuv's machinery), then snapshot.
  out.plain = String((await new vc.Command('/bin/sh', '-c', 'id -u').run()).stdout).trim();
  const before = fds();
  try { await new vc.Command('/bin/true').setUID(0).run(); out.setuidRun = 'resolved'; } catch (e) { out.setuidRun = pick(e); }
  try { new vc.Command('/bin/true').setUID(0).runSync(); out.setuidSync = 'returned'; } catch (e) { out.setuidSync = pick(e); }
  try { const c = new vc.Command('/bin/true').setUID(0); c.runAsync(); await c.wait(); out.setuidAsync = 'resolved'; } catch (e) { out.setuidAsync = pick(e); }
  if (cgroup) {
    try { await new vc.Command('/bin/true').joinCgroup(cgroup).run(); out.cgroup = 'resolved'; } catch (e) { out.cgroup = pick(e); }
    try { new vc.Command('/bin/true').joinCgroup(cgroup).runSync(); out.cgroupSync = 'returned'; } catch (e) { out.cgroupSync = pick(e); }
  }
  await new Promise((r) => setTimeout(r, 200));
  out.fdsBefore = before;
  out.fdsAfter = fds();
  out.children = children();
  process.stdout.write('@@RESULT@@' + JSON.stringify(out) + '\\n');
})().catch((e) => { process.stdout.write('@@RESULT@@' + JSON.stringify({ crashed: String(e && e.stack) }) + '\\n'); });
`;

let pkg: { dir: string } | { reason: string } = { reason: 'not built yet' };
beforeAll(() => {
  pkg = buildPackage();
  if ('reason' in pkg) console.warn(`[skip] nonroot: ${pkg.reason}`);
});
// vitest's fork workers may not run 'exit' handlers: remove the build directories now.
afterAll(() => removeTmpDirs());

describeRoot('a parent running as nobody', () => {
  it('setUID(0) fails at stage setuid with EPERM, joinCgroup at stage cgroup, and nothing leaks', (ctx) => {
    if ('reason' in pkg) return ctx.skip();
    const cg = cgroupDir();
    if (!cg) console.warn('[skip] nonroot joinCgroup part: no cgroup v2 filesystem is mounted');
    const dir = pkg.dir;
    const r = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, path.join(dir, 'script.js'), path.join(dir, 'dist', 'index.js'), cg ?? ''],
      {
        cwd: dir,
        env: { PATH: '/usr/bin:/bin', ...sanitizerEnv() },
        encoding: 'utf8',
        timeout: 20000,
      },
    );
    const at = r.stdout.indexOf('@@RESULT@@');
    expect(at, `no result (status ${r.status}):\n${r.stdout}\n${r.stderr}`).toBeGreaterThanOrEqual(0);
    const out = JSON.parse(r.stdout.slice(at + 10));
    expect(out.crashed).toBeUndefined();
    expect({ uid: out.uid, euid: out.euid, gid: out.gid, groups: out.groups }).toEqual({ uid: 65534, euid: 65534, gid: 65534, groups: [] });
    expect(out.plain).toBe('65534');

    for (const key of ['setuidRun', 'setuidSync', 'setuidAsync']) {
      expect(out[key], key).toMatchObject({ isCommandError: true, stage: 'setuid', code: 'EPERM', errno: 1 });
    }
    if (cg) {
      for (const key of ['cgroup', 'cgroupSync']) {
        expect(out[key], key).toMatchObject({ isCommandError: true, stage: 'cgroup' });
        expect(['EACCES', 'EPERM'], `${key}: ${out[key].code}`).toContain(out[key].code);
        expect(out[key].message).toContain(cg);
      }
    }
    expect(out.fdsAfter).toEqual(out.fdsBefore);
    expect(out.children).toEqual([]);
    expect(r.status).toBe(0);
  });
});
