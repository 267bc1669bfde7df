/**
 * daemonize() and setPidFile(): libvirt's commandtest 4, 18
 * and 29 written fresh, and attacks on the pidfile and failures after it:
 * - run() resolves only once the pidfile holds the daemon's pid, locked;
 * - the daemon is a session leader with cwd "/", stdio /dev/null and only its
 *   lock fd beside 0-2, and outlives free();
 * - a second daemon on a locked pidfile, and a symlink at the pidfile path,
 *   are refused at stage 'pidfile' without touching the first one's file;
 * - a failure after the pidfile settles promptly and leaves nothing behind.
 * None of this needs root.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Command, PASS_FD_CLOSE_PARENT } from '../../src/index';
import { holdsLock, killPids, readPidFile } from '../helpers/daemon';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { isAlive, processesWith, procStat, waitFor } from '../helpers/proc';
import { fdNumbers, readReport } from '../helpers/report';
import { useTmpDir } from '../helpers/tmp';
import { commandRejection as rejection } from '../helpers/rejection';

useInvariants();
const tmp = useTmpDir('vc-daemon-');

// Daemons are not our children (they are reparented); kill whatever a test left.
const daemons = new Set<number>();
afterEach(async () => {
  await killPids(daemons);
});

/** The pid in a pidfile: decimal digits, with at most one trailing newline. */
const readPid = (file: string): number => readPidFile(file, { track: daemons, newline: 'optional' });

describe('daemonize and pidfile', () => {
  it('libvirt test4: the pidfile holds the locked pid of a session leader in "/" before run() returns', async () => {
    const log = path.join(tmp.path, 'report.log');
    const pidFile = path.join(tmp.path, 'daemon.pid');
    const r = await new Command(HELPER, '--check-daemonize', '--log', log, '--sleep', '1500').daemonize().setPidFile(pidFile).run();
    expect(r.exitStatus).toBe(0);
    // Read at once: no retry, the file must be complete now.
    const pid = readPid(pidFile);
    expect(isAlive(pid)).toBe(true);
    const st = procStat(pid)!;
    expect(st.ppid).not.toBe(process.pid);
    // The daemon is a session leader: its session and process group are its own pid.
    expect.soft(st.session, 'session of the daemon').toBe(pid);
    expect.soft(st.pgrp, 'process group of the daemon').toBe(pid);
    expect(st.ttyNr).toBe(0);
    expect(fs.readlinkSync(`/proc/${pid}/cwd`)).toBe('/');
    expect(holdsLock(pid, pidFile)).toBe(true);

    expect(await waitFor(() => !isAlive(pid), 5000)).toBe(true);
    const rep = readReport(log);
    expect(rep.pid).toBe(pid);
    expect(rep.daemon).toBe(true);
    expect(rep.cwd).toBe('/');
    expect.soft(rep.sid, 'SID reported by the daemon').toBe(pid);
    // 0-2 on /dev/null, plus exactly one more fd: the pidfile, still open for its lock.
    const fds = fdNumbers(rep);
    expect(fds.slice(0, 3)).toEqual([0, 1, 2]);
    for (const fd of [0, 1, 2]) expect(rep.fds.get(fd)).toBe('/dev/null');
    expect(fds).toHaveLength(4);
    expect(rep.fds.get(fds[3])).toBe(pidFile);
  });

  it("libvirt test18: run() returns promptly, and the daemon outlives free() and the parent's group", async () => {
    const pidFile = path.join(tmp.path, 'sleep.pid');
    const cmd = new Command('sleep', '100').daemonize().setPidFile(pidFile);
    const t0 = Date.now();
    await cmd.run();
    expect(Date.now() - t0).toBeLessThan(2000);
    const pid = readPid(pidFile);
    cmd.free();
    await new Promise((res) => setTimeout(res, 200));
    expect(isAlive(pid)).toBe(true);
    const me = procStat('self')!;
    const st = procStat(pid)!;
    expect(st.pgrp).not.toBe(me.pgrp);
    expect(st.session).not.toBe(me.session);
    process.kill(pid, 'SIGINT');
    expect(await waitFor(() => !isAlive(pid), 2000)).toBe(true);
  });

  it('runSync() with daemonize also returns with the pidfile written', () => {
    const pidFile = path.join(tmp.path, 'sync.pid');
    const r = new Command('sleep', '30').daemonize().setPidFile(pidFile).runSync();
    expect(r.exitStatus).toBe(0);
    const pid = readPid(pidFile);
    expect(isAlive(pid)).toBe(true);
    expect(holdsLock(pid, pidFile)).toBe(true);
  });

  it('libvirt test29: a daemon with an output pipe and a passed fd echoes them, then EOF', async () => {
    const data = Buffer.from(Array.from({ length: 10240 }, (_, i) => 97 + (i % 26)));
    const dataFile = path.join(tmp.path, 'send');
    fs.writeFileSync(dataFile, data);
    const sendFd = fs.openSync(dataFile, 'r');
    const log = path.join(tmp.path, 'report.log');
    const pidFile = path.join(tmp.path, 'daemon.pid');
    const out = { fd: -1 };
    await new Command(HELPER, '--close-stdin', '--check-daemonize', '--readfd', String(sendFd), '--log', log)
      .passFD(sendFd, PASS_FD_CLOSE_PARENT)
      .setOutputFD(out)
      .daemonize()
      .setPidFile(pidFile)
      .run();
    const pid = readPid(pidFile);
    expect(out.fd).toBeGreaterThan(2);

    const stream = fs.createReadStream('', { fd: out.fd, autoClose: true });
    const chunks: Buffer[] = [];
    const eof = new Promise<void>((resolve, reject) => {
      stream.on('data', (c) => chunks.push(c as Buffer));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    const timer = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no EOF on the output pipe within 5 s')), 5000));
    try {
      await Promise.race([eof, timer]);
    } finally {
      stream.destroy();
    }
    expect(Buffer.concat(chunks).toString('latin1')).toBe(`BEGIN STDOUT\n${data.toString('latin1')}END STDOUT\n`);

    expect(await waitFor(() => !isAlive(pid), 5000)).toBe(true);
    const rep = readReport(log);
    expect(rep.daemon).toBe(true);
    expect(rep.cwd).toBe('/');
    const fds = fdNumbers(rep);
    expect(fds).toHaveLength(5);
    expect(fds).toContain(sendFd);
    expect(rep.fds.get(sendFd)).toBe(dataFile);
    expect(rep.fds.get(1)).toMatch(/^pipe:/);
    const lockFd = fds.find((fd) => fd > 2 && fd !== sendFd)!;
    expect(rep.fds.get(lockFd)).toBe(pidFile);
  });
});

describe('daemonize() with setsid()', () => {
  it('accepts setsid() on a daemon: it leads its own session already, and the program runs', async () => {
    const pidFile = path.join(tmp.path, 'setsid.pid');
    const marker = path.join(tmp.path, 'ran');
    await new Command(HELPER, '--create', marker, '--sleep', '30000').daemonize().setsid().setPidFile(pidFile).run();
    const pid = readPid(pidFile);
    expect(await waitFor(() => fs.existsSync(marker), 2000)).toBe(true);
    const st = procStat(pid)!;
    expect({ session: st.session, pgrp: st.pgrp }).toEqual({ session: pid, pgrp: pid });
  });
});

describe('pidfile attacks and failures', () => {
  it("a second daemon on a locked pidfile fails cleanly and leaves the first one's file intact", async () => {
    const pidFile = path.join(tmp.path, 'one.pid');
    await new Command('sleep', '30').daemonize().setPidFile(pidFile).run();
    const first = readPid(pidFile);
    const ino = fs.statSync(pidFile).ino;
    const content = fs.readFileSync(pidFile, 'utf8');

    const marker = path.join(tmp.path, 'second-ran');
    const err = await rejection(new Command(HELPER, '--create', marker).daemonize().setPidFile(pidFile).run());
    expect(err.stage).toBe('pidfile');
    expect(err.code).toBe('EAGAIN');
    expect(err.value).toBe(first); // the holder of the lock
    expect(err.message).toContain(pidFile);

    expect(fs.existsSync(marker)).toBe(false);
    expect(fs.readFileSync(pidFile, 'utf8')).toBe(content);
    expect(fs.statSync(pidFile).ino).toBe(ino);
    expect(isAlive(first)).toBe(true);
    expect(holdsLock(first, pidFile)).toBe(true);
  });

  it('a symlink at the pidfile path is refused with ELOOP and its target is untouched', async () => {
    const victim = path.join(tmp.path, 'victim');
    fs.writeFileSync(victim, 'precious\n');
    const pidFile = path.join(tmp.path, 'link.pid');
    fs.symlinkSync(victim, pidFile);
    const marker = path.join(tmp.path, 'ran');
    const err = await rejection(new Command(HELPER, '--create', marker).daemonize().setPidFile(pidFile).run());
    expect(err.stage).toBe('pidfile');
    expect(err.code).toBe('ELOOP');
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(fs.lstatSync(pidFile).isSymbolicLink()).toBe(true);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('a stale, unlocked pidfile is taken over with exactly the new pid', async () => {
    const pidFile = path.join(tmp.path, 'stale.pid');
    fs.writeFileSync(pidFile, '4294967295\n');
    await new Command('sleep', '30').daemonize().setPidFile(pidFile).run();
    const pid = readPid(pidFile); // asserts the whole content is the pid
    expect(holdsLock(pid, pidFile)).toBe(true);
  });

  it('a failure after the pidfile (a bad rlimit) rejects within 1 s, removes the pidfile, leaves no daemon', async () => {
    const pidFile = path.join(tmp.path, 'fail.pid');
    const token = `vc-fail-after-pidfile-${process.pid}-${Date.now()}`;
    const t0 = Date.now();
    const err = await rejection(
      // NOFILE above /proc/sys/fs/nr_open: the kernel refuses it (EPERM), even for root (soft
      // above hard, the old way to fail here, is now refused by setRlimit before any fork).
      new Command(HELPER, '--sleep', '30000', token)
        .daemonize()
        .setPidFile(pidFile)
        .setMaxFiles(Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8')) + 1)
        .run(),
    );
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(err.stage).toBe('rlimit');
    expect(err.code).toBe('EPERM');
    expect(fs.existsSync(pidFile)).toBe(false);
    expect(await waitFor(() => processesWith(token).length === 0, 1000), `still running: ${processesWith(token)}`).toBe(true);
  });
});
