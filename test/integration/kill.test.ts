/**
 * cmd.kill(signal?, { group? }): a signal to the running child (or to the process group it
 * leads), seen by the child itself; false, with nothing sent, when no child of the command runs.
 * And the rule that abort(), free() and a timeout end the whole group of a child made a group
 * leader by setsid() or setpgid(0): its background children do not outlive it.
 */
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { isAlive, procStat, waitFor } from '../helpers/proc';
import { isRoot } from '../helpers/root';
import { useTmpDir } from '../helpers/tmp';

useInvariants();
const tmp = useTmpDir('vc-kill-');

// A shell that logs the signals it traps into $1 and says when its traps are set.
const TRAPPER = 'trap \'echo USR1 >> "$1"\' USR1; trap \'echo HUP >> "$1"\' HUP; echo ready >> "$1"; while :; do sleep 0.02; done';
// A shell that starts two background sleeps in its own group, then waits for them.
const TWO_SLEEPS = 'sleep 100 & sleep 100 & echo started > "$1"; wait';

const logOf = (file: string): string[] => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

/** Live processes in process group `pgid` (scanned in /proc). */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (st && st.pgrp === pgid && st.state !== 'Z') out.push(st.pid);
  }
  return out;
}

/** Starts TWO_SLEEPS and waits until both sleeps run: the group is the shell and its 2 sleeps. */
async function startTwoSleeps(cmd: Command, mode: 'runAsync' | 'run', o: Record<string, unknown> = {}): Promise<{ pid: number; run: Promise<unknown> | null }> {
  const flag = path.join(tmp.path, `started-${Math.random().toString(36).slice(2)}`);
  cmd.addArg(flag);
  let run: Promise<unknown> | null = null;
  if (mode === 'runAsync') cmd.runAsync();
  else {
    run = cmd.run(o);
    run.catch(() => {});
  }
  expect(await waitFor(() => fs.existsSync(flag) && cmd.pid !== null, 10000)).toBe(true);
  const pid = cmd.pid as number;
  expect(await waitFor(() => groupMembers(pid).length === 3, 10000)).toBe(true);
  return { pid, run };
}

/** Ends what is left of group `pgid` (after a failed expectation) so nothing outlives the test. */
function cleanupGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // gone
  }
}

describe('kill(signal?)', () => {
  it('sends SIGTERM by default, a name with or without SIG, or a number, and the child sees each', async () => {
    const log = path.join(tmp.path, 'trap.log');
    const cmd = new Command('/bin/sh', '-c', TRAPPER, 'sh', log);
    cmd.runAsync();
    expect(await waitFor(() => logOf(log).includes('ready'), 10000)).toBe(true);
    expect(cmd.kill('SIGUSR1')).toBe(true);
    expect(await waitFor(() => logOf(log).includes('USR1'), 10000)).toBe(true);
    expect(cmd.kill('HUP')).toBe(true);
    expect(await waitFor(() => logOf(log).includes('HUP'), 10000)).toBe(true);
    expect(cmd.kill(0)).toBe(true); // only checks: the child runs on
    expect(isAlive(cmd.pid as number)).toBe(true);
    expect(cmd.kill()).toBe(true);
    await expect(cmd.wait()).rejects.toMatchObject({ signal: 'SIGTERM' });
    expect(logOf(log)).toEqual(['ready', 'USR1', 'HUP']);
  });

  it('takes a signal number: 9 kills the child with SIGKILL', async () => {
    const cmd = new Command('sleep', '100');
    cmd.runAsync();
    expect(cmd.kill(9)).toBe(true);
    await expect(cmd.wait()).rejects.toMatchObject({ signal: 'SIGKILL', signalNumber: 9 });
  });

  it('refuses bad arguments at once, naming Command.kill and the argument, and signals nothing', async () => {
    const cmd = new Command('sleep', '100');
    const pid = cmd.runAsync();
    try {
      expect(() => cmd.kill('SIGNOPE' as never)).toThrow(RangeError);
      expect(() => cmd.kill('SIGNOPE' as never)).toThrow(/Command\.kill: argument 'signal'.*SIGNOPE/);
      expect(() => cmd.kill(65)).toThrow(RangeError);
      expect(() => cmd.kill(-1)).toThrow(/Command\.kill: argument 'signal'/);
      expect(() => cmd.kill(1.5)).toThrow(RangeError);
      expect(() => cmd.kill(Number.NaN)).toThrow(RangeError);
      expect(() => cmd.kill(null as never)).toThrow(TypeError);
      expect(() => cmd.kill({} as never)).toThrow(/Command\.kill: argument 'signal' must be a number/);
      expect(() => cmd.kill('SIGTERM', { grup: true } as never)).toThrow(/Command\.kill: argument 'options'.*'grup'.*did you mean 'group'/);
      expect(() => cmd.kill('SIGTERM', { group: 1 } as never)).toThrow(/Command\.kill: argument 'options\.group' must be a boolean/);
      expect(() => cmd.kill('SIGTERM', 'group' as never)).toThrow(TypeError);
      expect(isAlive(pid)).toBe(true);
    } finally {
      await cmd.abort();
    }
  });

  it('returns false when nothing runs: before any run, after the child was reaped, after free()', async () => {
    const cmd = new Command('/bin/sh', '-c', 'exit 3');
    expect(cmd.kill()).toBe(false);
    cmd.runAsync();
    await expect(cmd.wait({ status: true })).resolves.toMatchObject({ status: 3 });
    expect(cmd.kill('SIGKILL')).toBe(false);
    expect(cmd.kill('SIGKILL', { group: true })).toBe(false);
    const kept = new Command('sleep', '100');
    kept.runAsync({ autoReap: false });
    const keptPid = kept.pid as number;
    kept.free();
    try {
      expect(kept.kill('SIGKILL')).toBe(false); // released: pidAbort()'s to end, not ours
      expect(isAlive(keptPid)).toBe(true);
    } finally {
      process.kill(keptPid, 'SIGKILL');
      await waitFor(() => !isAlive(keptPid), 10000);
      const { pidWait } = await import('../../src/index');
      await pidWait(keptPid).catch(() => {});
    }
  });

  it("never signals a new process that got the reaped child's pid", async (ctx) => {
    if (!isRoot) {
      console.warn(`[skip] pid reuse: writing /proc/sys/kernel/ns_last_pid needs root (running as uid ${process.getuid?.()})`);
      ctx.skip();
    }
    const cmd = new Command('/bin/true');
    const pid = cmd.runAsync();
    await cmd.wait();
    // The next pid the kernel hands out is the old child's: a sleep started by child_process.
    let other: cp.ChildProcess | null = null;
    for (let attempt = 0; attempt < 20 && other === null; attempt++) {
      try {
        fs.writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
      } catch (err) {
        console.warn(`[skip] pid reuse: cannot write /proc/sys/kernel/ns_last_pid (${(err as Error).message})`);
        ctx.skip();
      }
      const c = cp.spawn('sleep', ['100'], { stdio: 'ignore' });
      if (c.pid === pid) other = c;
      else c.kill('SIGKILL');
    }
    if (other === null) {
      console.warn('[skip] pid reuse: another process took the pid 20 times in a row');
      ctx.skip();
      return;
    }
    const exited = new Promise((resolve) => other?.once('exit', resolve));
    try {
      expect(cmd.kill('SIGKILL')).toBe(false);
      expect(cmd.kill('SIGKILL', { group: true })).toBe(false);
      expect(isAlive(pid)).toBe(true);
    } finally {
      other.kill('SIGKILL');
      await exited;
    }
  });
});

describe('kill() between the reap and the end of the run', () => {
  it("signals neither the new owner of the reaped child's pid nor the group that new owner leads", async (ctx) => {
    if (!isRoot) {
      console.warn(`[skip] pid reuse: writing /proc/sys/kernel/ns_last_pid needs root (running as uid ${process.getuid?.()})`);
      ctx.skip();
    }
    // The shell exits at once; its sleep keeps the captured stdout open, so the run goes on
    // (draining, 200 ms) after the shell was reaped: the command still has a running record.
    const sleepPidFile = path.join(tmp.path, 'grandchild.pid');
    const cmd = new Command('/bin/sh', '-c', 'sleep 30 & echo $! > "$1"; exit 0', 'sh', sleepPidFile).setOutputBuffer();
    const pid = cmd.runAsync();
    let settled = false;
    const waiting = cmd.wait().finally(() => (settled = true));
    let other: cp.ChildProcess | null = null;
    try {
      expect(await waitFor(() => procStat(pid) === null, 10000, 1)).toBe(true); // reaped by the run
      // The next pid handed out is the old child's: a new session leader (pgid == pid), so a
      // group kill that only checked getpgid(pid) == pid would hit it.
      try {
        fs.writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - 1));
      } catch (err) {
        console.warn(`[skip] pid reuse: cannot write /proc/sys/kernel/ns_last_pid (${(err as Error).message})`);
        ctx.skip();
      }
      const c = cp.spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
      if (c.pid === pid) other = c;
      else c.kill('SIGKILL');
      if (other === null || settled) {
        console.warn(`[skip] pid reuse in the drain window: ${other === null ? 'another process took the pid' : 'the run ended first (a loaded machine)'}`);
        ctx.skip();
        return;
      }
      expect(procStat(pid)?.pgrp).toBe(pid);
      expect(cmd.kill('SIGKILL')).toBe(false);
      expect(cmd.kill('SIGKILL', { group: true })).toBe(false);
      expect(settled).toBe(false); // still inside the window: the run had not ended
      expect(isAlive(pid)).toBe(true);
    } finally {
      if (fs.existsSync(sleepPidFile)) {
        try {
          process.kill(Number(fs.readFileSync(sleepPidFile, 'utf8')), 'SIGKILL');
        } catch {
          // gone
        }
      }
      await waiting.catch(() => {});
      if (other) {
        const exited = new Promise((resolve) => other?.once('exit', resolve));
        other.kill('SIGKILL');
        await exited;
      }
    }
  });
});

describe('kill(signal, { group: true }) and the group rule', () => {
  it('ends the group setsid() made: the shell and its two background sleeps', async () => {
    const cmd = new Command('/bin/sh', '-c', TWO_SLEEPS, 'sh').setsid();
    const { pid } = await startTwoSleeps(cmd, 'runAsync');
    try {
      expect(procStat(pid)?.session).toBe(pid);
      expect(cmd.kill('SIGTERM', { group: true })).toBe(true);
      await expect(cmd.wait()).rejects.toMatchObject({ signal: 'SIGTERM' });
      expect(await waitFor(() => groupMembers(pid).length === 0, 10000)).toBe(true);
    } finally {
      cleanupGroup(pid);
    }
  });

  it('without group, only the child is signalled: its background sleeps stay', async () => {
    const cmd = new Command('/bin/sh', '-c', TWO_SLEEPS, 'sh').setpgid(0);
    const { pid } = await startTwoSleeps(cmd, 'runAsync');
    try {
      expect(cmd.kill('SIGKILL')).toBe(true);
      await expect(cmd.wait()).rejects.toMatchObject({ signal: 'SIGKILL' });
      expect(groupMembers(pid)).toHaveLength(2);
    } finally {
      cleanupGroup(pid);
      await waitFor(() => groupMembers(pid).length === 0, 10000);
    }
  });

  it('is false, and sends nothing, for a child that leads no group of its own', async () => {
    const cmd = new Command('sleep', '100');
    const pid = cmd.runAsync();
    try {
      expect(procStat(pid)?.pgrp).not.toBe(pid);
      expect(cmd.kill('SIGKILL', { group: true })).toBe(false);
      expect(isAlive(pid)).toBe(true);
      expect(isAlive(process.pid)).toBe(true); // our own group was not hit either
    } finally {
      await cmd.abort();
    }
  });

  it('abort() of a setsid() child ends its whole group', async () => {
    const cmd = new Command('/bin/sh', '-c', TWO_SLEEPS, 'sh').setsid();
    const { pid } = await startTwoSleeps(cmd, 'runAsync');
    try {
      await cmd.abort();
      expect(await waitFor(() => groupMembers(pid).length === 0, 10000)).toBe(true);
    } finally {
      cleanupGroup(pid);
    }
  });

  it('an AbortSignal on run() of a setpgid(0) child ends its whole group', async () => {
    const ac = new AbortController();
    const cmd = new Command('/bin/sh', '-c', TWO_SLEEPS, 'sh').setpgid(0);
    const { pid, run } = await startTwoSleeps(cmd, 'run', { signal: ac.signal });
    try {
      ac.abort();
      await expect(run).rejects.toMatchObject({ code: 'ABORT_ERR' });
      expect(await waitFor(() => groupMembers(pid).length === 0, 10000)).toBe(true);
    } finally {
      cleanupGroup(pid);
    }
  });

  it('a timeout of runSync() on a setsid() child ends its whole group', () => {
    const flag = path.join(tmp.path, 'sync-started');
    const script = 'sleep 100 & sleep 100 & echo $$ > "$1.pid"; wait';
    const cmd = new Command('/bin/sh', '-c', script, 'sh', flag).setsid();
    try {
      expect(() => cmd.runSync({ timeout: 1000 })).toThrow(expect.objectContaining({ code: 'ETIMEDOUT' }));
      const pid = Number(fs.readFileSync(`${flag}.pid`, 'utf8'));
      expect(pid).toBeGreaterThan(0);
      // killed with the shell, before it was reaped: nothing of the group is left (sleep's exit
      // after SIGTERM may take a moment to show in /proc)
      const left = (): number[] => groupMembers(pid);
      const deadline = Date.now() + 10000;
      while (left().length > 0 && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      expect(left()).toEqual([]);
    } finally {
      if (fs.existsSync(`${flag}.pid`)) cleanupGroup(Number(fs.readFileSync(`${flag}.pid`, 'utf8')));
    }
  });

  it('free() of a setsid() child ends its whole group', async () => {
    const cmd = new Command('/bin/sh', '-c', TWO_SLEEPS, 'sh').setsid();
    const { pid } = await startTwoSleeps(cmd, 'runAsync');
    try {
      cmd.free();
      expect(await waitFor(() => groupMembers(pid).length === 0, 10000)).toBe(true);
    } finally {
      cleanupGroup(pid);
    }
  });
});
