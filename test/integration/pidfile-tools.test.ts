/**
 * readPidFile() and killByPidFile(), against real daemons:
 * - a daemon holding its lock is read and signalled (SIGTERM, a wait, SIGKILL
 *   for one that ignores SIGTERM, the file removed);
 * - a daemon that closed its fds (the lock is gone) is never signalled;
 * - a stale pidfile naming a live process that holds no lock is never
 *   signalled, nor is one whose lock another process holds;
 * - malformed pidfiles are refused (EINVAL), a missing one is null/'missing',
 *   a symlink is not followed, a FIFO does not block.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Command, CommandError, killByPidFile, readPidFile } from '../../src/index';
import { holdsLock, killPids, readPidFile as readPidAsserted } from '../helpers/daemon';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { isAlive, sleep, waitFor } from '../helpers/proc';
import { useTmpDir } from '../helpers/tmp';

useInvariants();
const tmp = useTmpDir('vc-pidtools-');

const daemons = new Set<number>();
afterEach(async () => {
  await killPids(daemons);
});

/** Starts `argv` as a daemon with a pidfile; returns the pidfile and the daemon's pid. */
async function startDaemon(name: string, ...argv: string[]): Promise<{ pidFile: string; pid: number }> {
  const pidFile = path.join(tmp.path, name);
  await Command.newArgs(argv.length > 0 ? argv : [HELPER, '--no-stdio', '--sleep', '30000'])
    .daemonize()
    .setPidFile(pidFile)
    .run();
  return { pidFile, pid: readPidAsserted(pidFile, { track: daemons }) };
}

function refusal(fn: () => unknown): CommandError {
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'should have thrown').toBeInstanceOf(CommandError);
  return err as CommandError;
}

describe('a daemon holding its lock', () => {
  it('readPidFile() returns its pid, with or without { lock: true }', async () => {
    const { pidFile, pid } = await startDaemon('d.pid');
    expect(readPidFile(pidFile)).toBe(pid);
    expect(readPidFile(pidFile, { lock: true })).toBe(pid);
  });

  it('killByPidFile(): SIGTERM, waits for the exit, removes the file', async () => {
    const { pidFile, pid } = await startDaemon('d.pid');
    const r = await killByPidFile(pidFile, 'SIGTERM', { wait: 5000, remove: true });
    expect(r).toEqual({ outcome: 'signalled', pid, holder: pid, signals: ['SIGTERM'], exited: true, removed: true, trustedBy: 'lock' });
    expect(await waitFor(() => !isAlive(pid), 2000)).toBe(true);
    expect(fs.existsSync(pidFile)).toBe(false);
  });

  it('a daemon that ignores SIGTERM: { force: true } sends SIGKILL after the wait', async () => {
    const { pidFile, pid } = await startDaemon('stubborn.pid', '/bin/sh', '-c', 'trap "" TERM; exec sleep 30');
    expect(holdsLock(pid, pidFile)).toBe(true);
    const r = await killByPidFile(pidFile, 'SIGTERM', { wait: 300, force: true, remove: true });
    expect(r).toMatchObject({ outcome: 'signalled', pid, signals: ['SIGTERM', 'SIGKILL'], exited: true, removed: true });
    expect(await waitFor(() => !isAlive(pid), 2000)).toBe(true);
  });

  it('without a wait it returns at once, the process signalled but not yet known gone', async () => {
    const { pidFile, pid } = await startDaemon('d.pid');
    const r = await killByPidFile(pidFile, 15);
    expect(r).toMatchObject({ outcome: 'signalled', pid, signals: ['SIGTERM'], removed: false });
    expect(await waitFor(() => !isAlive(pid), 2000)).toBe(true);
  });
});

describe('no lock, no signal', () => {
  it('a daemon that closed all its fds (as dnsmasq does) lost the lock: refused, and it lives on', async () => {
    const { pidFile, pid } = await startDaemon('closer.pid', '/bin/sh', '-c', 'exec sleep 30 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-');
    expect(await waitFor(() => !holdsLock(pid, pidFile), 2000), 'the lock should be gone with the fd').toBe(true);
    expect(readPidFile(pidFile)).toBe(pid);
    expect(readPidFile(pidFile, { lock: true })).toBeNull();
    const r = await killByPidFile(pidFile, 'SIGKILL', { wait: 100, remove: true });
    expect(r).toEqual({ outcome: 'not-locked', pid, holder: null, signals: [], exited: false, removed: false, trustedBy: null });
    await sleep(100);
    expect(isAlive(pid)).toBe(true);
    expect(fs.existsSync(pidFile)).toBe(true);
  });

  it('a stale pidfile naming a live process that holds no lock: never signalled', async () => {
    const live = new Command(HELPER, '--no-stdio', '--sleep', '30000');
    const pid = live.runAsync();
    try {
      const pidFile = path.join(tmp.path, 'stale.pid');
      fs.writeFileSync(pidFile, `${pid}\n`);
      expect(readPidFile(pidFile, { lock: true })).toBeNull();
      const r = await killByPidFile(pidFile, 'SIGKILL');
      expect(r).toMatchObject({ outcome: 'not-locked', pid, signals: [] });
      await sleep(100);
      expect(isAlive(pid)).toBe(true);
    } finally {
      await live.abort();
    }
  });

  it('a pidfile naming one process while another holds its lock: refused, neither is signalled', async () => {
    const { pidFile, pid: holder } = await startDaemon('held.pid');
    const live = new Command(HELPER, '--no-stdio', '--sleep', '30000');
    const other = live.runAsync();
    try {
      fs.writeFileSync(pidFile, `${other}\n`); // same inode: the holder's lock stays
      expect(holdsLock(holder, pidFile)).toBe(true);
      const r = await killByPidFile(pidFile, 'SIGKILL');
      expect(r).toMatchObject({ outcome: 'locked-by-other', pid: other, holder, signals: [] });
      await sleep(100);
      expect(isAlive(other)).toBe(true);
      expect(isAlive(holder)).toBe(true);
    } finally {
      await live.abort();
    }
  });
});

describe("no lock, trusted by the program it runs ({ exe }: libvirt's virPidFileReadPathIfAlive)", () => {
  it('a daemon that dropped its lock is read and signalled when it runs the given program', async () => {
    const sleepBin = fs.realpathSync(execFileSync('/bin/sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim());
    const { pidFile, pid } = await startDaemon('exe.pid', '/bin/sh', '-c', 'exec sleep 30 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-');
    expect(await waitFor(() => !holdsLock(pid, pidFile), 2000), 'the lock should be gone with the fd').toBe(true);
    expect(readPidFile(pidFile, { exe: sleepBin })).toBe(pid);
    expect(readPidFile(pidFile, { exe: '/bin/sh' })).toBeNull();
    expect(readPidFile(pidFile, { exe: sleepBin, lock: true })).toBeNull();
    const wrong = await killByPidFile(pidFile, 'SIGKILL', { exe: '/bin/sh' });
    expect(wrong).toMatchObject({ outcome: 'other-program', pid, signals: [], trustedBy: null });
    expect(isAlive(pid)).toBe(true);
    const r = await killByPidFile(pidFile, 'SIGTERM', { exe: sleepBin, wait: 5000, remove: true });
    expect(r).toEqual({ outcome: 'signalled', pid, holder: null, signals: ['SIGTERM'], exited: true, removed: true, trustedBy: 'exe' });
    expect(fs.existsSync(pidFile)).toBe(false);
  });

  it('a stale file naming a live process of another program is never signalled', async () => {
    const live = new Command(HELPER, '--no-stdio', '--sleep', '30000');
    const pid = live.runAsync();
    try {
      const pidFile = path.join(tmp.path, 'stale-exe.pid');
      fs.writeFileSync(pidFile, `${pid}\n`);
      const r = await killByPidFile(pidFile, 'SIGKILL', { exe: '/usr/bin/env' });
      expect(r).toMatchObject({ outcome: 'other-program', pid, signals: [] });
      await sleep(100);
      expect(isAlive(pid)).toBe(true);
    } finally {
      await live.abort();
    }
  });

  it('exe must be an absolute path', async () => {
    expect(() => readPidFile('/x.pid', { exe: 'sleep' })).toThrow(/readPidFile: argument 'options.exe' must be an absolute path/);
    await expect(killByPidFile('/x.pid', 'SIGTERM', { exe: 'sleep' })).rejects.toThrow(RangeError);
  });
});

describe('stale pidfiles: removed when no live process stands behind them, and never the caller signalled', () => {
  /** The pid of a process that has exited and been reaped. */
  async function deadPid(): Promise<number> {
    const cmd = new Command(HELPER, '--no-stdio');
    const pid = cmd.runAsync();
    await cmd.wait();
    expect(isAlive(pid)).toBe(false);
    return pid;
  }

  it('nobody holds the lock and the pid is dead: { remove: true } removes the file, nothing is signalled', async () => {
    const pidFile = path.join(tmp.path, 'dead.pid');
    const pid = await deadPid();
    fs.writeFileSync(pidFile, `${pid}\n`);
    const r = await killByPidFile(pidFile, 'SIGTERM', { remove: true });
    expect(r).toEqual({ outcome: 'not-locked', pid, holder: null, signals: [], exited: true, removed: true, trustedBy: null });
    expect(fs.existsSync(pidFile)).toBe(false);
  });

  it('the same file without { remove }: left in place', async () => {
    const pidFile = path.join(tmp.path, 'dead-kept.pid');
    const pid = await deadPid();
    fs.writeFileSync(pidFile, `${pid}\n`);
    const r = await killByPidFile(pidFile, 'SIGTERM');
    expect(r).toMatchObject({ outcome: 'not-locked', pid, signals: [], exited: true, removed: false });
    expect(fs.readFileSync(pidFile, 'utf8')).toBe(`${pid}\n`);
  });

  it('a live process that holds no lock, no exe to check it by: the file stays, the process lives', async () => {
    const live = new Command(HELPER, '--no-stdio', '--sleep', '30000');
    const pid = live.runAsync();
    try {
      const pidFile = path.join(tmp.path, 'live-unlocked.pid');
      fs.writeFileSync(pidFile, `${pid}\n`);
      const r = await killByPidFile(pidFile, 'SIGKILL', { remove: true });
      expect(r).toEqual({ outcome: 'not-locked', pid, holder: null, signals: [], exited: false, removed: false, trustedBy: null });
      expect(fs.existsSync(pidFile)).toBe(true);
      await sleep(100);
      expect(isAlive(pid)).toBe(true);
    } finally {
      await live.abort();
    }
  });

  it('its pid now runs another program than { exe }: { remove: true } removes the file, the process lives', async () => {
    const live = new Command(HELPER, '--no-stdio', '--sleep', '30000');
    const pid = live.runAsync();
    try {
      const pidFile = path.join(tmp.path, 'reused.pid');
      fs.writeFileSync(pidFile, `${pid}\n`);
      const r = await killByPidFile(pidFile, 'SIGKILL', { exe: '/usr/bin/env', remove: true });
      expect(r).toMatchObject({ outcome: 'other-program', pid, signals: [], removed: true });
      expect(fs.existsSync(pidFile)).toBe(false);
      await sleep(100);
      expect(isAlive(pid)).toBe(true);
    } finally {
      await live.abort();
    }
  });

  it('a file naming the calling process, checked with exe: process.execPath, is never signalled nor removed', async () => {
    const pidFile = path.join(tmp.path, 'self.pid');
    fs.writeFileSync(pidFile, `${process.pid}\n`);
    // Signal 0 probes without harm: before this rule the caller was 'signalled' (with SIGTERM, killed).
    for (const exe of [process.execPath, undefined]) {
      const r = await killByPidFile(pidFile, 0, { exe, remove: true, wait: 100 });
      expect(r).toEqual({ outcome: 'not-locked', pid: process.pid, holder: null, signals: [], exited: false, removed: false, trustedBy: null });
      expect(fs.existsSync(pidFile)).toBe(true);
    }
  });
});

describe('malformed and missing pidfiles', () => {
  it.each([
    ['empty', ''],
    ['text', 'abc\n'],
    ['two numbers', '12 34\n'],
    ['zero', '0\n'],
    ['init', '1\n'],
    ['negative', '-5\n'],
    ['a plus sign', '+5\n'],
    ['a leading zero', '0123\n'],
    ['beyond pid_t', '2147483648\n'],
    ['two newlines', '123\n\n'],
    ['a leading space', ' 123\n'],
    ['CRLF', '123\r\n'],
    ['trailing text', '123\nabc'],
  ])('%s: EINVAL at stage pidfile from both', async (_name, content) => {
    const pidFile = path.join(tmp.path, 'bad.pid');
    fs.writeFileSync(pidFile, content);
    const err = refusal(() => readPidFile(pidFile));
    expect({ stage: err.stage, code: err.code, path: err.path }).toEqual({ stage: 'pidfile', code: 'EINVAL', path: pidFile });
    await expect(killByPidFile(pidFile)).rejects.toMatchObject({ stage: 'pidfile', code: 'EINVAL' });
  });

  it('a missing file: null, and outcome "missing"', async () => {
    const pidFile = path.join(tmp.path, 'none.pid');
    expect(readPidFile(pidFile)).toBeNull();
    expect(await killByPidFile(pidFile)).toEqual({ outcome: 'missing', pid: null, holder: null, signals: [], exited: false, removed: false, trustedBy: null });
  });

  it('a symlink at the path is not followed (ELOOP); a FIFO is refused without blocking (EINVAL)', async () => {
    const target = path.join(tmp.path, 'real.pid');
    fs.writeFileSync(target, `${process.pid}\n`);
    const link = path.join(tmp.path, 'link.pid');
    fs.symlinkSync(target, link);
    expect(refusal(() => readPidFile(link)).code).toBe('ELOOP');
    const fifo = path.join(tmp.path, 'fifo.pid');
    execFileSync('mkfifo', [fifo]);
    expect(refusal(() => readPidFile(fifo)).code).toBe('EINVAL');
    await expect(killByPidFile(fifo)).rejects.toMatchObject({ code: 'EINVAL' });
  });

  it('invalid arguments throw at once (readPidFile) or reject before any read (killByPidFile), naming the method and the argument', async () => {
    expect(() => readPidFile('')).toThrow(TypeError);
    expect(() => readPidFile('/x', { lock: 1 as unknown as boolean })).toThrow(/options\.lock/);
    await expect(killByPidFile('/x', 'SIGNOPE' as never)).rejects.toThrow(RangeError);
    await expect(killByPidFile('/x', 'SIGTERM', { wait: -1 })).rejects.toThrow(/killByPidFile.*options\.wait/);
    await expect(killByPidFile('/x', 65)).rejects.toThrow(RangeError);
  });
});
