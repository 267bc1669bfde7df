/**
 * A container's identity: setUser() (uid, primary gid and supplementary groups of a user of
 * the system, looked up at run time), setHostname()/setDomainname() in a new uts namespace,
 * setSeccompFilter() (a classic BPF program installed last before execve), and the ids a
 * program runs as in a new user namespace with range maps. Observed from the real child: the
 * output of id(1), uname(1), /proc/sys/kernel/domainname, mkdir(1), and files it creates.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { commandRejection as caught } from '../helpers/rejection';
import { describeRoot, isRoot } from '../helpers/root';
import { denySyscalls, insn, seccompUnsupported } from '../helpers/seccomp';
import { makeTmpDir } from '../helpers/tmp';

useInvariants();

const EACCES = os.constants.errno.EACCES;
const ids = async (cmd: Command) => {
  const r = await cmd.run();
  const [uid, gid, groups] = String(r.stdout).trim().split('\n');
  return {
    uid: Number(uid),
    gid: Number(gid),
    groups: groups
      .split(' ')
      .map(Number)
      .sort((a, b) => a - b),
  };
};
const idCommand = () => new Command('/bin/sh', '-c', 'id -u; id -g; id -G');

describe('argument checks at the call', () => {
  it('setUser takes a non-empty name or a uid', () => {
    const c = new Command('/bin/true');
    expect(() => c.setUser('')).toThrow(/Command.setUser: argument 'nameOrUid' must not be empty/);
    expect(() => c.setUser('a\0b')).toThrow(TypeError);
    expect(() => c.setUser(-1)).toThrow(RangeError);
    expect(() => c.setUser(2 ** 32 - 1)).toThrow(RangeError);
    expect(() => c.setUser({} as never)).toThrow(/argument 'nameOrUid' must be a user name or a uid/);
    expect(c.setUser('nobody').getUser()).toBe('nobody');
  });

  it('setHostname/setDomainname take at most 64 bytes without NUL', () => {
    const c = new Command('/bin/true');
    expect(() => c.setHostname('x'.repeat(65))).toThrow(RangeError);
    expect(() => c.setHostname('é'.repeat(33))).toThrow(/Command.setHostname: argument 'name' length must be at most 64 bytes/);
    expect(() => c.setDomainname('a\0')).toThrow(TypeError);
    expect(() => c.setHostname(5 as never)).toThrow(TypeError);
    expect(() => c.setHostname('x'.repeat(64)).setDomainname('')).not.toThrow();
  });

  it('setSeccompFilter takes 1 to 4096 instructions of 8 bytes in a Uint8Array', () => {
    const c = new Command('/bin/true');
    expect(() => c.setSeccompFilter([1, 2] as never)).toThrow(/Command.setSeccompFilter: argument 'program' must be a Uint8Array/);
    expect(() => c.setSeccompFilter(new Uint8Array(12))).toThrow(/must be a multiple of 8/);
    expect(() => c.setSeccompFilter(new Uint8Array(0))).toThrow(RangeError);
    expect(() => c.setSeccompFilter(new Uint8Array(4097 * 8))).toThrow(RangeError);
    expect(() => c.setSeccompFilter(new Uint8Array(4096 * 8))).not.toThrow();
  });

  it('a host or domain name without a new uts namespace is a misuse, refused before any child', async () => {
    const err = await caught(new Command('/bin/true').setHostname('box').run());
    expect(err.code).toBe('ERR_COMMAND_USAGE');
    expect(err.message).toMatch(/setHostname\(\) needs a new uts namespace: unshare\(\['uts'\]\)/);
    const dom = await caught(new Command('/bin/true').setDomainname('d').run());
    expect(dom.message).toMatch(/setDomainname\(\) needs a new uts namespace/);
    expect(os.hostname()).not.toBe('box');
  });
});

describe('setUser()', () => {
  it('an unknown user fails the run at stage setuid, before any child', async () => {
    const err = await caught(new Command('/bin/true').setUser('vc-no-such-user-x').run());
    expect(err).toMatchObject({ stage: 'setuid', code: 'ERR_UNKNOWN_USER', pid: null });
    expect(err.message).toBe("Child process (/bin/true) failed at stage 'setuid': no such user 'vc-no-such-user-x' in the user database");
    expect(() => new Command('/bin/true').setUser('vc-no-such-user-x').runSync()).toThrow(/no such user/);
  });

  it("the caller's own user: its uid and primary gid (works without privileges)", async () => {
    const me = os.userInfo();
    const r = await ids(idCommand().setUser(me.username));
    expect(r.uid).toBe(me.uid);
    expect(r.gid).toBe(me.gid);
  });
});

describeRoot('setUser() (root)', () => {
  const suffix = `${process.pid}`;
  const user = `vc-su-${suffix}`;
  const groups = [`vc-sg1-${suffix}`, `vc-sg2-${suffix}`];
  let made = false;

  beforeAll(() => {
    // A throwaway user in two supplementary groups (no home, no mail spool), removed below.
    for (const g of groups) execFileSync('groupadd', [g]);
    execFileSync('useradd', ['-M', '-N', '-g', 'nogroup', '-G', groups.join(','), '-s', '/usr/sbin/nologin', user]);
    made = true;
  });
  afterAll(() => {
    if (made) spawnSync('userdel', [user]);
    for (const g of groups) spawnSync('groupdel', [g]);
  });

  const gidOf = (g: string) => Number(execFileSync('getent', ['group', g], { encoding: 'utf8' }).split(':')[2]);
  const uidOf = (u: string) => Number(execFileSync('id', ['-u', u], { encoding: 'utf8' }).trim());

  it("nobody: uid, gid and groups 65534 (setUID alone stays in root's group 0)", async () => {
    expect(await ids(idCommand().setUser('nobody'))).toEqual({ uid: 65534, gid: 65534, groups: [65534] });
    // libvirt's setUID() is kept as it is: the gid and groups are the parent's.
    const alone = await ids(idCommand().setUID(65534));
    expect(alone.uid).toBe(65534);
    expect(alone.gid).toBe(0);
  });

  it('a user in supplementary groups gets them all, as initgroups(3) lists them; by name or by uid', async () => {
    const want = { uid: uidOf(user), gid: 65534, groups: [...groups.map(gidOf), 65534].sort((a, b) => a - b) };
    expect(await ids(idCommand().setUser(user))).toEqual(want);
    expect(await ids(idCommand().setUser(want.uid))).toEqual(want);
  });

  it('is looked up at each run: a user deleted after setUser() fails the next run', async () => {
    const late = `vc-su2-${suffix}`;
    execFileSync('useradd', ['-M', '-N', '-g', 'nogroup', '-s', '/usr/sbin/nologin', late]);
    const cmd = idCommand().setUser(late);
    try {
      expect((await ids(cmd)).uid).toBe(uidOf(late));
    } finally {
      execFileSync('userdel', [late]);
    }
    expect((await caught(cmd.run())).code).toBe('ERR_UNKNOWN_USER');
  });

  it('a later setGID() picks the primary group; a later setUID() replaces the user; setGroups() replaces the groups', async () => {
    const g = gidOf(groups[0]);
    const r = await ids(idCommand().setUser(user).setGID(g));
    expect(r.gid).toBe(g);
    expect(r.groups).toContain(gidOf(groups[1]));
    const replaced = await ids(idCommand().setUser(user).setUID(65534));
    expect(replaced).toMatchObject({ uid: 65534, gid: 0 });
    expect(await ids(idCommand().setUser('nobody').setGroups([]))).toEqual({ uid: 65534, gid: 65534, groups: [65534] });
  });
});

describe('setHostname() in a user namespace of its own (also without privileges)', () => {
  it('the caller mapped to root in new user and uts namespaces sets the host name', async (ctx) => {
    const probe = spawnSync('unshare', ['--user', '--uts', 'true'], { encoding: 'utf8' });
    if (probe.status !== 0) return ctx.skip(`this caller cannot make user namespaces here: ${probe.stderr.trim() || probe.error?.message}`);
    const r = await new Command('/bin/sh', '-c', 'uname -n; id -u')
      .unshare(['user', 'uts'])
      .setUidMappings([{ inside: 0, outside: process.getuid!(), count: 1 }])
      .setHostname('vc-userns')
      .run();
    expect(r.stdout).toBe('vc-userns\n0\n');
  });
});

describeRoot('setHostname() and setDomainname() (root)', () => {
  it('the program sees both names in its new uts namespace; the host keeps its own', async () => {
    const before = os.hostname();
    const domainBefore = fs.readFileSync('/proc/sys/kernel/domainname', 'utf8');
    const r = await new Command('/bin/sh', '-c', 'uname -n; hostname; cat /proc/sys/kernel/domainname')
      .unshare(['uts'])
      .setHostname('vc-box')
      .setDomainname('vc.example')
      .run();
    expect(r.stdout).toBe('vc-box\nvc-box\nvc.example\n');
    expect(os.hostname()).toBe(before);
    expect(fs.readFileSync('/proc/sys/kernel/domainname', 'utf8')).toBe(domainBefore);
  });

  it('a 64-byte name fits; the names are set while still privileged (before setUser)', async () => {
    const name = 'h'.repeat(64);
    const r = await new Command('uname', '-n').unshare(['uts']).setHostname(name).setUser('nobody').run();
    expect(r.stdout).toBe(`${name}\n`);
  });
});

describe('setSeccompFilter()', () => {
  const skip = seccompUnsupported();
  const deny = (names: string[]) => denySyscalls(names, EACCES);

  it('denies mkdir with EACCES for the program; allows everything else', async (ctx) => {
    if (skip) return ctx.skip(skip);
    const dir = makeTmpDir('vc-seccomp-');
    const r = await new Command('/bin/sh', '-c', `mkdir ${dir}/a; echo rc=$?`)
      .setNoNewPrivs()
      .setSeccompFilter(deny(['mkdir', 'mkdirat']))
      .run();
    expect(r.stdout).toBe('rc=1\n');
    expect(r.stderr).toMatch(/Permission denied/);
    expect(fs.existsSync(path.join(dir, 'a'))).toBe(false);
    await new Command('mkdir', `${dir}/b`).run();
    expect(fs.existsSync(path.join(dir, 'b'))).toBe(true);
  });

  it("the program is copied at the call: changing the caller's array afterwards changes nothing", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const program = deny(['mkdir', 'mkdirat']);
    const cmd = new Command('/bin/sh', '-c', `mkdir ${makeTmpDir('vc-seccomp-copy-')}/a 2>/dev/null; echo rc=$?`).setNoNewPrivs().setSeccompFilter(program);
    program.fill(0xff); // no longer a valid program: the kernel would refuse it (EINVAL)
    expect((await cmd.run()).stdout).toBe('rc=1\n');
  });

  it('a program the kernel refuses fails at stage seccomp with EINVAL', async () => {
    // One instruction that is not a return: the kernel's checker refuses it.
    const err = await caught(
      new Command('/bin/true')
        .setNoNewPrivs()
        .setSeccompFilter(insn(0x20, 0, 0, 0))
        .run(),
    );
    expect(err).toMatchObject({ stage: 'seccomp', code: 'EINVAL', exitStatus: 125 });
    expect(err.message).toBe("Child process (/bin/true) failed at stage 'seccomp': EINVAL (Invalid argument)");
  });

  it('without no_new_privs and without CAP_SYS_ADMIN the kernel refuses it: stage seccomp, EACCES', async (ctx) => {
    if (skip) return ctx.skip(skip);
    // As root, clearCaps() drops CAP_SYS_ADMIN; as another user it is not held anyway.
    const err = await caught(
      new Command('/bin/true')
        .clearCaps()
        .setSeccompFilter(deny(['mkdirat']))
        .run(),
    );
    expect(err).toMatchObject({ stage: 'seccomp', code: 'EACCES' });
    if (isRoot) {
      // With CAP_SYS_ADMIN, no_new_privs is not needed.
      const r = await new Command('/bin/sh', '-c', `mkdir ${makeTmpDir('vc-seccomp-root-')}/a 2>/dev/null; echo rc=$?`)
        .setSeccompFilter(deny(['mkdir', 'mkdirat']))
        .run();
      expect(r.stdout).toBe('rc=1\n');
    }
  });
});

describeRoot('range maps without setUID (root)', () => {
  const range = [{ inside: 0, outside: 200000, count: 65536 }];

  it('inside 0 mapped in both maps: the program is root inside, and its files belong to the mapped root outside', async () => {
    const dir = makeTmpDir('vc-maproot-');
    fs.chmodSync(dir, 0o777);
    const r = await new Command('/bin/sh', '-c', `id -u; id -g; id -G; touch ${dir}/f`).unshare(['user']).setUidMappings(range).setGidMappings(range).run();
    expect(r.stdout).toBe('0\n0\n0\n');
    const st = fs.statSync(path.join(dir, 'f'));
    expect([st.uid, st.gid]).toEqual([200000, 200000]);
  });

  it('setUID()/setGID() still choose the ids inside', async () => {
    const r = await new Command('/bin/sh', '-c', 'id -u; id -g').unshare(['user']).setUidMappings(range).setGidMappings(range).setUID(1000).setGID(1000).run();
    expect(r.stdout).toBe('1000\n1000\n');
  });

  it("a uid map alone (no gid map) leaves root's ids unmapped: the overflow id 65534, as the kernel shows them", async () => {
    const r = await new Command('/bin/sh', '-c', 'id -u; id -g').unshare(['user']).setUidMappings(range).run();
    expect(r.stdout).toBe('65534\n65534\n');
  });
});
