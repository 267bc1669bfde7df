/**
 * The declarative pre-exec steps, each observed from the
 * child (the helper's report) or from outside (/proc/<pid>):
 * setsid, setpgid, setNoNewPrivs, setParentDeathSignal (including the death
 * of a sacrificial parent), joinNamespace (setns with an fd of another
 * process's netns), unshare, joinCgroup (cgroup v2), chroot and setNice.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { Command } from '../../src/index';
import { killChildProcesses, killPids } from '../helpers/daemon';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { PACKAGE_ENTRY, TS_REGISTER } from '../helpers/node-child';
import { isAlive, procStat, waitFor } from '../helpers/proc';
import { fdNumbers, parseReport, type HelperReport } from '../helpers/report';
import { describeRoot } from '../helpers/root';
import { useTmpDir } from '../helpers/tmp';
import { cgroup2Root } from '../helpers/cgroup';

useInvariants();
const tmp = useTmpDir('vc-pre-');

// Processes started outside vircommand (unshare, the sacrificial node, orphans): killed after each test.
const outside: ChildProcess[] = [];
const strays = new Set<number>();
afterEach(async () => {
  await killPids(strays);
  await killChildProcesses(outside);
});

function helper(...extra: string[]): Command {
  return new Command(HELPER, '--log', '-', '--no-stdio', ...extra);
}

async function report(cmd: Command): Promise<HelperReport> {
  const r = await cmd.run();
  return parseReport(String(r.stdout));
}

const nsLink = (pid: number | 'self', ns: string) => fs.readlinkSync(`/proc/${pid}/ns/${ns}`);

function helperIsStatic(): boolean {
  try {
    return inject('vcHelperStatic');
  } catch {
    return process.env.VC_HELPER_STATIC === '1';
  }
}

/** The "0::/path" line of a /proc/<pid>/cgroup text. */
const v2Line = (text: string) => text.split('\n').find((l) => l.startsWith('0::'));

describe('process group and session', () => {
  it('setsid(): the child leads a new session and process group', async () => {
    const r = await report(helper().setsid());
    expect(r.sid).toBe(r.pid);
    expect(r.pgid).toBe(r.pid);
    expect(r.sid).not.toBe(procStat('self')!.session);
  });

  it('setpgid(0) makes a new group in our session; setpgid(pgid) joins an existing group', async () => {
    const r = await report(helper().setpgid(0));
    expect(r.pgid).toBe(r.pid);
    expect(r.sid).toBe(procStat('self')!.session);

    const leader = new Command('sleep', '30').setpgid(0);
    const leaderPid = leader.runAsync();
    try {
      expect(procStat(leaderPid)!.pgrp).toBe(leaderPid);
      const joined = await report(helper().setpgid(leaderPid));
      expect(joined.pgid).toBe(leaderPid);
    } finally {
      await leader.abort();
    }
  });
});

describe('privilege and lifetime steps', () => {
  it('setNoNewPrivs(): NoNewPrivs is 1 in the child (0 without it)', async () => {
    expect((await report(helper())).noNewPrivs).toBe(false);
    expect((await report(helper().setNoNewPrivs())).noNewPrivs).toBe(true);
  });

  it('setParentDeathSignal(): the child has the signal set (0 without it)', async () => {
    expect((await report(helper())).pdeathSig).toBe(0);
    expect((await report(helper().setParentDeathSignal(15))).pdeathSig).toBe(15);
  });

  it('killing the parent (a sacrificial node process) kills the child with the death signal', async () => {
    const script = `
      const vc = require(process.env.VC_TEST_ENTRY);
      const a = new vc.Command('sleep', '30').setParentDeathSignal(9);
      const b = new vc.Command('sleep', '31');
      const pids = { withSignal: a.runAsync(), without: b.runAsync() };
      process.stdout.write(JSON.stringify(pids) + '\\n');
      setInterval(() => {}, 1000);
    `;
    const node = spawn(process.execPath, ['-r', TS_REGISTER, '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: '/usr/bin:/bin', VC_TEST_ENTRY: PACKAGE_ENTRY },
    });
    outside.push(node);
    let stderr = '';
    node.stderr.on('data', (d) => (stderr += d));
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      node.stdout.on('data', (d) => {
        buf += d;
        if (buf.includes('\n')) resolve(buf.slice(0, buf.indexOf('\n')));
      });
      node.once('exit', () => reject(new Error(`sacrificial node exited early: ${stderr}`)));
    });
    const pids = JSON.parse(line) as { withSignal: number; without: number };
    strays.add(pids.withSignal).add(pids.without);
    expect(isAlive(pids.withSignal)).toBe(true);
    expect(procStat(pids.withSignal)!.ppid).toBe(node.pid);

    node.kill('SIGKILL');
    await new Promise((resolve) => node.once('exit', resolve));
    expect(await waitFor(() => !isAlive(pids.withSignal), 2000), 'the child outlived its parent').toBe(true);
    // Control: the sibling without a death signal is still running.
    expect(isAlive(pids.without)).toBe(true);
  });

  it('setNice(7): the child runs at nice 7', async () => {
    expect((await report(helper().setNice(7))).nice).toBe(7);
  });
});

describeRoot('namespaces, cgroups, chroot (root)', () => {
  it('the death signal survives the uid change', async () => {
    const r = await report(helper().setUID(65534).setGID(65534).setParentDeathSignal(15));
    expect(r.uid.effective).toBe(65534);
    expect(r.pdeathSig).toBe(15);
  });

  it('setNice(-5) as root', async () => {
    expect((await report(helper().setNice(-5))).nice).toBe(-5);
  });

  it('joinNamespace(fd, "net") enters the netns of another process, and the fd does not leak', async () => {
    const other = spawn('unshare', ['-n', 'sleep', '30'], { stdio: 'ignore' });
    outside.push(other);
    const pid = other.pid!;
    const mine = nsLink('self', 'net');
    expect(await waitFor(() => procStat(pid)?.comm === 'sleep', 5000)).toBe(true);
    const target = nsLink(pid, 'net');
    expect(target).not.toBe(mine);

    const fd = fs.openSync(`/proc/${pid}/ns/net`, 'r');
    try {
      const r = await report(helper().joinNamespace(fd, 'net'));
      expect(r.ns.get('net')).toBe(target);
      expect(r.ns.get('mnt')).toBe(nsLink('self', 'mnt'));
      expect(fdNumbers(r)).toEqual([0, 1, 2]);
    } finally {
      fs.closeSync(fd);
    }
  });

  it("unshare(['net']) gives the child a new network namespace and nothing else", async () => {
    const r = await report(helper().unshare(['net']));
    expect(r.ns.get('net')).toMatch(/^net:\[\d+\]$/);
    expect(r.ns.get('net')).not.toBe(nsLink('self', 'net'));
    for (const ns of ['mnt', 'uts', 'ipc', 'pid']) expect(r.ns.get(ns)).toBe(nsLink('self', ns));
  });

  /** A fresh cgroup v2 group for one test, removed afterwards; null (test skipped) when impossible. */
  async function withCgroup(ctx: { skip: () => void }, fn: (dir: string, rel: string) => Promise<void>): Promise<void> {
    const found = cgroup2Root();
    if ('reason' in found) {
      console.warn(`[skip] joinCgroup: ${found.reason}`);
      ctx.skip();
      return;
    }
    const rel = `vc-test-${process.pid}-${Date.now()}`;
    const dir = path.join(found.root, rel);
    fs.mkdirSync(dir);
    try {
      await fn(dir, rel);
      // We stayed where we were.
      expect(v2Line(fs.readFileSync('/proc/self/cgroup', 'utf8'))).not.toBe(`0::/${rel}`);
    } finally {
      await waitFor(() => fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim() === '', 2000);
      fs.rmdirSync(dir);
    }
  }

  it('joinCgroup(path): the program starts in that cgroup v2 group', async (ctx) => {
    await withCgroup(ctx, async (dir, rel) => {
      const r = await new Command('cat', '/proc/self/cgroup').joinCgroup(dir).run();
      expect(v2Line(String(r.stdout))).toBe(`0::/${rel}`);
    });
  });

  it('joinCgroup(fd): a directory fd of the cgroup works too, as a path does', async (ctx) => {
    await withCgroup(ctx, async (dir, rel) => {
      const dirFd = fs.openSync(dir, 'r');
      try {
        const r = await new Command('cat', '/proc/self/cgroup').joinCgroup(dirFd).run();
        expect(v2Line(String(r.stdout))).toBe(`0::/${rel}`);
      } finally {
        fs.closeSync(dirFd);
      }
    });
  });

  it('chroot(dir): the program runs inside the new root', async (ctx) => {
    if (!helperIsStatic()) {
      console.warn('[skip] chroot: the helper is not statically linked, so it cannot run in an empty root');
      ctx.skip();
      return;
    }
    const root = tmp.path;
    fs.chmodSync(root, 0o755);
    fs.copyFileSync(HELPER, path.join(root, 'helper'));
    fs.chmodSync(path.join(root, 'helper'), 0o755);
    const marker = `/vc-chroot-${process.pid}`;
    const cmd = new Command('/helper', '--create', marker, '--sleep', '1000').chroot(root);
    const pid = cmd.runAsync();
    try {
      expect(fs.readlinkSync(`/proc/${pid}/root`)).toBe(root);
      expect(fs.readlinkSync(`/proc/${pid}/cwd`)).toBe(root); // chdir("/") inside the new root
    } finally {
      await cmd.wait();
    }
    expect(fs.existsSync(path.join(root, marker))).toBe(true);
    expect(fs.existsSync(marker)).toBe(false);
  });
});
