/**
 * New namespaces: unshare() makes them at clone time, so the
 * program is pid 1 of a new pid namespace; setUidMappings()/setGidMappings() are written by the
 * parent before the child goes on (a caller without privileges becomes root in its own user
 * namespace); a new mount namespace is private by default (setMountPropagation() keeps it
 * shared); remountProc() shows only the namespace's processes. Observed from outside: the
 * program's output, /proc/<pid>/uid_map, the host's /proc/self/mountinfo.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { AS_NOBODY, nobodyPackage, sanitizerEnv } from '../adversarial/support/nobody';
import { needTools } from '../adversarial/support/process-tools';
import { cgroup2Root } from '../helpers/cgroup';
import { useInvariants } from '../helpers/invariants';
import { expectChildOk, runNodeChild } from '../helpers/node-child';
import { describeRoot } from '../helpers/root';
import { makeTmpDir } from '../helpers/tmp';
import { commandRejection as caught } from '../helpers/rejection';

useInvariants();

const idMap = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));

describe('namespace arguments and misuse', () => {
  it('setUidMappings/setGidMappings/setMountPropagation check their arguments at once', () => {
    const c = new Command('/bin/true');
    expect(() => c.setUidMappings([])).toThrow(RangeError);
    expect(() => c.setUidMappings({} as never)).toThrow(/Command.setUidMappings: argument 'mappings' must be an array/);
    expect(() => c.setGidMappings([{ inside: 0, outside: -1, count: 1 }])).toThrow(/argument 'mappings\[0\].outside'/);
    expect(() => c.setUidMappings([{ inside: 0, outside: 0, count: 0 }])).toThrow(RangeError);
    expect(() =>
      c.setUidMappings([
        { inside: 0, outside: 0, count: 10 },
        { inside: 5, outside: 100, count: 1 },
      ]),
    ).toThrow(/mappings\[1\]' overlaps mappings\[0\] inside/);
    expect(() => c.setMountPropagation('rshared' as never)).toThrow(RangeError);
  });

  it('combinations that cannot work are refused by the run, before any child', async () => {
    const cases: [Command, RegExp][] = [
      [new Command('/bin/true').setUidMappings([{ inside: 0, outside: 0, count: 1 }]), /need unshare\(\['user'\]\)/],
      [new Command('/bin/true').unshare(['pid']).daemonize(), /daemonized command cannot use a new pid namespace/],
      [
        new Command('/bin/true').unshare(['pid']).setPreExecHook({ library: '/nonexistent.so', symbol: 'f' }),
        /pre-exec hook cannot be combined with a new pid namespace/,
      ],
    ];
    for (const [cmd, message] of cases) {
      const err = await caught(cmd.run());
      expect(err.code).toBe('ERR_COMMAND_USAGE');
      expect(err.message).toMatch(message);
    }
    expect(() => new Command('/bin/true').unshare(['user', 'pid']).exec()).toThrow(/exec\(\) cannot use a new pid namespace/);
  });
});

describeRoot('namespaces made at clone (root)', () => {
  it("unshare(['pid']): the program is pid 1 of the new namespace, and a shell in it can fork", async () => {
    // Before: the child unshared, so the program stayed outside and its first child became
    // pid 1; sh then failed with "Cannot fork".
    const r = await new Command('/bin/sh', '-c', 'echo $$; /bin/sh -c "echo forked"').unshare(['pid']).run();
    expect(r.stdout).toBe('1\nforked\n');
  });

  it("remountProc(): /proc shows only the namespace's processes; the host's /proc is untouched", async () => {
    const r = await new Command('/bin/sh', '-c', 'ls /proc').unshare(['pid']).remountProc().run();
    const pids = String(r.stdout)
      .split('\n')
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
    expect(pids).toContain(1);
    expect(pids.length).toBeLessThanOrEqual(3); // sh, ls (and nothing of the host)
    expect(fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length).toBeGreaterThan(3);
    expect(fs.readlinkSync('/proc/self')).toBe(String(process.pid));
  });

  it('a pid-1 program with a parent-death signal runs (getppid() is 0 in a new pid namespace)', async () => {
    const r = await new Command('/bin/sh', '-c', 'echo ok').unshare(['pid']).setParentDeathSignal('SIGTERM').run();
    expect(r.stdout).toBe('ok\n');
  });

  it('a handshake works in a new pid namespace (own-memory clone)', async () => {
    const cmd = new Command('/bin/sh', '-c', 'echo $$').unshare(['pid']).requireHandshake().setOutputBuffer();
    cmd.runAsync();
    await cmd.handshakeWait();
    cmd.handshakeNotify();
    expect((await cmd.wait()).stdout).toBe('1\n');
  });

  it('abort() ends a pid-1 program, which ignores SIGTERM without a handler (SIGKILL after the grace)', async () => {
    const cmd = new Command('sleep', '30').unshare(['pid']);
    cmd.runAsync();
    await cmd.abort();
    expect(cmd.pid).toBeNull();
  });

  it('setUidMappings/setGidMappings: written before the program runs, seen in /proc/<pid>/uid_map', async () => {
    const cmd = new Command('/bin/sh', '-c', 'id -u; id -g; read x')
      .unshare(['user'])
      .setUidMappings([
        { inside: 0, outside: 0, count: 1 },
        { inside: 1, outside: 200000, count: 1000 },
      ])
      .setGidMappings([
        { inside: 0, outside: 0, count: 1 },
        { inside: 1, outside: 300000, count: 10 },
      ])
      .setInputBuffer('go\n');
    const pid = cmd.runAsync();
    try {
      expect(idMap(fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8'))).toEqual([
        [0, 0, 1],
        [1, 200000, 1000],
      ]);
      expect(idMap(fs.readFileSync(`/proc/${pid}/gid_map`, 'utf8'))).toEqual([
        [0, 0, 1],
        [1, 300000, 10],
      ]);
      // A privileged parent may map groups with setgroups allowed: it stays so.
      expect(fs.readFileSync(`/proc/${pid}/setgroups`, 'utf8').trim()).toBe('allow');
    } finally {
      await cmd.wait();
    }
  });

  it('uid 0 inside, full capabilities inside, in new pid, net, uts, ipc and mnt namespaces at once', async () => {
    const r = await new Command('/bin/sh', '-c', 'echo $$; id -u; grep CapEff /proc/self/status; hostname x && hostname')
      .unshare(['user', 'pid', 'net', 'uts', 'ipc', 'mnt'])
      .setUidMappings([{ inside: 0, outside: 0, count: 1 }])
      .setGidMappings([{ inside: 0, outside: 0, count: 1 }])
      .run();
    const [pid, uid, capEff, hostname] = String(r.stdout).trim().split('\n');
    expect(pid).toBe('1');
    expect(uid).toBe('0');
    const lastCap = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    expect(BigInt(`0x${capEff.split(/\s+/)[1]}`)).toBe((1n << BigInt(lastCap + 1)) - 1n);
    expect(hostname).toBe('x');
  });

  // A shared mount point of our own (the host's / may or may not be shared): a bind mount of a
  // temp dir on itself, made shared. A tmpfs mounted inside the child's mount namespace appears
  // there on the host only if the child's mounts kept shared propagation.
  function withSharedMount(fn: (dir: string) => Promise<void>): Promise<void> {
    const dir = makeTmpDir('vc-ns-shared-');
    fs.mkdirSync(path.join(dir, 'sub'));
    execFileSync('mount', ['--bind', dir, dir]);
    execFileSync('mount', ['--make-shared', dir]);
    const cleanup = () => spawnSync('umount', ['-R', '-l', dir]);
    return fn(dir).finally(cleanup);
  }
  const mountedOnHost = (p: string) =>
    fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((l) => l.split(' ')[4] === p);

  it("unshare(['mnt']) makes every mount private: a mount made inside does not reach the host", async () => {
    await withSharedMount(async (dir) => {
      const sub = path.join(dir, 'sub');
      const r = await new Command('/bin/sh', '-c', `mount -t tmpfs vc-ns-test ${sub} && grep -c ' ${sub} ' /proc/self/mountinfo`).unshare(['mnt']).run();
      expect(r.stdout).toBe('1\n'); // mounted inside
      expect(mountedOnHost(sub)).toBe(false);
    });
  });

  it("setMountPropagation('unchanged') keeps the inherited shared propagation: the mount reaches the host", async () => {
    await withSharedMount(async (dir) => {
      const sub = path.join(dir, 'sub');
      await new Command('/bin/sh', '-c', `mount -t tmpfs vc-ns-test ${sub}`).unshare(['mnt']).setMountPropagation('unchanged').run();
      expect(mountedOnHost(sub)).toBe(true);
    });
  });

  it('mounts stay private on the unshare() path too (a daemon unshares in the child)', async () => {
    await withSharedMount(async (dir) => {
      const sub = path.join(dir, 'sub');
      const marker = path.join(dir, 'done');
      await new Command('/bin/sh', '-c', `mount -t tmpfs vc-ns-test ${sub}; touch ${marker}`).unshare(['mnt']).daemonize().run();
      for (let i = 0; i < 200 && !fs.existsSync(marker); i++) await new Promise((r) => setTimeout(r, 10));
      expect(fs.existsSync(marker)).toBe(true);
      expect(mountedOnHost(sub)).toBe(false);
    });
  });
});

describeRoot('joinCgroup() with clone3(CLONE_INTO_CGROUP) (root)', () => {
  it('the child is born in the cgroup: clone3 with CLONE_INTO_CGROUP, no write to cgroup.procs; the cgroup namespace is rooted there', (ctx) => {
    needTools(ctx, 'CLONE_INTO_CGROUP', 'strace');
    const found = cgroup2Root();
    if ('reason' in found) {
      console.warn(`[skip] CLONE_INTO_CGROUP: ${found.reason}`);
      ctx.skip();
      return;
    }
    if (process.arch !== 'x64') {
      console.warn(`[skip] CLONE_INTO_CGROUP: vircommand's clone3 entry is x86-64 only (here ${process.arch}: cgroup.procs is written)`);
      ctx.skip();
      return;
    }
    const rel = `vc-ns-cg-${process.pid}-${Date.now()}`;
    const dir = path.join(found.root, rel);
    fs.mkdirSync(dir);
    const log = path.join(makeTmpDir('vc-ns-strace-'), 'clone3.strace');
    try {
      const out = expectChildOk(
        runNodeChild(
          `
        const line = (t) => t.split('\\n').find((l) => l.startsWith('0::'));
        const a = await new vc.Command('cat', '/proc/self/cgroup').joinCgroup(ARGS.dir).run();
        const b = await new vc.Command('cat', '/proc/self/cgroup').joinCgroup(ARGS.dir).unshare(['cgroup', 'pid']).run();
        emit({ plain: line(String(a.stdout)), ns: line(String(b.stdout)) });
      `,
          { args: { dir }, prefix: ['strace', '-f', '-qq', '-o', log, '-e', 'trace=clone,clone3,openat'], timeoutMs: 60000 },
        ),
      ) as { plain: string; ns: string };
      expect(out.plain).toBe(`0::/${rel}`);
      expect(out.ns).toBe('0::/'); // the joined group is the new cgroup namespace's root
      const text = fs.readFileSync(log, 'utf8');
      // Each call once, by its flags: when another thread's syscall comes in between, strace splits
      // the call into a '<unfinished ...>' line (with the flags) and a '<... clone3 resumed>' line.
      expect(text.match(/clone3\(\{flags=[^}]*CLONE_INTO_CGROUP.*(?:\) = \d+|<unfinished \.\.\.>)$/gm)?.length).toBe(2);
      expect(text).not.toMatch(/cgroup\.procs/);
    } finally {
      fs.rmdirSync(dir);
    }
  });
});

/** Why a process as nobody cannot make a user namespace here, or null. */
function unprivilegedUserns(): string | null {
  const r = spawnSync(AS_NOBODY[0], [...AS_NOBODY.slice(1), 'unshare', '--user', 'true'], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const sysctl = (p: string) => (fs.existsSync(p) ? `${path.basename(p)}=${fs.readFileSync(p, 'utf8').trim()}` : null);
  const knobs = ['/proc/sys/user/max_user_namespaces', '/proc/sys/kernel/unprivileged_userns_clone', '/proc/sys/kernel/apparmor_restrict_unprivileged_userns']
    .map(sysctl)
    .filter(Boolean)
    .join(', ');
  return `unprivileged user namespaces are disabled here (${knobs}): ${(r.stderr || '').trim()}`;
}

const NOBODY_SCRIPT = `'use strict';
const fs = require('fs');
const { Command } = require(process.argv[2]);
const fds = () => fs.readdirSync('/proc/self/fd').length;
const children = () => fs.readFileSync('/proc/self/task/' + process.pid + '/children', 'utf8').trim();
(async () => {
  const out = { fdsBefore: fds() };
  const me = process.getuid(), myGid = process.getgid();
  const r = await new Command('/bin/sh', '-c', 'id -u; id -g; grep CapEff /proc/self/status; cat /proc/self/setgroups; echo $$')
    .unshare(['user', 'pid'])
    .setUidMappings([{ inside: 0, outside: me, count: 1 }]).setGidMappings([{ inside: 0, outside: myGid, count: 1 }])
    .run();
  out.root = String(r.stdout).trim().split('\\n');
  try {
    // Not ours to map: newuidmap (or, without it, vircommand) refuses, the child is killed and reaped.
    await new Command('/bin/true').unshare(['user']).setUidMappings([{ inside: 0, outside: 0, count: 1 }]).run();
    out.refused = null;
  } catch (e) {
    out.refused = { stage: e.stage, code: e.code, path: e.path, exitStatus: e.exitStatus };
  }
  try {
    new Command('/bin/true').unshare(['pid']).runSync();
    out.noUserns = null;
  } catch (e) {
    out.noUserns = { stage: e.stage, code: e.code };
  }
  out.fdsAfter = fds();
  out.children = children();
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { process.stderr.write(String(e && e.stack)); process.exit(1); });
`;

describeRoot('a caller without privileges (as nobody)', () => {
  it('becomes root in its own user namespace; a refused map fails at idmap with the path; nothing leaks', (ctx) => {
    const pkg = nobodyPackage();
    if ('reason' in pkg) {
      console.warn(`[skip] nobody: ${pkg.reason}`);
      ctx.skip();
      return;
    }
    const why = unprivilegedUserns();
    if (why !== null) {
      console.warn(`[skip] nobody in a user namespace: ${why}`);
      ctx.skip();
      return;
    }
    const dir = makeTmpDir('vc-ns-nobody-');
    const script = path.join(dir, 'script.js');
    fs.writeFileSync(script, NOBODY_SCRIPT);
    execFileSync('chmod', ['-R', 'a+rX', dir]);
    // A plain environment: the copy holds the addon under test at build/Release, so the prebuilt
    // pass's PREBUILDS_ONLY must not reach it; an ASan pass's preload must.
    const env = { PATH: '/usr/bin:/bin', ...sanitizerEnv() };
    const r = spawnSync(AS_NOBODY[0], [...AS_NOBODY.slice(1), process.execPath, script, pkg.entry], { encoding: 'utf8', cwd: dir, env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    const lastCap = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    expect(out.root.slice(0, 2)).toEqual(['0', '0']);
    expect(BigInt(`0x${out.root[2].split(/\s+/)[1]}`)).toBe((1n << BigInt(lastCap + 1)) - 1n);
    expect(out.root[3]).toBe('deny'); // written for us: a gid map without CAP_SETGID needs it
    expect(out.root[4]).toBe('1');
    // Another id than our own goes through the setuid helper newuidmap, which refuses it (no
    // /etc/subuid range for nobody); without the helper the run says it is missing.
    if (fs.existsSync('/usr/bin/newuidmap')) expect(out.refused).toMatchObject({ stage: 'idmap', code: 'EPERM', exitStatus: null, path: '/usr/bin/newuidmap' });
    else expect(out.refused).toMatchObject({ stage: 'idmap', code: 'ENOENT', exitStatus: null, path: 'newuidmap' });
    expect(out.noUserns).toEqual({ stage: 'unshare', code: 'EPERM' });
    expect(out.fdsAfter).toBe(out.fdsBefore);
    expect(out.children).toBe('');
  });
});
