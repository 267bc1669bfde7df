/**
 * Containers on a real busybox root: pivotRoot() (the old root detached), addMount() and
 * addDevMount() in order inside the new root, remountProc() inside the new root (with chroot()
 * and pivotRoot()) and never on the caller's /proc, joinCgroup() refusing a directory that is
 * no cgroup. Observed from inside the child (its /proc/self/mountinfo, ls, writes failing with
 * EROFS) and from outside (the host's mountinfo, /proc, the root directory, a planted file).
 * As root; the user-namespace part also as nobody (or as the non-root user running the suite)
 * where the kernel allows unprivileged user namespaces.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { AS_NOBODY, nobodyPackage, sanitizerEnv } from '../adversarial/support/nobody';
import { makeBusyboxRoot } from '../helpers/busybox-root';
import { useInvariants } from '../helpers/invariants';
import { expectChildOk, runNodeChild } from '../helpers/node-child';
import { commandRejection as caught } from '../helpers/rejection';
import { describeRoot, isRoot } from '../helpers/root';
import { makeTmpDir } from '../helpers/tmp';

useInvariants();

const ALL_IDS = [{ inside: 0, outside: 0, count: 65536 }];

/** A fresh busybox root, or null after printing why the test skips. */
function busyboxRoot(ctx: { skip: () => void }): string | null {
  const r = makeBusyboxRoot();
  if ('reason' in r) {
    console.warn(`[skip] busybox root: ${r.reason}`);
    ctx.skip();
    return null;
  }
  return r.root;
}

/** Mount points of a mountinfo text, in order. */
const mountPoints = (mountinfo: string) =>
  mountinfo
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[4]);

describe('pivotRoot/addMount/addDevMount arguments and misuse', () => {
  it('check their arguments at once, naming method and argument', () => {
    const c = new Command('/bin/true');
    expect(() => c.pivotRoot('rel/dir')).toThrow(/Command.pivotRoot: argument 'dir' must be an absolute path/);
    expect(() => c.pivotRoot('/')).toThrow(TypeError);
    expect(() => c.addMount('tmp', { type: 'tmpfs' })).toThrow(/Command.addMount: argument 'target' must be an absolute path/);
    expect(() => c.addMount('/tmp', { type: 'overlay' as never })).toThrow(RangeError);
    expect(() => c.addMount('/tmp', null as never)).toThrow(/argument 'options'/);
    expect(() => c.addMount('/x', { type: 'bind' })).toThrow(/argument 'options.source'/);
    expect(() => c.addMount('/x', { type: 'bind', source: '/etc', options: 'x' })).toThrow(/'options.options' is not taken by a 'bind'/);
    expect(() => c.addMount('/x', { type: 'tmpfs', source: '/etc' })).toThrow(/'options.source' is only for 'bind'/);
    expect(() => c.addMount('/x', { type: 'tmpfs', readonly: 1 as never })).toThrow(/'options.readonly'/);
    expect(() => c.addDevMount('dev')).toThrow(/Command.addDevMount: argument 'target'/);
  });

  it('a run refuses: no mount namespace, pivotRoot with chroot, a shared or unchanged propagation', async () => {
    const cases: [Command, RegExp][] = [
      [new Command('/bin/true').pivotRoot('/srv/r'), /pivotRoot\(\) needs a new mount namespace: unshare\(\['mnt'\]\)/],
      [new Command('/bin/true').addMount('/tmp', { type: 'tmpfs' }), /addMount\(\) needs a new mount namespace/],
      [new Command('/bin/true').unshare(['mnt']).pivotRoot('/srv/r').chroot('/srv/r'), /pivotRoot\(\) and chroot\(\) cannot be combined/],
      [new Command('/bin/true').unshare(['mnt']).setMountPropagation('shared').addDevMount(), /with 'shared' the mounts would reach the host/],
      [new Command('/bin/true').unshare(['mnt']).setMountPropagation('unchanged').pivotRoot('/srv/r'), /with 'unchanged'/],
    ];
    for (const [cmd, message] of cases) {
      const err = await caught(cmd.run());
      expect(err.code).toBe('ERR_COMMAND_USAGE');
      expect(err.message).toMatch(message);
    }
  });
});

describeRoot('remountProc() inside the new root (root)', () => {
  it('with chroot() and a user namespace: ls /proc in the new root lists the new pid namespace', async (ctx) => {
    const root = busyboxRoot(ctx);
    if (root === null) return;
    // Before: proc went on the old root's /proc, then chroot; the new root's /proc stayed empty.
    const r = await new Command('/bin/ls', '/proc')
      .unshare(['user', 'pid', 'mnt'])
      .setUidMappings(ALL_IDS)
      .setGidMappings(ALL_IDS)
      .remountProc()
      .chroot(root)
      .run();
    const entries = String(r.stdout).trim().split('\n');
    expect(entries).toContain('1');
    expect(entries).toContain('self');
    expect(entries).toContain('mounts');
    expect(fs.readdirSync(path.join(root, 'proc'))).toEqual([]); // mounted in the child's namespace only
  });

  it("never replaces the caller's /proc with a shared tree ('shared', 'unchanged'); a throwaway namespace plays the host", (ctx) => {
    const root = busyboxRoot(ctx);
    if (root === null) return;
    // The "host" is a mount namespace of its own (cut from the real one first, then made
    // rshared, as systemd leaves "/"), so nothing here can reach the machine's mounts.
    const prefix = ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount --make-rshared / && exec "$0" "$@"'];
    const r = runNodeChild(
      `
      const seen = () => ({ mountinfo: fs.readFileSync('/proc/self/mountinfo', 'utf8'), pids: fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).length, self: fs.readlinkSync('/proc/self') });
      const out = { before: seen(), runs: [] };
      for (const mode of ['shared', 'unchanged']) {
        const r = await new vc.Command('/bin/sh', '-c', 'ls /proc').unshare(['pid']).setMountPropagation(mode).remountProc().run();
        out.runs.push({ mode, pids: String(r.stdout).split('\\n').filter((n) => /^\\d+$/.test(n)).length, after: seen() });
      }
      // A chroot whose /proc is a plain directory on the shared tree: no private mount point to
      // put proc on, so the run fails rather than mount where the "host" would see it.
      try {
        await new vc.Command('/bin/true').unshare(['pid']).setMountPropagation('shared').remountProc().chroot(ARGS.root).run();
        out.chroot = null;
      } catch (e) {
        out.chroot = { stage: e.stage, code: e.code };
      }
      out.chrootProc = fs.readdirSync(ARGS.root + '/proc');
      out.end = seen();
      emit(out);
    `,
      { prefix, args: { root } },
    );
    type Seen = { mountinfo: string; pids: number; self: string };
    const out = expectChildOk(r) as { before: Seen; runs: { mode: string; pids: number; after: Seen }[]; chroot: unknown; chrootProc: string[]; end: Seen };
    expect(out.before.pids).toBeGreaterThan(3);
    for (const run of out.runs) {
      expect(run.pids, run.mode).toBeLessThanOrEqual(3); // the child saw its own pid namespace
      expect(run.after.mountinfo, run.mode).toBe(out.before.mountinfo);
      expect(run.after.pids, run.mode).toBeGreaterThan(3);
      expect(run.after.self, run.mode).toBe(out.before.self);
    }
    expect(out.chroot).toEqual({ stage: 'proc', code: 'EINVAL' });
    expect(out.chrootProc).toEqual([]);
    expect(out.end.mountinfo).toBe(out.before.mountinfo);
  });
});

describeRoot('joinCgroup() on a directory that is no cgroup (root)', () => {
  it('fails at stage cgroup with EINVAL and leaves a planted cgroup.procs unchanged (clone3 and fork paths)', async () => {
    const dir = makeTmpDir('vc-not-cgroup-');
    const procs = path.join(dir, 'cgroup.procs');
    fs.writeFileSync(procs, 'planted\n');
    for (const handshake of [false, true]) {
      const cmd = new Command('/bin/true').joinCgroup(dir);
      if (handshake) cmd.requireHandshake(); // the fork() path: no clone3
      const p = cmd.run();
      if (handshake)
        void cmd.handshakeWait().then(
          () => cmd.handshakeNotify(),
          () => undefined,
        );
      const err = await caught(p);
      expect(err.stage).toBe('cgroup');
      expect(err.code).toBe('EINVAL');
      expect(err.path).toBe(dir);
      expect(fs.readFileSync(procs, 'utf8')).toBe('planted\n');
    }
    const fd = fs.openSync(dir, 'r');
    try {
      const err = await caught(new Command('/bin/true').joinCgroup(fd).run());
      expect([err.stage, err.code]).toEqual(['cgroup', 'EINVAL']);
    } finally {
      fs.closeSync(fd);
    }
    expect(fs.readFileSync(procs, 'utf8')).toBe('planted\n');
  });
});

describeRoot('pivotRoot() and mounts on a busybox root (root)', () => {
  it('pivotRoot(): "/" is the new root, the old root is detached and its directory removed', async (ctx) => {
    const root = busyboxRoot(ctx);
    if (root === null) return;
    fs.writeFileSync(path.join(root, 'marker'), 'inside\n');
    const hostFile = makeTmpDir('vc-host-'); // a host path the program must not reach
    const r = await new Command('/bin/sh', '-c', `cat /marker; ls -a /; cat /proc/self/mountinfo; test -e ${hostFile} && echo host-visible; echo done`)
      .unshare(['pid', 'mnt'])
      .pivotRoot(root)
      .remountProc()
      .run();
    const [marker, ...rest] = String(r.stdout).trim().split('\n');
    expect(marker).toBe('inside');
    expect(rest).toContain('bin');
    expect(rest).not.toContain('.vircommand-oldroot');
    expect(rest).not.toContain('host-visible');
    const mountinfo = rest.filter((l) => /^\d+ \d+ /.test(l));
    expect(mountPoints(mountinfo.join('\n'))).toEqual(['/', '/proc']); // nothing of the old root
    expect(mountinfo[0].split(' ')[3]).toBe(root); // "/" is the bound root directory
    expect(fs.existsSync(path.join(root, '.vircommand-oldroot'))).toBe(false);
  });

  it('addMount(): bind (ro fails with EROFS), tmpfs with options, proc, sysfs, mqueue, devpts, in order; targets created', async (ctx) => {
    const root = busyboxRoot(ctx);
    if (root === null) return;
    const data = makeTmpDir('vc-data-');
    fs.writeFileSync(path.join(data, 'file'), 'from the host\n');
    const script = [
      'cat /data/file /ro/file /one-file',
      'echo w > /data/new && echo data-writable',
      'echo w > /ro/new || echo ro-refused',
      'echo w > /one-file || echo file-refused',
      'cat /proc/self/mountinfo',
    ].join('; ');
    const r = await new Command('/bin/sh', '-c', script)
      .unshare(['pid', 'mnt', 'ipc', 'net'])
      .pivotRoot(root)
      .addMount('/data', { type: 'bind', source: data })
      .addMount('/ro', { type: 'bind', source: data, readonly: true })
      .addMount('/one-file', { type: 'bind', source: path.join(data, 'file'), readonly: true })
      .addMount('/scratch/deep', { type: 'tmpfs', options: 'size=1m,mode=700' })
      .addMount('/proc', { type: 'proc' })
      .addMount('/sys', { type: 'sysfs', readonly: true })
      .addMount('/dev/mqueue', { type: 'mqueue' })
      .addMount('/dev/pts', { type: 'devpts' })
      .run({ status: true });
    const lines = String(r.stdout).trim().split('\n');
    expect(lines.slice(0, 3)).toEqual(['from the host', 'from the host', 'from the host']);
    expect(lines).toContain('data-writable');
    expect(lines).toContain('ro-refused');
    expect(lines).toContain('file-refused');
    expect(String(r.stderr)).toMatch(/can't create \/ro\/new: Read-only file system/);
    expect(fs.readFileSync(path.join(data, 'new'), 'utf8')).toBe('w\n'); // the rw bind is the host's directory
    const info = lines.filter((l) => /^\d+ \d+ /.test(l));
    expect(mountPoints(info.join('\n'))).toEqual(['/', '/data', '/ro', '/one-file', '/scratch/deep', '/proc', '/sys', '/dev/mqueue', '/dev/pts']);
    const byPoint = new Map(info.map((l) => [l.split(' ')[4], l]));
    expect(byPoint.get('/ro')).toMatch(/ \/ro ro[, ]/);
    expect(byPoint.get('/data')).toMatch(/ \/data rw[, ]/);
    expect(byPoint.get('/scratch/deep')).toMatch(/ - tmpfs .*size=1024k/);
    expect(byPoint.get('/scratch/deep')).toMatch(/mode=700/);
    expect(byPoint.get('/sys')).toMatch(/ \/sys ro,.* - sysfs /);
    expect(byPoint.get('/dev/mqueue')).toMatch(/ - mqueue /);
    expect(byPoint.get('/dev/pts')).toMatch(/ - devpts .*ptmxmode=666/);
    // Missing targets were made in the root: a directory, a file for the file's bind.
    expect(fs.statSync(path.join(root, 'scratch/deep')).isDirectory()).toBe(true);
    expect(fs.statSync(path.join(root, 'one-file')).isFile()).toBe(true);
  });

  it('addDevMount(): a minimal /dev (null, zero, full, random, urandom, tty, fd links, pts, shm) that works', async (ctx) => {
    const root = busyboxRoot(ctx);
    if (root === null) return;
    const r = await new Command('/bin/sh', '-c', 'ls /dev; echo gone > /dev/null && echo null-ok; readlink /dev/stdout; ls -l /dev/urandom')
      .unshare(['pid', 'mnt'])
      .pivotRoot(root)
      .remountProc()
      .addDevMount()
      .run();
    const lines = String(r.stdout).trim().split('\n');
    for (const n of ['core', 'fd', 'full', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero'])
      expect(lines).toContain(n);
    expect(lines).toContain('null-ok');
    expect(lines).toContain('/proc/self/fd/1');
    expect(lines.at(-1)).toMatch(/^crw-rw-rw- .* 1,\s+9 .*\/dev\/urandom$/);
  });

  it("addDevMount() in a user namespace whose maps leave out the caller's own ids (0:200000:65536), as the container of docs/containers.md", async (ctx) => {
    const root = busyboxRoot(ctx);
    if (root === null) return;
    const data = makeTmpDir('vc-data-');
    fs.writeFileSync(path.join(data, 'file'), 'bound\n');
    fs.chmodSync(data, 0o755);
    fs.chmodSync(path.join(data, 'file'), 0o644);
    const ids = [{ inside: 0, outside: 200000, count: 65536 }];
    const container = (cmd: Command) =>
      cmd.unshare(['user', 'pid', 'mnt', 'uts', 'ipc', 'net']).setUidMappings(ids).setGidMappings(ids).pivotRoot(root).remountProc();
    // A mount after addDevMount() whose target is made in the new root: our own ids again there.
    const r = await container(
      new Command('/bin/sh', '-c', 'ls /dev; echo x > /dev/null && echo ok; head -c 4 /dev/urandom | wc -c; ls -lnd /dev; cat /data/file'),
    )
      .addDevMount()
      .addMount('/data', { type: 'bind', source: data, readonly: true })
      .run();
    const lines = String(r.stdout).trim().split('\n');
    for (const n of ['core', 'fd', 'full', 'null', 'ptmx', 'pts', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero'])
      expect(lines).toContain(n);
    expect(lines.slice(-4, -2)).toEqual(['ok', '4']);
    expect(lines.at(-2)).toMatch(/^drwxr-xr-x\s+\d+ 0\s+0\s.* \/dev$/); // the tmpfs root belongs to the namespace's root
    expect(lines.at(-1)).toBe('bound');
    expect(fs.existsSync(path.join(root, '.vircommand-oldroot'))).toBe(false);
    // A failure inside that /dev names the mount, its stage and errno (a file as the target: ENOTDIR).
    fs.writeFileSync(path.join(root, 'file'), '');
    const err = await caught(container(new Command('/bin/true')).addMount('/tmp', { type: 'tmpfs' }).addDevMount('/file').run());
    expect([err.stage, err.code, err.value, err.path]).toEqual(['mount', 'ENOTDIR', 1, '/file']);
    // addMount()'s own steps keep the caller's ids: a target made inside a tmpfs of that namespace is refused.
    const own = await caught(container(new Command('/bin/true')).addMount('/tmp', { type: 'tmpfs' }).addMount('/tmp/x', { type: 'bind', source: data }).run());
    expect([own.stage, own.code, own.value, own.path]).toEqual(['mount', 'EOVERFLOW', 1, '/tmp/x']);
  });

  it('with chroot(): the binds reach the host, the mounts are inside the new root', async (ctx) => {
    const root = busyboxRoot(ctx);
    if (root === null) return;
    const data = makeTmpDir('vc-data-');
    fs.writeFileSync(path.join(data, 'file'), 'bound\n');
    const r = await new Command('/bin/sh', '-c', 'cat /data/file; ls /proc | grep -c "^[0-9]"; ls /dev/null; pwd')
      .unshare(['pid', 'mnt'])
      .chroot(root)
      .remountProc()
      .addMount('/data', { type: 'bind', source: data, readonly: true })
      .addDevMount()
      .run();
    expect(String(r.stdout).trim().split('\n')).toEqual(['bound', expect.stringMatching(/^[1-3]$/), '/dev/null', '/']);
  });

  it('failures name their stage, the mount (index as value, target as path) and errno; the mounts never reach the host', async (ctx) => {
    const root = busyboxRoot(ctx);
    if (root === null) return;
    const hostMounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    const err = await caught(
      new Command('/bin/true')
        .unshare(['mnt'])
        .pivotRoot(root)
        .addMount('/tmp', { type: 'tmpfs' })
        .addMount('/missing', { type: 'bind', source: '/nonexistent/source' })
        .run(),
    );
    expect([err.stage, err.code, err.value, err.path]).toEqual(['mount', 'ENOENT', 1, '/missing']);
    expect(err.message).toMatch(/failed at stage 'mount': ENOENT .*: \/missing \(mount 1\)/);
    const bad = await caught(new Command('/bin/true').unshare(['mnt']).pivotRoot(root).addMount('/tmp', { type: 'tmpfs', options: 'size=nonsense' }).run());
    expect([bad.stage, bad.code, bad.value]).toEqual(['mount', 'EINVAL', 0]);
    const noRoot = await caught(new Command('/bin/true').unshare(['mnt']).pivotRoot(path.join(root, 'nope')).run());
    expect([noRoot.stage, noRoot.code, noRoot.path]).toEqual(['pivot_root', 'ENOENT', path.join(root, 'nope')]);
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).toBe(hostMounts);
  });

  it("exec() in place prints the failed mount's target, and the pivot_root directory, exit 125", (ctx) => {
    const root = busyboxRoot(ctx);
    if (root === null) return;
    const mount = runNodeChild(
      `new vc.Command('/bin/true').unshare(['mnt']).pivotRoot(ARGS.root)
      .addMount('/tmp', { type: 'tmpfs' }).addMount('/here', { type: 'bind', source: '/nonexistent/vc-src' }).exec(); emit('returned');`,
      { args: { root } },
    );
    expect(mount.status).toBe(125);
    expect(mount.stderr).toBe('vircommand: mount: ENOENT (No such file or directory): /here\n');
    const pivot = runNodeChild(`new vc.Command('/bin/true').unshare(['mnt']).pivotRoot(ARGS.dir).exec(); emit('returned');`, {
      args: { dir: path.join(root, 'nope') },
    });
    expect(pivot.status).toBe(125);
    expect(pivot.stderr).toBe(`vircommand: pivot_root: ENOENT (No such file or directory): ${path.join(root, 'nope')}\n`);
  });
});

// The same container as an unprivileged caller: a user namespace of its own, its one id mapped.
const USERNS_BODY = `
  const [root, data] = ARGS;
  const uid = process.getuid(), gid = process.getgid();
  const r = await new vc.Command('/bin/sh', '-c', 'id -u; ls /proc | grep -c "^[0-9]"; cat /data/file; echo w > /data/x || echo ro-refused; ls /dev/null; cat /proc/self/mountinfo')
    .unshare(['user', 'pid', 'mnt', 'ipc', 'net'])
    .setUidMappings([{ inside: 0, outside: uid, count: 1 }]).setGidMappings([{ inside: 0, outside: gid, count: 1 }])
    .pivotRoot(root).remountProc()
    .addMount('/data', { type: 'bind', source: data, readonly: true })
    .addMount('/tmp', { type: 'tmpfs', options: 'size=1m' })
    .addMount('/dev/mqueue', { type: 'mqueue' })
    .addDevMount()
    .run({ status: true });
  emit({ status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) });
`;

function expectUsernsContainer(out: { status: number; stdout: string; stderr: string }): void {
  const lines = out.stdout.trim().split('\n');
  expect(lines.slice(0, 5)).toEqual(['0', expect.stringMatching(/^[1-3]$/), 'secret', 'ro-refused', '/dev/null']);
  expect(out.stderr).toMatch(/Read-only file system/);
  expect(mountPoints(lines.slice(5).join('\n'))).toEqual([
    '/',
    '/proc',
    '/data',
    '/tmp',
    '/dev/mqueue',
    '/dev',
    '/dev/null',
    '/dev/zero',
    '/dev/full',
    '/dev/random',
    '/dev/urandom',
    '/dev/tty',
    '/dev/shm',
    '/dev/pts',
  ]);
}

describe('a container without privileges (user namespace)', () => {
  it('pivotRoot, remountProc, ro bind (EROFS), tmpfs, mqueue and a minimal /dev, as a non-root caller', (ctx) => {
    const bb = makeBusyboxRoot();
    if ('reason' in bb) {
      console.warn(`[skip] busybox root: ${bb.reason}`);
      ctx.skip();
      return;
    }
    const data = makeTmpDir('vc-data-');
    fs.writeFileSync(path.join(data, 'file'), 'secret\n');
    fs.chmodSync(data, 0o755);
    fs.chmodSync(path.join(data, 'file'), 0o644);
    if (!isRoot) {
      const probe = spawnSync('unshare', ['--user', '--map-root-user', 'true']);
      if (probe.status !== 0) {
        console.warn(`[skip] unprivileged user namespaces are not allowed here: ${probe.stderr?.toString().trim()}`);
        ctx.skip();
        return;
      }
      expectUsernsContainer(expectChildOk(runNodeChild(USERNS_BODY, { args: [bb.root, data] })) as never);
      return;
    }
    // Root: the same as nobody, with the root directory nobody's (pivot_root parks the old root
    // in it, the mounts' targets are created in it).
    const pkg = nobodyPackage();
    if ('reason' in pkg) {
      console.warn(`[skip] nobody: ${pkg.reason}`);
      ctx.skip();
      return;
    }
    const probe = spawnSync(AS_NOBODY[0], [...AS_NOBODY.slice(1), 'unshare', '--user', '--map-root-user', 'true'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.warn(`[skip] nobody cannot make a user namespace here: ${probe.stderr.trim()}`);
      ctx.skip();
      return;
    }
    execFileSync('chown', ['-R', '65534:65534', bb.root]);
    const dir = makeTmpDir('vc-userns-script-');
    const script = path.join(dir, 'script.js');
    fs.writeFileSync(
      script,
      `'use strict';
const fs = require('fs');
const vc = require(process.argv[2]);
const ARGS = JSON.parse(process.argv[3]);
let result;
const emit = (v) => { result = v; };
(async () => { ${USERNS_BODY} })().then(() => process.stdout.write(JSON.stringify(result)), (e) => { process.stderr.write(String(e && e.stack)); process.exit(1); });
`,
    );
    execFileSync('chmod', ['-R', 'a+rX', dir]);
    const env = { PATH: '/usr/bin:/bin', ...sanitizerEnv() };
    const r = spawnSync(AS_NOBODY[0], [...AS_NOBODY.slice(1), process.execPath, script, pkg.entry, JSON.stringify([bb.root, data])], {
      encoding: 'utf8',
      cwd: dir,
      env,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expectUsernsContainer(JSON.parse(r.stdout));
  });
});
