/**
 * Adversarial tests of daemonize and the pidfile.
 * test/integration/daemon.test.ts has libvirt test4/18/29, a symlink to an
 * existing file at the pidfile path, a stale pidfile taken over, a locked
 * pidfile, and a failure after the pidfile (a bad rlimit); here are the twists:
 *
 * - the daemon's shape read at once after each of 200 runs (50 under the
 *   quick `npm test`: helpers/scale.ts), no race:
 *   pidfile content, stat fields, cwd, fds, /proc/locks line, the intermediate
 *   reaped;
 * - a dangling symlink, a stale file with trailing garbage, the "locked by
 *   pid N" message, a racer that unlinks and recreates the path, unsafe
 *   directories (world-writable without sticky; as root, owned by another
 *   user), and a FIFO planted at the path (must not hang anything);
 * - a failing hook and a failing exec after the pidfile;
 * - a daemon started from a node parent that has a controlling terminal:
 *   it survives the parent's SIGKILL and a SIGTERM to the parent's process
 *   group, and cannot open /dev/tty.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Command, CommandError } from '../../src/index';
import { killChildProcesses, killPids, lockId, locksOf, readPidFile } from '../helpers/daemon';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { PACKAGE_ENTRY, runNodeChild, TS_REGISTER } from '../helpers/node-child';
import { isAlive, openFds, processesWith, procStat, sleep, waitFor, zombieChildren } from '../helpers/proc';
import { describeRoot } from '../helpers/root';
import { scaled } from '../helpers/scale';
import { useTmpDir } from '../helpers/tmp';
import { killAllWith, needTools, rejection, support } from './support/process-tools';

useInvariants();
const tmp = useTmpDir('vc-adv-daemon-');

let S: ReturnType<typeof support>;
beforeAll(() => {
  S = support();
});

// Daemons are not our children; kill whatever a test left (by pid and by token).
const daemons = new Set<number>();
const outside: ChildProcess[] = [];
const TOKEN = `vc-r4x-${process.pid}`;
afterEach(async () => {
  await killPids(daemons);
  await killChildProcesses(outside);
  await killAllWith(TOKEN);
});

/** The pid in a pidfile, asserting the exact content: decimal digits and one newline (docs/daemons-and-pidfiles.md). */
const readPid = (file: string): number => readPidFile(file, { track: daemons });

// ------------------------------------------------------------------------- daemon shape

describe('shape of the daemon', () => {
  const RUNS = scaled(200, 50);
  it(`${RUNS} runs, each read at once: pidfile, session/group leader, no tty, cwd /, fds {0,1,2,lock}, the lock, no intermediate left`, async () => {
    const problems: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const dir = path.join(tmp.path, `d${i}`);
      fs.mkdirSync(dir, { mode: 0o700 });
      const pidFile = path.join(dir, 'daemon.pid');
      // The static helper opens nothing while it sleeps (sleep(1) opens locale files at start).
      const r = await new Command(HELPER, '--no-stdio', '--sleep', '30000', TOKEN).daemonize().setPidFile(pidFile).run();
      // Read at once: no retry anywhere below.
      const pid = readPid(pidFile);
      const where = `run ${i} (daemon ${pid}, intermediate ${r.pid})`;
      try {
        process.kill(pid, 0);
      } catch (e) {
        problems.push(`${where}: kill(pid, 0): ${(e as Error).message}`);
        continue;
      }
      const st = procStat(pid)!;
      const fds = openFds(pid);
      const want = new Map<number, string>([
        [0, '/dev/null'],
        [1, '/dev/null'],
        [2, '/dev/null'],
      ]);
      const lockFd = [...fds.keys()].find((fd) => fd > 2);
      if (lockFd !== undefined) want.set(lockFd, pidFile);
      const got = {
        exe: fs.readlinkSync(`/proc/${pid}/exe`) === HELPER,
        session: st.session,
        pgrp: st.pgrp,
        tty: st.ttyNr,
        parentIsUs: st.ppid === process.pid,
        parentIsIntermediate: st.ppid === r.pid,
        cwd: fs.readlinkSync(`/proc/${pid}/cwd`),
        fds: [...fds],
        locks: locksOf(pid),
        intermediate: procStat(r.pid) !== null && procStat(r.pid)!.ppid === process.pid,
      };
      const expected = {
        exe: true,
        session: pid,
        pgrp: pid,
        tty: 0,
        parentIsUs: false,
        parentIsIntermediate: false,
        cwd: '/',
        fds: [...want],
        locks: [`POSIX ADVISORY WRITE ${pid} ${lockId(fs.statSync(pidFile, { bigint: true }))} 0 0`],
        intermediate: false,
      };
      if (JSON.stringify(got) !== JSON.stringify(expected)) problems.push(`${where}: ${JSON.stringify(got)} != ${JSON.stringify(expected)}`);
      process.kill(pid, 'SIGKILL');
      daemons.delete(pid);
      if (!(await waitFor(() => !isAlive(pid), 2000))) problems.push(`${where}: does not die`);
    }
    expect(problems.slice(0, 5), `${problems.length} of ${RUNS} runs`).toEqual([]);
    expect(zombieChildren()).toEqual([]);
  }, 120000);
});

// ---------------------------------------------------------------------- pidfile attacks

describe('pidfile attacks and races', () => {
  it('(a) a dangling symlink at the path: ELOOP at stage pidfile, its target is not created', async () => {
    const victim = path.join(tmp.path, 'victim-not-there');
    const pidFile = path.join(tmp.path, 'dangling.pid');
    fs.symlinkSync(victim, pidFile);
    const marker = path.join(tmp.path, 'ran');
    const err = await rejection(new Command(HELPER, '--create', marker, TOKEN).daemonize().setPidFile(pidFile).run());
    expect({ stage: err.stage, code: err.code }).toEqual({ stage: 'pidfile', code: 'ELOOP' });
    expect(fs.existsSync(victim)).toBe(false);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('(b) a stale unlocked pidfile with a longer number and trailing lines: exactly the new pid after the takeover', async () => {
    const pidFile = path.join(tmp.path, 'stale.pid');
    fs.writeFileSync(pidFile, '4294967295\nleftover line\n'.repeat(50));
    await new Command('sleep', '30').daemonize().setPidFile(pidFile).run();
    readPid(pidFile); // asserts the whole content
  });

  it('(c) a pidfile locked by a live daemon: EAGAIN, "pidfile ... is locked by pid N", the program never runs', async () => {
    const pidFile = path.join(tmp.path, 'held.pid');
    await new Command('sleep', '30').daemonize().setPidFile(pidFile).run();
    const holder = readPid(pidFile);
    const marker = path.join(tmp.path, 'second-ran');
    const err = await rejection(new Command(HELPER, '--create', marker, TOKEN).daemonize().setPidFile(pidFile).run());
    expect({ stage: err.stage, code: err.code, value: err.value }).toEqual({ stage: 'pidfile', code: 'EAGAIN', value: holder });
    expect(err.message).toContain(pidFile);
    expect(err.message, 'the message names the holder').toMatch(new RegExp(`locked by pid ${holder}\\b`));
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('(d) runs against a racer that unlinks and recreates the path: the daemon locks the file that is at the path', async () => {
    let successes = 0;
    const refused: string[] = [];
    // 100 runs; more (up to 400) while fewer than 20 got the file, as on a loaded machine.
    for (let i = 0; i < 400 && (i < 100 || successes < 20); i++) {
      const pidFile = path.join(tmp.path, `race${i}.pid`);
      const racer = spawn(S.racer, [pidFile], { stdio: ['ignore', 'pipe', 'inherit'] });
      outside.push(racer);
      let out = '';
      racer.stdout.on('data', (d) => (out += d));
      const racerExit = new Promise<void>((resolve) => racer.once('exit', () => resolve()));
      expect(await waitFor(() => out.includes('ready'), 5000), 'racer not running').toBe(true);
      const result = await new Command('sleep', '30')
        .daemonize()
        .setPidFile(pidFile)
        .run()
        .then(
          (r) => r,
          (e: CommandError) => e,
        );
      if (result instanceof CommandError) {
        // A clear refusal is acceptable: the racer held the lock at that instant, or kept
        // replacing the file past the retries.
        expect({ stage: result.stage, code: result.code }, result.message).toEqual({ stage: 'pidfile', code: 'EAGAIN' });
        refused.push(result.message);
        racer.kill('SIGKILL');
        await racerExit;
        continue;
      }
      successes++;
      // The racer stops by itself once the file at the path is locked by someone else. If the
      // daemon locked a file that was no longer at the path, the racer never stops.
      const stopped = await Promise.race([racerExit.then(() => true), sleep(3000).then(() => false)]);
      const pid = readPid(pidFile);
      expect(stopped, `run ${i}: the racer still finds the file at the path unlocked (daemon ${pid})`).toBe(true);
      const locks = locksOf(pid);
      expect(locks, `run ${i}`).toEqual([`POSIX ADVISORY WRITE ${pid} ${lockId(fs.statSync(pidFile, { bigint: true }))} 0 0`]);
      expect(fs.readlinkSync(`/proc/${pid}/fd/${[...openFds(pid).keys()].find((fd) => fd > 2)}`)).toBe(pidFile);
      process.kill(pid, 'SIGKILL');
    }
    expect(successes, `${refused.length} runs were refused: ${refused.slice(0, 3).join('; ')}`).toBeGreaterThanOrEqual(10);
  }, 120000);

  /** Runs a daemon on pidFile; "refused" (stage pidfile) and "warned" (a process warning naming it) both count. */
  async function refusedOrWarned(pidFile: string): Promise<{ refused: CommandError | null; warnings: string[] }> {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(String(w.message));
    process.on('warning', onWarning);
    try {
      const r = await new Command('sleep', '30')
        .daemonize()
        .setPidFile(pidFile)
        .run()
        .then(
          () => null,
          (e: CommandError) => e,
        );
      await sleep(50); // process warnings are emitted on the next tick
      if (r === null) readPid(pidFile);
      return { refused: r, warnings: warnings.filter((w) => w.includes(path.dirname(pidFile)) || w.includes(pidFile)) };
    } finally {
      process.off('warning', onWarning);
    }
  }

  it("(e) the pidfile's directory is world-writable without the sticky bit: refused or warned", async () => {
    const dir = path.join(tmp.path, 'open-dir');
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o777);
    const { refused, warnings } = await refusedOrWarned(path.join(dir, 'd.pid'));
    if (refused) expect(refused.stage, refused.message).toBe('pidfile');
    expect(refused !== null || warnings.length > 0, 'a pidfile in a 0777 directory was accepted silently').toBe(true);
  });

  describeRoot('(f) as root', () => {
    it('a pidfile in a directory owned by another user: refused or warned', async () => {
      fs.chmodSync(tmp.path, 0o755);
      const dir = path.join(tmp.path, 'nobodys-dir');
      fs.mkdirSync(dir, { mode: 0o755 });
      fs.chownSync(dir, 65534, 65534);
      const { refused, warnings } = await refusedOrWarned(path.join(dir, 'd.pid'));
      if (refused) expect(refused.stage, refused.message).toBe('pidfile');
      expect(refused !== null || warnings.length > 0, 'root wrote a pidfile into a directory nobody controls, silently').toBe(true);
    });
  });

  it('(g) a FIFO planted at the path: refused at stage pidfile, and neither the run nor the event loop hangs', (ctx) => {
    needTools(ctx, 'FIFO at the pidfile path', 'mkfifo');
    const pidFile = path.join(tmp.path, 'fifo.pid');
    execFileSync('mkfifo', [pidFile]);
    expect(fs.statSync(pidFile).isFIFO()).toBe(true);
    let r: { outcome: Record<string, unknown>; ms: number; ticks: number } | undefined;
    let hung = '';
    try {
      r = runNodeChild(
        `
        let ticks = 0;
        const timer = setInterval(() => { ticks++; }, 10);
        const t0 = Date.now();
        const outcome = await Promise.race([
          new vc.Command(HELPER, '--no-stdio', '--sleep', '30000', ARGS.token).daemonize().setPidFile(ARGS.p).run()
            .then(() => ({ resolved: true }), (e) => ({ stage: e.stage, code: e.code, message: e.message })),
          new Promise((res) => setTimeout(() => res({ timeout: true }), 3000)),
        ]);
        clearInterval(timer);
        emit({ outcome, ms: Date.now() - t0, ticks });
        setTimeout(() => process.exit(0), 10);
      `,
        { args: { p: pidFile, token: TOKEN }, timeoutMs: 8000 },
      ).result as typeof r;
    } catch (e) {
      hung = (e as Error).message;
    } finally {
      // Release a process blocked in open() on the FIFO: O_RDWR never blocks and is a reader.
      try {
        const fd = fs.openSync(pidFile, fs.constants.O_RDWR | fs.constants.O_NONBLOCK);
        setTimeout(() => fs.closeSync(fd), 500);
      } catch {
        // not a FIFO any more
      }
    }
    expect(hung, 'the node parent hung and was killed after 8 s: its event loop never ran again').toBe('');
    expect(r).toBeDefined();
    // at least one 10 ms tick per 100 ms of the run (a run over in under 100 ms needs none)
    expect(r!.ticks, `the event loop ran ${r!.ticks} timer ticks in ${r!.ms} ms`).toBeGreaterThanOrEqual(Math.floor(r!.ms / 100));
    expect(r!.outcome).toMatchObject({ stage: 'pidfile' });
  });
});

// ----------------------------------------------------------- failures after the pidfile

describe('a failure after the pidfile settles promptly', () => {
  it.each([
    ['a hook returning -1 (ENOTSUP)', (c: Command) => c.setPreExecHook({ library: S.hooks, symbol: 'fail_enotsup' }), 'hook', 'ENOTSUP'],
    ['an exec that finds no program', null, 'exec', 'ENOENT'],
  ] as [string, ((c: Command) => Command) | null, string, string][])(
    '%s: rejects within 1 s with its stage, pidfile removed, no daemon',
    async (_n, setup, stage, code) => {
      const pidFile = path.join(tmp.path, 'fail.pid');
      const token = `${TOKEN}-45-${stage}`;
      const base = setup ? new Command(HELPER, '--sleep', '30000', token) : new Command(path.join(tmp.path, 'no-such-program'), token);
      const cmd = (setup ? setup(base) : base).daemonize().setPidFile(pidFile);
      const t0 = Date.now();
      const err = await rejection(cmd.run());
      expect(Date.now() - t0).toBeLessThan(1000);
      expect(err.stage, err.message).toBe(stage);
      expect([code, ...(code === 'ENOTSUP' ? ['EOPNOTSUPP'] : [])]).toContain(err.code);
      expect(fs.existsSync(pidFile), 'docs/daemons-and-pidfiles.md: a failure once the file is locked removes it').toBe(false);
      expect(await waitFor(() => processesWith(token).length === 0, 1000), `still running: ${processesWith(token)}`).toBe(true);
      expect(zombieChildren()).toEqual([]);
    },
  );
});

// ------------------------------------------------------------------- independent daemon

describe('the daemon is independent of the parent', () => {
  it('a parent with a controlling tty: SIGKILL it and SIGTERM its group; the daemon lives, cannot open /dev/tty, and is killed by its pidfile pid', async (ctx) => {
    needTools(ctx, 'daemon of a parent with a controlling terminal (script(1) gives it one)', 'script');
    const pidFile = path.join(tmp.path, 'indep.pid');
    const ttyLog = path.join(tmp.path, 'tty.log');
    const script = path.join(tmp.path, 'parent.js');
    fs.writeFileSync(
      script,
      `
      const vc = require(process.env.VC_TEST_ENTRY);
      const fs = require('fs');
      (async () => {
        const st = fs.readFileSync('/proc/self/stat', 'utf8').slice(fs.readFileSync('/proc/self/stat', 'utf8').lastIndexOf(')') + 2).split(' ');
        // Control: an ordinary child in this session opens /dev/tty.
        // (a subshell: a failed redirection on ':' would end a non-interactive sh)
        const ctl = await new vc.Command('sh', '-c', 'if ( : </dev/tty ) 2>/dev/null; then echo tty-ok; else echo tty-fail; fi').run({ status: true });
        await new vc.Command('sh', '-c', 'exec 2>' + ${JSON.stringify(ttyLog)} + '; ( : </dev/tty ); echo rc=$? >&2; exec sleep 30')
          .daemonize().setPidFile(${JSON.stringify(pidFile)}).run();
        // A plain child in the parent's process group: the group SIGTERM must reach it.
        const plain = new vc.Command('sleep', '31').runAsync({ autoReap: false });
        process.stdout.write(JSON.stringify({ pid: process.pid, pgrp: Number(st[2]), sid: Number(st[3]), tty: Number(st[4]), ctl: String(ctl.stdout).trim(), plain }) + '\\n');
        setInterval(() => {}, 1000);
      })();
    `,
    );
    const term = spawn('script', ['-qec', `exec ${process.execPath} -r ${TS_REGISTER} ${script}`, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: '/usr/bin:/bin', VC_TEST_ENTRY: PACKAGE_ENTRY, TERM: 'dumb' },
    });
    outside.push(term);
    let out = '';
    term.stdout.on('data', (d) => (out += d));
    expect(await waitFor(() => /\{.*\}/.test(out), 15000), `no report from the parent under script(1): ${out}`).toBe(true);
    const info = JSON.parse(/\{.*\}/.exec(out)![0]) as { pid: number; pgrp: number; sid: number; tty: number; ctl: string; plain: number };
    // Preconditions: the parent has a controlling terminal, and its children can open it.
    expect(info.tty).not.toBe(0);
    expect(info.ctl).toBe('tty-ok');
    const daemon = readPid(pidFile);
    daemons.add(info.plain);

    process.kill(info.pid, 'SIGKILL');
    expect(await waitFor(() => !isAlive(info.pid), 2000)).toBe(true);
    try {
      process.kill(-info.pgrp, 'SIGTERM');
    } catch {
      // the group may be empty already
    }
    expect(await waitFor(() => !isAlive(info.plain), 2000), 'the group SIGTERM did not reach the plain child').toBe(true);
    await sleep(200);
    expect(isAlive(daemon), 'the daemon died with its parent or its group').toBe(true);
    const st = procStat(daemon)!;
    expect(st.pgrp).not.toBe(info.pgrp);
    expect(st.session).not.toBe(info.sid);
    expect(st.ttyNr).toBe(0);
    expect(fs.readFileSync(ttyLog, 'utf8')).toMatch(/No such device or address[\s\S]*rc=2/);
    // Cleanup through the pidfile pid.
    process.kill(readPid(pidFile), 'SIGTERM');
    expect(await waitFor(() => !isAlive(daemon), 2000)).toBe(true);
  }, 30000);
});
