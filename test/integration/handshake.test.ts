/**
 * The handshake: after runAsync(), handshakeWait() resolves
 * once the child has done every step but exec and waits; the parent acts on
 * the pid (here: moves it into a cgroup v2 group through cgroup.procs); then
 * handshakeNotify() lets it exec, and the program reports the new cgroup.
 * A child that fails before the handshake rejects handshakeWait() with the
 * stage that failed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Command, CommandError, pidAbort, pidWait } from '../../src/index';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { killPids, readPidFile } from '../helpers/daemon';
import { isAlive, openFds, sleep, waitFor } from '../helpers/proc';
import { parseReport } from '../helpers/report';
import { describeRoot } from '../helpers/root';
import { cgroup2Root } from '../helpers/cgroup';
import { useTmpDir } from '../helpers/tmp';

const inv = useInvariants();
const tmp = useTmpDir('vc-handshake-');

// Daemons are not our children (they are reparented); kill whatever a test left.
const daemons = new Set<number>();
afterEach(async () => {
  await killPids(daemons);
});

/** `p`, or a rejection once `ms` passed without it settling: a hang fails the test. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

const settled = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => 'resolved',
    (e: unknown) => e,
  );

/** Whether `pid` is blocked in read(2) (x86-64 syscall 0): at its handshake, its "ready" sent. */
function inRead(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/syscall`, 'utf8').startsWith('0 ');
  } catch {
    return false;
  }
}

/** Waits until `pid` is blocked in read(2): at its handshake, its "ready" sent. */
async function blockedInRead(pid: number): Promise<void> {
  if (!(await waitFor(() => inRead(pid), 3000))) await sleep(300); // no /proc/<pid>/syscall: give it time
}

/** Sleeps `ms` without returning to the event loop: nothing of it runs meanwhile. */
function blockLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

const v2Line = (text: string) => text.split('\n').find((l) => l.startsWith('0::'));

/** Field 19 of /proc/<pid>/stat (nice). */
function niceOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

describe('handshake', () => {
  it('the child waits after its last step and before exec until handshakeNotify()', async () => {
    const out: { value?: string | Buffer } = {};
    const cmd = new Command(HELPER, '--log', '-', '--no-stdio').setNice(3).requireHandshake().setOutputBuffer(out);
    const pid = cmd.runAsync();
    try {
      await cmd.handshakeWait();
      // Set up (nice applied) but not yet exec'd: still a copy of this node binary.
      expect(isAlive(pid)).toBe(true);
      expect(niceOf(pid)).toBe(3);
      expect(fs.readlinkSync(`/proc/${pid}/exe`)).toBe(fs.realpathSync(process.execPath));
      await new Promise((res) => setTimeout(res, 100));
      expect(fs.readlinkSync(`/proc/${pid}/exe`)).not.toBe(fs.realpathSync(HELPER));
      cmd.handshakeNotify();
      const r = await cmd.wait();
      expect(r.exitStatus).toBe(0);
      const rep = parseReport(String(out.value ?? r.stdout));
      expect(rep.pid).toBe(pid);
      expect(rep.nice).toBe(3);
    } finally {
      await cmd.abort();
    }
  });

  it('a child that fails before the handshake (bad cwd) rejects handshakeWait() with stage chdir', async () => {
    const cmd = new Command('true').setWorkingDirectory('/nonexistent/vc-handshake').requireHandshake();
    const pid = cmd.runAsync();
    const err = await cmd.handshakeWait().then(
      () => null,
      (e: unknown) => e as CommandError,
    );
    expect(err).toBeInstanceOf(CommandError);
    expect(err!.stage).toBe('chdir');
    expect(err!.code).toBe('ENOENT');
    await cmd.wait().catch(() => undefined);
    expect(await waitFor(() => !isAlive(pid), 1000)).toBe(true);
  });

  it('handshakeWait() pending when free() or abort() kills the child rejects, even though the child had sent "ready"', async () => {
    for (const end of ['free', 'abort'] as const) {
      const cmd = new Command('true').requireHandshake();
      const pid = cmd.runAsync();
      await blockedInRead(pid);
      const waiting = settled(cmd.handshakeWait());
      if (end === 'free') cmd.free();
      else await cmd.abort();
      const err = (await within(waiting, 5000, `handshakeWait() after ${end}()`)) as CommandError;
      expect(err, `handshakeWait() after ${end}()`).toBeInstanceOf(CommandError);
      expect({ stage: err.stage, code: err.code }).toEqual({ stage: 'handshake', code: 'ABORT_ERR' });
      expect(isAlive(pid)).toBe(false);
    }
  });

  it('abort() while the child waits at the handshake kills and reaps it', async () => {
    const cmd = new Command('true').requireHandshake();
    const pid = cmd.runAsync();
    await cmd.handshakeWait();
    expect(isAlive(pid)).toBe(true);
    await cmd.abort();
    expect(isAlive(pid)).toBe(false);
  });

  // The timer must fire while handshakeWait() is pending: its answer ("ready") must not have
  // been delivered yet. So both are started in a setImmediate() callback that then holds the
  // event loop until the child has sent "ready" (blocked in read(2) at its handshake) and the
  // timeout has passed. From the check phase libuv runs the due timers before it polls for I/O
  // again, so the timeout ends the child before handshakeWait() hears its "ready".
  it('handshakeWait() pending when a wait timeout ends the child rejects with ABORT_ERR, even though the child had sent "ready"', async () => {
    const marker = path.join(tmp.path, 'timed-out.ran');
    const cmd = new Command(HELPER, '--create', marker).requireHandshake();
    const pid = cmd.runAsync();
    const timeout = 50;
    const { waiting, waited } = await new Promise<{ waiting: Promise<unknown>; waited: Promise<unknown> }>((resolve) => {
      setImmediate(() => {
        const started = Date.now();
        const waiting = settled(cmd.handshakeWait());
        const waited = settled(cmd.wait({ timeout }));
        for (let i = 0; i < 300 && !inRead(pid); i++) blockLoop(10);
        if (!inRead(pid)) blockLoop(300); // no /proc/<pid>/syscall: give it time
        blockLoop(Math.max(0, timeout + 20 - (Date.now() - started)));
        resolve({ waiting, waited });
      });
    });
    const err = (await within(waiting, 5000, 'handshakeWait() after the timeout')) as CommandError;
    expect(err).toBeInstanceOf(CommandError);
    expect({ stage: err.stage, code: err.code }).toEqual({ stage: 'handshake', code: 'ABORT_ERR' });
    expect(err.message).toContain(`timed out after ${timeout} ms`);
    expect(((await within(waited, 5000, 'wait({ timeout })')) as CommandError).code).toBe('ETIMEDOUT');
    // Killed at its handshake: gone, and the program never ran.
    expect(isAlive(pid)).toBe(false);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('free() of a child of runAsync({ autoReap: false }) that waits at its handshake: the child fails at the handshake and exits 125, the program never runs', async () => {
    const marker = path.join(tmp.path, 'released.ran');
    const cmd = new Command(HELPER, '--create', marker).requireHandshake();
    const pid = cmd.runAsync({ autoReap: false });
    let reaped = false;
    try {
      await within(cmd.handshakeWait(), 5000, 'handshakeWait()');
      // Ready, not exec'd: still a copy of this node binary.
      expect(fs.readlinkSync(`/proc/${pid}/exe`)).toBe(fs.realpathSync(process.execPath));
      cmd.free(); // releases the child (not killed): its go pipe closes
      // Exit status 125 (failed before exec, stage handshake), not a death by signal (pidWait
      // would throw) nor the program's 0; a child left waiting would hang here.
      const status = await within(pidWait(pid, { status: true }), 5000, 'pidWait() of the released child');
      reaped = true;
      expect(status).toBe(125);
      expect(fs.existsSync(marker)).toBe(false);
    } finally {
      // Only a child not reaped yet is still ours: a reaped pid may already be someone else's.
      if (!reaped) await pidAbort(pid);
    }
  });

  // Not when the handle is garbage-collected, which may be much later (or never, in a quiet
  // process): the invariants' own settle time would hide that.
  it('a child ended at its handshake leaves no pipe of ours open: abort(), free(), wait() after a timeout', async () => {
    const extra = (): string[] => [...openFds().keys()].filter((fd) => !inv.baseline.fds.has(fd)).map((fd) => `fd ${fd}`);
    const aborted = new Command('true').requireHandshake();
    aborted.runAsync();
    await aborted.handshakeWait();
    await aborted.abort();
    expect(extra(), 'after abort()').toEqual([]);
    const freed = new Command('true').requireHandshake();
    freed.runAsync();
    freed.free();
    expect(extra(), 'after free()').toEqual([]);
    const timedOut = new Command('true').requireHandshake();
    timedOut.runAsync();
    expect(((await timedOut.wait({ timeout: 100 }).catch((e: unknown) => e)) as CommandError).code).toBe('ETIMEDOUT');
    expect(extra(), 'after wait({ timeout })').toEqual([]);
  });
});

describe("a daemon with a handshake (libvirt's qemu driver: run, read the pidfile, handshake wait, notify)", () => {
  const daemon = (name: string, ...extra: string[]): { cmd: Command; pidFile: string; marker: string } => {
    const pidFile = path.join(tmp.path, `${name}.pid`);
    const marker = path.join(tmp.path, `${name}.ran`);
    const cmd = new Command(HELPER, '--create', marker, ...extra, '--sleep', '30000').daemonize().setPidFile(pidFile).requireHandshake();
    return { cmd, pidFile, marker };
  };

  it('run() resolves once the intermediate exited, the pidfile written; the daemon waits at its handshake until handshakeNotify()', async () => {
    const { cmd, pidFile, marker } = daemon('order');
    const r = await within(cmd.run(), 5000, 'run() of a daemon with a handshake');
    expect(r.exitStatus).toBe(0);
    const pid = readPidFile(pidFile, { track: daemons });
    expect(isAlive(pid)).toBe(true);
    await within(cmd.handshakeWait(), 5000, 'handshakeWait()');
    // Ready, not exec'd: still a copy of this node binary, the program not started.
    expect(fs.readlinkSync(`/proc/${pid}/exe`)).toBe(fs.realpathSync(process.execPath));
    expect(fs.existsSync(marker)).toBe(false);
    cmd.handshakeNotify();
    expect(await waitFor(() => fs.existsSync(marker), 3000), 'the daemon ran its program').toBe(true);
    expect(fs.readlinkSync(`/proc/${pid}/exe`)).toBe(fs.realpathSync(HELPER));
    cmd.free(); // a daemon outlives free()
    expect(isAlive(pid)).toBe(true);
  });

  it('the other order works too: handshakeWait() and handshakeNotify() while run() is pending', async () => {
    const { cmd, pidFile, marker } = daemon('other-order');
    const running = cmd.run();
    await within(cmd.handshakeWait(), 5000, 'handshakeWait()');
    readPidFile(pidFile, { track: daemons });
    cmd.handshakeNotify();
    expect((await within(running, 5000, 'run()')).exitStatus).toBe(0);
    expect(await waitFor(() => fs.existsSync(marker), 3000)).toBe(true);
  });

  it('a daemon failing after its pidfile, before it is ready, rejects handshakeWait() with its stage (either order); its pidfile goes', async () => {
    for (const order of ['run first', 'wait first']) {
      const { cmd, pidFile, marker } = daemon(order.replace(' ', '-'));
      // The rlimit step follows the pidfile: NOFILE above /proc/sys/fs/nr_open fails there (EPERM).
      cmd.setMaxFiles(Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8')) + 1);
      let err: unknown;
      if (order === 'run first') {
        await within(cmd.run(), 5000, 'run()');
        err = await within(settled(cmd.handshakeWait()), 5000, 'handshakeWait()');
      } else {
        const running = settled(cmd.run());
        err = await within(settled(cmd.handshakeWait()), 5000, 'handshakeWait()');
        await within(running, 5000, 'run()');
      }
      expect(err, order).toBeInstanceOf(CommandError);
      const e = err as CommandError;
      expect({ order, stage: e.stage, code: e.code }).toEqual({ order, stage: 'rlimit', code: 'EPERM' });
      expect(await waitFor(() => !fs.existsSync(pidFile), 2000), `${order}: pidfile removed`).toBe(true);
      expect(fs.existsSync(marker)).toBe(false);
      cmd.free();
    }
  });

  it('a daemon failing before its pidfile rejects run() at once with the stage', async () => {
    const { cmd, pidFile } = daemon('symlink');
    fs.symlinkSync(path.join(tmp.path, 'victim'), pidFile);
    const err = (await within(settled(cmd.run()), 5000, 'run()')) as CommandError;
    expect(err).toBeInstanceOf(CommandError);
    expect({ stage: err.stage, code: err.code }).toEqual({ stage: 'pidfile', code: 'ELOOP' });
    // Its handshake is given up with the run: nothing to wait for.
    expect((await settled(cmd.handshakeWait())) as CommandError).toBeInstanceOf(CommandError);
  });

  it('free() while the daemon waits for its handshake: a pending handshakeWait() rejects, the daemon gives up and exits, its pidfile goes', async () => {
    const { cmd, pidFile } = daemon('freed');
    await within(cmd.run(), 5000, 'run()');
    const pid = readPidFile(pidFile, { track: daemons });
    await blockedInRead(pid);
    // Another run of the command must wait: its daemon has not been let go.
    expect((await settled(cmd.run())) as CommandError).toMatchObject({ code: 'ERR_COMMAND_USAGE' });
    const waiting = settled(cmd.handshakeWait());
    cmd.free();
    const err = (await within(waiting, 5000, 'handshakeWait() after free()')) as CommandError;
    expect(err).toBeInstanceOf(CommandError);
    expect({ stage: err.stage, code: err.code }).toEqual({ stage: 'handshake', code: 'ABORT_ERR' });
    expect(await waitFor(() => !isAlive(pid), 3000), 'the daemon exited').toBe(true);
    expect(fs.existsSync(pidFile)).toBe(false);
  });
});

describeRoot('handshake with a cgroup move (root)', () => {
  it('the parent moves the waiting child into a cgroup; after notify the program reports it', async (ctx) => {
    const found = cgroup2Root();
    if ('reason' in found) {
      console.warn(`[skip] handshake cgroup move: ${found.reason}`);
      ctx.skip();
      return;
    }
    const rel = `vc-handshake-${process.pid}-${Date.now()}`;
    const dir = path.join(found.root, rel);
    fs.mkdirSync(dir);
    const out: { value?: string | Buffer } = {};
    const cmd = new Command('cat', '/proc/self/cgroup').requireHandshake().setOutputBuffer(out);
    try {
      const pid = cmd.runAsync();
      await cmd.handshakeWait();
      const before = v2Line(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
      expect(before).not.toBe(`0::/${rel}`);
      fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
      expect(v2Line(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'))).toBe(`0::/${rel}`);
      cmd.handshakeNotify();
      const r = await cmd.wait();
      expect(v2Line(String(out.value ?? r.stdout))).toBe(`0::/${rel}`);
    } finally {
      await cmd.abort();
      await waitFor(() => fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim() === '', 2000);
      fs.rmdirSync(dir);
    }
  });
});
