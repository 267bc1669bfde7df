/**
 * Adversarial tests of reaping, pids and lifecycle:
 *
 * Counts are those of test:all; the quick `npm test` runs fewer (helpers/scale.ts).
 * - zero zombies across 1000 mixed runs, including disposed commands and
 *   commands dropped with a running child and garbage-collected;
 * - coexistence with child_process: 400 children in parallel, no exit
 *   lost or late, and (under strace) no wait on pid -1 / P_ALL;
 * - the parent ignores SIGCHLD: a clear error or the right status, never a
 *   silent 0, never a hang;
 * - pid-reuse safety: a pid recycled into another process after the exit
 *   is never signalled (abort(), pidAbort()); 10,000 abort/exit races with
 *   canaries; under strace every signal goes through pidfd_send_signal, never
 *   after the reap;
 * - abort escalation, idempotence, dispose, libvirt test19;
 * - concurrent waits (a Worker kills the child), reruns, a second run
 *   while the first runs, re-captured output.
 *
 * test/integration/no-leaks.test.ts covers 2000 mixed runs for fds and
 * children; libvirt-suite.test.ts covers test1/2/17/19 plainly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Command, CommandError, pidAbort, pidWait } from '../../src/index';
import { killChildProcesses, killPids } from '../helpers/daemon';
import { HELPER, SIGTOOL } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { expectChildOk, runNodeChild } from '../helpers/node-child';
import { childrenOf, isAlive, procStat, sleep, waitFor, zombieChildren } from '../helpers/proc';
import { parseReport, sigBit } from '../helpers/report';
import { isRoot } from '../helpers/root';
import { sanitizerSkip } from './support/common';
import { buildSupport } from './support/build';
import { scaled } from '../helpers/scale';
import { useTmpDir } from '../helpers/tmp';
import { analyseSignals, needTools, parseStrace, rejection, retNum, straceArgv, support, thrown } from './support/process-tools';

const inv = useInvariants();
const tmp = useTmpDir('vc-adv-reap-');

let S: ReturnType<typeof support>;
beforeAll(() => {
  S = support();
});

// Processes started outside vircommand (canaries, orphans): killed after each test.
const outside: ChildProcess[] = [];
const orphans = new Set<number>();
afterEach(async () => {
  // bounded: an exit stolen by someone else's waitpid would never be reported
  await killChildProcesses(outside, 2000);
  await killPids(orphans);
});

function exposeGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

function canary(): ChildProcess {
  const c = spawn('sleep', ['600'], { stdio: 'ignore' });
  outside.push(c);
  return c;
}

// ------------------------------------------------------------------------------ zombies

type Kind28 = 'success' | 'exit' | 'signal' | 'execFail' | 'hookFail' | 'aborted' | 'disposed' | 'dropped';
const KINDS28: Kind28[] = ['success', 'exit', 'signal', 'execFail', 'hookFail', 'aborted', 'disposed', 'dropped'];

describe('zero zombies across all paths', () => {
  it(`${scaled(1000, 300)} mixed runs: every outcome exactly as its kind, no zombie after 1 s, dropped commands collected`, async () => {
    const gc = exposeGc();
    const collected = new Map<number, boolean>(); // pid -> was it still our live child when collected
    const registry = new FinalizationRegistry<number>((pid) => {
      const st = procStat(pid);
      collected.set(pid, st !== null && st.ppid === process.pid);
    });
    const droppedPids: number[] = [];
    const outcomes = new Map<number, string>();
    const record = (i: number, o: string) => {
      if (outcomes.has(i)) throw new Error(`run ${i} observed twice: ${outcomes.get(i)} then ${o}`);
      outcomes.set(i, o);
    };
    const expected: Record<Kind28, string> = {
      success: 'exit 0',
      exit: 'exit 3',
      signal: 'SIGKILL',
      execFail: 'exec ENOENT',
      hookFail: 'hook ENOTSUP',
      aborted: 'ABORT_ERR',
      disposed: 'gone',
      dropped: 'dropped',
    };
    const describe28 = (e: unknown): string => {
      if (!(e instanceof CommandError)) return `not a CommandError: ${String(e)}`;
      if (e.code === 'ABORT_ERR') return 'ABORT_ERR';
      if (e.stage) return `${e.stage} ${e.code}`;
      if (e.signal) return e.signal;
      return `exit ${e.exitStatus}`;
    };

    const one = async (kind: Kind28, i: number): Promise<void> => {
      switch (kind) {
        case 'success':
          record(i, `exit ${(await new Command(HELPER, '--no-stdio').run()).exitStatus}`);
          return;
        case 'exit':
          record(i, describe28(await rejection(new Command(HELPER, '--no-stdio', '--exit', '3').run())));
          return;
        case 'signal':
          record(i, describe28(await rejection(new Command(HELPER, '--no-stdio', '--signal', '9').run())));
          return;
        case 'execFail':
          record(i, describe28(await rejection(new Command(`${HELPER}-missing`).run())));
          return;
        case 'hookFail':
          record(i, describe28(await rejection(new Command('true').setPreExecHook({ library: S.hooks, symbol: 'fail_enotsup' }).run())));
          return;
        case 'aborted': {
          const cmd = new Command(HELPER, '--no-stdio', '--sleep', '10000');
          const p = cmd.run();
          await cmd.abort({ grace: 0 });
          record(i, describe28(await rejection(p)));
          return;
        }
        case 'disposed': {
          let pid = 0;
          {
            using cmd = new Command(HELPER, '--no-stdio', '--sleep', '10000');
            pid = cmd.runAsync();
          }
          // Killed and reaped before dispose returned.
          record(i, procStat(pid) === null ? 'gone' : `still there: ${JSON.stringify(procStat(pid))}`);
          return;
        }
        case 'dropped': {
          const cmd = new Command(HELPER, '--no-stdio', '--sleep', '30');
          const pid = cmd.runAsync();
          droppedPids.push(pid);
          registry.register(cmd, pid);
          record(i, 'dropped');
          return;
        }
      }
    };

    const RUNS = scaled(1000, 300);
    const BATCH = 10;
    for (let start = 0; start < RUNS; start += BATCH) {
      const batch: Promise<void>[] = [];
      for (let i = start; i < start + BATCH; i++) {
        batch.push(one(KINDS28[i % KINDS28.length], i).catch((e) => record(i, `threw ${String(e)}`)));
      }
      await Promise.all(batch);
      if (start % 200 === 0) gc();
    }
    // Every run ended exactly as its kind says.
    const wrong = [...outcomes].filter(([i, o]) => o !== expected[KINDS28[i % KINDS28.length]]);
    expect(wrong.slice(0, 10), `${wrong.length} runs ended wrongly`).toEqual([]);
    expect(outcomes.size).toBe(RUNS);

    // The dropped children sleep 30 ms: within 1 s after that, nothing of ours is left, zombie or live.
    const t0 = Date.now();
    const clean = await waitFor(() => childrenOf(process.pid).length === 0, 1030);
    expect(clean, `left after ${Date.now() - t0} ms: ${JSON.stringify(childrenOf(process.pid))}`).toBe(true);
    expect(zombieChildren()).toEqual([]);

    // Dropped commands are collectable once their child ended, and none was collected with an
    // unreaped child: the reap does not depend on the Command object staying alive.
    for (let round = 0; round < 10 && collected.size < droppedPids.length; round++) {
      gc();
      await sleep(20);
    }
    expect(collected.size, `${collected.size} of ${droppedPids.length} dropped commands were collected`).toBe(droppedPids.length);
    for (const pid of collected.keys()) {
      const st = procStat(pid);
      expect(st === null || st.ppid !== process.pid, `collected command's child ${pid}: ${JSON.stringify(st)}`).toBe(true);
    }
  }, 120000);
});

// ------------------------------------------------------------------------ child_process

const BASH_RANDOM_EXIT = 'c=$((RANDOM % 7)); echo $c; exit $c';

async function coexist(n: number): Promise<{ mismatches: string[]; lateExits: string[] }> {
  const mismatches: string[] = [];
  const lateExits: string[] = [];
  const theirs = Array.from(
    { length: n },
    (_, i) =>
      new Promise<void>((resolve) => {
        const child = spawn('bash', ['-c', BASH_RANDOM_EXIT], { stdio: ['ignore', 'pipe', 'ignore'] });
        let out = '';
        let stdoutEnd = 0;
        child.stdout.on('data', (d) => (out += d));
        child.stdout.on('end', () => (stdoutEnd = Date.now()));
        const watchdog = setTimeout(() => {
          lateExits.push(`child_process ${i} (pid ${child.pid}): no 'exit' event within 10 s`);
          resolve();
        }, 10000);
        child.once('exit', (code) => {
          clearTimeout(watchdog);
          const at = Date.now();
          // stdout may end just after 'exit'; wait for it before comparing
          const check = () => {
            if (Number(out.trim()) !== code) mismatches.push(`child_process ${i}: printed ${JSON.stringify(out)}, exit ${code}`);
            if (stdoutEnd && at - stdoutEnd > 1000) lateExits.push(`child_process ${i}: 'exit' ${at - stdoutEnd} ms after its output ended`);
            resolve();
          };
          if (child.stdout.readableEnded) check();
          else
            child.stdout.once('end', () => {
              stdoutEnd ||= Date.now();
              check();
            });
        });
      }),
  );
  const ours = Array.from({ length: n }, async (_, i) => {
    const r = await new Command('bash', '-c', BASH_RANDOM_EXIT).run({ status: true });
    if (Number(String(r.stdout).trim()) !== r.status) mismatches.push(`vircommand ${i}: printed ${JSON.stringify(r.stdout)}, status ${r.status}`);
  });
  await Promise.all([...theirs, ...ours]);
  return { mismatches, lateExits };
}

const CHILD_PROCESS_SCRIPT = `
  const cp = require('child_process');
  const bad = [];
  const theirs = Array.from({ length: ARGS.n }, () => new Promise((resolve) => {
    const child = cp.spawn('bash', ['-c', ARGS.cmd], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.on('close', (code) => { if (Number(out.trim()) !== code) bad.push('cp ' + out + ' ' + code); resolve(); });
  }));
  const ours = Array.from({ length: ARGS.n }, async () => {
    const r = await new vc.Command('bash', '-c', ARGS.cmd).run({ status: true });
    if (Number(String(r.stdout).trim()) !== r.status) bad.push('vc ' + r.stdout + ' ' + r.status);
  });
  await Promise.all([...theirs, ...ours]);
  const sync = new vc.Command('bash', '-c', ARGS.cmd).runSync({ status: true });
  if (Number(String(sync.stdout).trim()) !== sync.status) bad.push('sync');
  emit({ pid: process.pid, bad });
`;

describe('coexistence with child_process', () => {
  it('200 child_process children and 200 of ours in parallel: every status right, no exit lost or late', async (ctx) => {
    // Each child_process spawn forks the whole (ASan-mapped) process: its 10 s exit bound.
    const asan = sanitizerSkip("a 10 s bound on child_process exits (each of its fork()s copies ASan's mappings)");
    if (asan) {
      console.warn(`[skip] child_process coexistence: ${asan}`);
      ctx.skip();
    }
    needTools(ctx, 'child_process coexistence', 'bash');
    const { mismatches, lateExits } = await coexist(200);
    expect(mismatches).toEqual([]);
    expect(lateExits).toEqual([]);
  }, 60000);

  it('under strace, nothing waits on pid -1 or P_ALL (only a given pid or a pidfd)', (ctx) => {
    needTools(ctx, 'child_process coexistence, strace check', 'strace', 'bash');
    const log = path.join(tmp.path, 'child-process.strace');
    const r = runNodeChild(CHILD_PROCESS_SCRIPT, {
      args: { n: 40, cmd: BASH_RANDOM_EXIT },
      prefix: straceArgv(log, ['wait4', 'waitid'], []),
      timeoutMs: 120000,
    });
    const res = expectChildOk(r) as { bad: string[] };
    expect(res.bad).toEqual([]);
    const calls = parseStrace(fs.readFileSync(log, 'utf8'));
    const waits = calls.filter((c) => c.name === 'wait4' || c.name === 'waitid');
    expect(waits.length, 'strace saw no wait at all').toBeGreaterThan(40);
    const anyChild = waits.filter((c) => (c.name === 'wait4' && /^\s*-1\b/.test(c.args)) || (c.name === 'waitid' && /^\s*P_ALL\b/.test(c.args)));
    expect(anyChild.map((c) => `${c.tid} ${c.name}(${c.args}) = ${c.ret}`)).toEqual([]);
  }, 150000);
});

// ---------------------------------------------------------------------- SIGCHLD ignored

const SIGCHLD_IGNORED_SCRIPT = `
  const sig = require(ARGS.sigtool);
  sig.ignore(17);
  const out = {};
  const outcome = async (f) => {
    const t0 = Date.now();
    try {
      const r = await f();
      return { resolved: true, status: r.status, exitStatus: r.exitStatus, ms: Date.now() - t0 };
    } catch (e) {
      return { resolved: false, message: String(e && e.message), code: e && e.code, stage: e && e.stage, errno: e && e.errno, exitStatus: e && e.exitStatus, ms: Date.now() - t0 };
    }
  };
  const modes = {
    run: (argv, o) => vc.Command.newArgs(argv).run(o),
    runSync: async (argv, o) => vc.Command.newArgs(argv).runSync(o),
    runAsync: async (argv, o) => { const c = vc.Command.newArgs(argv); c.runAsync(); return c.wait(o); },
  };
  for (const [name, f] of Object.entries(modes)) {
    out[name] = {
      trueDefault: await outcome(() => f(['true'])),
      exit3Default: await outcome(() => f(['sh', '-c', 'exit 3'])),
      exit3Status: await outcome(() => f(['sh', '-c', 'exit 3'], { status: true })),
    };
  }
  const log = ARGS.dir + '/sigchld-ignored.log';
  try { await new vc.Command(HELPER, '--log', log, '--no-stdio').run(); } catch (e) {}
  out.report = fs.readFileSync(log, 'utf8');
  out.parentIgn = status().SigIgn;
  sig.reset(17);
  out.afterRestore = await outcome(() => new vc.Command('sh', '-c', 'exit 3').run({ status: true }));
  emit(out);
`;

describe('the parent ignores SIGCHLD', () => {
  it('true and exit 3 under run, runSync and runAsync: the right status or a clear ECHILD error, never a silent 0 or a hang', () => {
    type Outcome = { resolved: boolean; status?: number; exitStatus?: number | null; message?: string; code?: string; stage?: string; ms: number };
    const res = expectChildOk(runNodeChild(SIGCHLD_IGNORED_SCRIPT, { args: { sigtool: SIGTOOL, dir: tmp.path }, timeoutMs: 30000 })) as Record<
      'run' | 'runSync' | 'runAsync',
      Record<'trueDefault' | 'exit3Default' | 'exit3Status', Outcome>
    > & {
      report: string;
      parentIgn: string;
      afterRestore: Outcome;
    };
    expect(BigInt(`0x${res.parentIgn}`) & sigBit(17), 'precondition: the parent ignores SIGCHLD').toBe(sigBit(17));
    const clearEchild = (o: Outcome, what: string) => {
      expect(o.stage, `${what}: ${o.message}`).toBe('wait');
      expect(o.code, `${what}: ${o.message}`).toBe('ECHILD');
      expect(o.message, what).toMatch(/ECHILD/);
      // The message must explain itself, not print an unknown errno.
      expect(o.message, what).not.toMatch(/Unknown error/i);
    };
    for (const mode of ['run', 'runSync', 'runAsync'] as const) {
      const m = res[mode];
      for (const [k, o] of Object.entries(m)) expect(o.ms, `${mode} ${k} took ${o.ms} ms`).toBeLessThan(5000);
      if (m.trueDefault.resolved) expect(m.trueDefault.status, `${mode} true`).toBe(0);
      else clearEchild(m.trueDefault, `${mode} true`);
      // exit 3 is never reported as success.
      expect(m.exit3Default.resolved, `${mode} exit 3 resolved`).toBe(false);
      if (m.exit3Default.code !== 'ECHILD') expect(m.exit3Default.exitStatus, `${mode} exit 3`).toBe(3);
      else clearEchild(m.exit3Default, `${mode} exit 3`);
      if (m.exit3Status.resolved) expect(m.exit3Status.status, `${mode} exit 3 { status }`).toBe(3);
      else clearEchild(m.exit3Status, `${mode} exit 3 { status }`);
    }
    // The child does not inherit the ignored SIGCHLD.
    expect(parseReport(res.report).sigIgn & sigBit(17)).toBe(0n);
    expect(res.afterRestore).toMatchObject({ resolved: true, status: 3 });
  });
});

// ---------------------------------------------------------------------------- pid reuse

/**
 * Starts `argv` so that its pid is exactly `pid`, by setting ns_last_pid (root in this pid
 * namespace) just before the fork; retries if another process takes the pid first.
 */
async function spawnAtPid(pid: number, argv: string[], orphan: boolean): Promise<{ pid: number; cp: ChildProcess | null } | null> {
  for (let attempt = 0; attempt < 40; attempt++) {
    try {
      // An orphan is the second fork of `sh -c 'cmd & echo $!'`: sh takes pid-1.
      fs.writeFileSync('/proc/sys/kernel/ns_last_pid', String(pid - (orphan ? 2 : 1)));
    } catch {
      return null;
    }
    if (orphan) {
      const sh = spawn('sh', ['-c', `${argv.join(' ')} >/dev/null 2>&1 & echo $!`], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      sh.stdout.on('data', (d) => (out += d));
      await new Promise((resolve) => sh.once('close', resolve));
      const got = Number(out.trim());
      orphans.add(got);
      if (got === pid) return { pid: got, cp: null };
      try {
        process.kill(got, 'SIGKILL');
      } catch {
        // gone
      }
    } else {
      const c = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
      outside.push(c);
      if (c.pid === pid) return { pid, cp: c };
      c.kill('SIGKILL');
    }
    await sleep(5);
  }
  return null;
}

const PID_REUSE_STRACE_SCRIPT = `
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  // (a) after the exit: abort(), free(), pidAbort() of the reaped pid.
  for (let i = 0; i < 20; i++) {
    const c = new vc.Command('true');
    const r = await c.run();
    await c.abort();
    c.free();
    await vc.pidAbort(r.pid);
  }
  // (b) abort() racing the natural exit.
  for (let i = 0; i < ARGS.n; i++) {
    const c = new vc.Command(HELPER, '--no-stdio');
    c.runAsync();
    if (i % 3 === 1) await sleep(0);
    await c.abort({ grace: i % 2 ? 0 : 50 });
  }
  // (c) two concurrent abort() calls while the child exits; the Command stays alive.
  const keep = [];
  for (let i = 0; i < ARGS.n; i++) {
    const c = new vc.Command(HELPER, '--no-stdio');
    keep.push(c);
    c.runAsync();
    const w = c.wait({ status: true }).catch((e) => e);
    await Promise.all([c.abort(), (async () => { await null; return c.abort(); })()]);
    await w;
  }
  // Real terminations (a child that is running), so that signals are seen at all.
  for (let i = 0; i < 10; i++) {
    const c = new vc.Command('sleep', '30');
    c.runAsync();
    await c.abort({ grace: 20 });
  }
  emit({ pid: process.pid });
`;

describe('pid-reuse safety', () => {
  it('(a) after the exit, abort() and pidAbort() never signal the process that now has the pid', async (ctx) => {
    if (!isRoot) {
      // Without root the pid cannot be recycled on purpose; a process that is not ours stands in.
      console.warn('[note] pid reuse: not root, so no pid is recycled (ns_last_pid); pidAbort() is tried on an orphan instead');
      const cmd = new Command('true');
      await cmd.run();
      await expect(cmd.abort()).resolves.toBeUndefined();
      const sh = spawn('sh', ['-c', 'sleep 600 >/dev/null 2>&1 & echo $!'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      sh.stdout.on('data', (d) => (out += d));
      await new Promise((resolve) => sh.once('close', resolve));
      const orphan = Number(out.trim());
      orphans.add(orphan);
      await Promise.race([pidAbort(orphan), sleep(1000)]);
      await sleep(100);
      expect(isAlive(orphan), `pidAbort() killed process ${orphan}, which is not ours`).toBe(true);
      return;
    }
    for (const orphan of [false, true]) {
      const cmd = new Command('true');
      const r = await cmd.run();
      expect(procStat(r.pid)).toBeNull();
      const recycled = await spawnAtPid(r.pid, ['sleep', '600'], orphan);
      if (recycled === null) {
        console.warn(`[skip] pid reuse: could not recycle pid ${r.pid} (ns_last_pid not writable, or the system forks too much)`);
        ctx.skip();
        return;
      }
      const canaryPid = recycled.pid;
      let exitSeen = 'no exit event';
      recycled.cp?.once('exit', (code, sig) => (exitSeen = `exit event ${code ?? sig}`));
      if (!orphan) inv.keepChild(canaryPid);
      expect(await waitFor(() => procStat(canaryPid)?.comm === 'sleep', 2000)).toBe(true);
      // The Command's own child is gone: abort() and free() are no-ops.
      await expect(cmd.abort()).resolves.toBeUndefined();
      cmd.free();
      // pidAbort(): "a pid that is gone or not ours is ignored" (src/pid.ts).
      await Promise.race([pidAbort(r.pid), sleep(1000)]);
      await sleep(100);
      const alive = isAlive(canaryPid);
      if (!alive && recycled.cp) await sleep(500);
      expect(
        alive,
        `the ${orphan ? 'orphaned' : 'child_process'} process now at pid ${r.pid} was killed` +
          (recycled.cp ? ` (child_process: ${exitSeen}; ${procStat(canaryPid) ? 'not reaped' : 'reaped by someone'})` : ''),
      ).toBe(true);
    }
  });

  const ABORTS = scaled(10000, 1000);
  it(`(b) ${ABORTS} abort() calls racing the natural exit never hit a canary`, async () => {
    const canaries: ChildProcess[] = [];
    let aborted = 0;
    for (let i = 0; i < ABORTS; i++) {
      if (i % 100 === 0) {
        const c = canary();
        canaries.push(c);
        inv.keepChild(c.pid!);
      }
      const cmd = new Command(HELPER, '--no-stdio');
      if (i % 2 === 0) {
        cmd.runAsync();
        // eslint-disable-next-line @typescript-eslint/await-thenable -- one microtask turn on purpose: abort() right after runAsync() or a turn later
        if (i % 4 === 2) await null;
        await cmd.abort({ grace: i % 8 === 0 ? 0 : 30 });
      } else {
        const ac = new AbortController();
        const p = cmd.run({ signal: ac.signal, killGrace: 0 }).then(
          () => 'exited',
          (e: CommandError) => e.code ?? 'error',
        );
        ac.abort();
        const o = await p;
        expect(['exited', 'ABORT_ERR']).toContain(o);
        if (o === 'ABORT_ERR') aborted++;
      }
    }
    for (const c of canaries) expect(c.exitCode === null && c.signalCode === null && isAlive(c.pid!), `canary ${c.pid}`).toBe(true);
    expect(canaries).toHaveLength(ABORTS / 100);
    expect(aborted).toBeGreaterThan(0);
  }, 240000);

  it('(c) abort() from two async contexts while the child exits, the Command kept alive', async () => {
    const canaries: ChildProcess[] = [];
    const keep: Command[] = [];
    for (let i = 0; i < scaled(2000, 500); i++) {
      if (i % 100 === 0) {
        const c = canary();
        canaries.push(c);
        inv.keepChild(c.pid!);
      }
      const cmd = new Command(HELPER, '--no-stdio');
      keep.push(cmd);
      cmd.runAsync();
      const w = cmd.wait({ status: true }).then(
        (r) => `exit ${r.status}`,
        (e: CommandError) => e.code,
      );
      await Promise.all([
        cmd.abort({ grace: 0 }),
        (async () => {
          // eslint-disable-next-line @typescript-eslint/await-thenable -- one microtask turn on purpose: the second abort() a turn after the first
          await null;
          return cmd.abort({ grace: 0 });
        })(),
      ]);
      expect(['exit 0', 'ABORT_ERR']).toContain(await w);
    }
    for (const c of canaries) expect(isAlive(c.pid!), `canary ${c.pid}`).toBe(true);
  }, 120000);

  const STRACE_N = scaled(300, 100); // races of each kind (b, c) under strace
  it('under strace: every signal to a child is a pidfd_send_signal, none after its reap, none by pid', (ctx) => {
    needTools(ctx, 'pid reuse, strace check', 'strace');
    const log = path.join(tmp.path, 'pid-reuse.strace');
    const traced = ['clone', 'clone3', 'close', 'pidfd_open', 'pidfd_send_signal', 'kill', 'tkill', 'tgkill', 'wait4', 'waitid'];
    const res = expectChildOk(
      runNodeChild(PID_REUSE_STRACE_SCRIPT, {
        args: { n: STRACE_N },
        prefix: straceArgv(log, traced, []),
        timeoutMs: 180000,
      }),
    ) as { pid: number };
    const calls = parseStrace(fs.readFileSync(log, 'utf8'));
    const a = analyseSignals(calls, res.pid);
    expect(a.children.size, 'strace saw no children').toBeGreaterThan(2 * STRACE_N);
    expect(
      a.killsToOthers.map((c) => `${c.tid} ${c.name}(${c.args}) = ${c.ret}`),
      'signals sent by pid',
    ).toEqual([]);
    expect(a.unmappedPidfd, 'pidfd_send_signal on an fd not known as a pidfd').toBe(0);
    expect(a.pidfdSignals.length, 'no signal was sent at all').toBeGreaterThan(10);
    for (const s of a.pidfdSignals) {
      expect(a.children.has(s.pid!), `signal to ${s.pid}, not a child`).toBe(true);
      expect(s.afterReap, `${s.sig} to ${s.pid} after its reap (= ${s.ret})`).toBe(false);
    }
    // Every child was reaped, by its own pid.
    for (const pid of a.children) expect(a.reaped.has(pid), `child ${pid} never reaped`).toBe(true);
    expect(calls.filter((c) => c.name === 'wait4' && retNum(c) === -1 && !/ECHILD|EINTR/.test(c.ret))).toEqual([]);
  }, 240000);
});

// -------------------------------------------------------------------------------- abort

describe('abort escalation, idempotence and dispose', () => {
  it('(a) a child that traps SIGTERM: SIGTERM first, SIGKILL after the 200 ms grace, settled within ~300 ms', async () => {
    const out = { value: undefined as string | Buffer | undefined };
    const cmd = new Command('sh', '-c', 'trap "echo got-term" TERM; echo ready; while :; do sleep 0.02; done').setOutputBuffer(out);
    const pid = cmd.runAsync();
    // The trap is installed once "ready" could be printed: wait for sh's SigCgt to show it.
    expect(
      await waitFor(() => {
        try {
          return (BigInt(`0x${/SigCgt:\s*(\S+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]}`) & sigBit(15)) !== 0n;
        } catch {
          return false;
        }
      }, 5000),
    ).toBe(true);
    const w = cmd.wait().then(
      () => null,
      (e: CommandError) => e,
    );
    const t0 = Date.now();
    await cmd.abort({ grace: 200 });
    const ms = Date.now() - t0;
    const err = await w;
    expect(err).toBeInstanceOf(CommandError);
    expect(err!.code).toBe('ABORT_ERR');
    expect(err!.signal, 'the child ignored SIGTERM, so SIGKILL ended it').toBe('SIGKILL');
    expect(String(out.value), 'SIGTERM came first').toContain('got-term');
    expect(ms, `abort settled after ${ms} ms`).toBeGreaterThanOrEqual(190);
    // Within 300 ms (a 200 ms grace, then SIGKILL); +200 ms for a loaded CI machine.
    expect(ms, `abort settled after ${ms} ms`).toBeLessThan(500);
    expect(procStat(pid)).toBeNull();
  });

  it('(b) abort() twice (together and in sequence) and (c) after the exit do not throw', async () => {
    const cmd = new Command('sleep', '30');
    const pid = cmd.runAsync();
    await expect(Promise.all([cmd.abort(), cmd.abort()])).resolves.toEqual([undefined, undefined]);
    await expect(cmd.abort()).resolves.toBeUndefined();
    expect(procStat(pid)).toBeNull();
    const done = new Command('true');
    await done.run();
    await expect(done.abort()).resolves.toBeUndefined();
    await expect(done.abort({ grace: 0 })).resolves.toBeUndefined();
    const async = new Command('true');
    async.runAsync();
    await async.wait();
    await expect(async.abort()).resolves.toBeUndefined();
  });

  it('(d) `using` while it runs: killed and reaped before dispose returns', () => {
    let pid = 0;
    {
      using cmd = new Command(HELPER, '--no-stdio', '--sleep', '30000');
      pid = cmd.runAsync();
      expect(isAlive(pid)).toBe(true);
    }
    expect(procStat(pid), 'neither running nor a zombie').toBeNull();
  });

  it('(e) libvirt test19 through run(): sleep 100, abort: ESRCH for kill(pid, 0), reaped', async () => {
    const cmd = new Command('sleep', '100');
    const p = cmd.run();
    const pid = cmd.pid!;
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(true);
    await cmd.abort();
    let code = '';
    try {
      process.kill(pid, 0);
    } catch (e) {
      code = (e as NodeJS.ErrnoException).code ?? '';
    }
    expect(code).toBe('ESRCH');
    expect(procStat(pid)).toBeNull();
    const err = await rejection(p);
    expect(err.code).toBe('ABORT_ERR');
  });
});

// --------------------------------------------------------------------- concurrent waits

describe('concurrent wait and rerun semantics', () => {
  it('(a) two wait() calls while a Worker kills the child see the same end', async () => {
    const killIn = (pid: number) =>
      new Promise<void>((resolve, reject) => {
        const w = new Worker('require("worker_threads").parentPort.postMessage(process.kill(require("worker_threads").workerData, "SIGKILL"))', {
          eval: true,
          workerData: pid,
        });
        w.once('message', () => resolve());
        w.once('error', reject);
        w.once('exit', () => resolve());
      });
    // Raw status: both resolve.
    const raw = new Command('sleep', '30').rawStatus();
    const pid = raw.runAsync();
    const [r1, r2] = await Promise.all([raw.wait({ status: true }), raw.wait({ status: true }), killIn(pid)]);
    expect(r1).toEqual(r2);
    expect(r1).toMatchObject({ pid, status: 9, signal: 'SIGKILL', signalNumber: 9, exitStatus: null });
    // Default policy: both reject with the same error.
    const plain = new Command('sleep', '30');
    const pid2 = plain.runAsync();
    const [e1, e2] = await Promise.all([rejection(plain.wait()), rejection(plain.wait()), killIn(pid2)]);
    expect(e1.message).toBe(e2.message);
    expect([e1.signal, e2.signal]).toEqual(['SIGKILL', 'SIGKILL']);
  });

  it('(b) the same Command run twice in sequence gives the same result', async () => {
    const cmd = new Command('sh', '-c', 'echo out; echo err >&2; exit 3');
    const a = await cmd.run({ status: true });
    const b = await cmd.run({ status: true });
    expect(b.pid).not.toBe(a.pid);
    expect({ ...b, pid: 0 }).toEqual({ ...a, pid: 0 });
    const s = cmd.runSync({ status: true });
    expect({ ...s, pid: 0 }).toEqual({ ...a, pid: 0 });
  });

  it('(c) a second run while the first runs is refused with its pid, and the first completes intact', async () => {
    const data = `${'x'.repeat(200000)}\n`;
    const out = { value: undefined as string | Buffer | undefined };
    const cmd = new Command(HELPER, '--sleep', '300').setInputBuffer(data).setOutputBuffer(out);
    const first = cmd.run();
    // run() may wait a turn to spawn when this turn has already spawned a lot (run/pacing.ts)
    while (cmd.pid === null) await new Promise((resolve) => setImmediate(resolve));
    const pid = cmd.pid;
    const msg = new RegExp(`command is already running as pid ${pid}`);
    const again = await rejection(cmd.run());
    expect(again.message).toMatch(msg);
    expect(again.code).toBe('ERR_COMMAND_USAGE');
    expect(thrown(() => cmd.runSync()).message).toMatch(msg);
    expect(thrown(() => cmd.runAsync()).message).toMatch(msg);
    const r = await first;
    expect(r.pid).toBe(pid);
    expect(r.stdout).toBe(`BEGIN STDOUT\n${data}END STDOUT\n`);
    expect(out.value).toBe(r.stdout);
    expect(r.stderr).toBe(`BEGIN STDERR\n${data}END STDERR\n`);
  });

  it('(d) output re-captured on the second run: the fresh output only, no growth', async () => {
    const out = { value: undefined as string | Buffer | undefined };
    const err = { value: undefined as string | Buffer | undefined };
    const cmd = new Command('sh', '-c', 'echo "run $$"; echo "err $$" >&2').setOutputBuffer(out).setErrorBuffer(err);
    const a = await cmd.run();
    expect(out.value).toBe(`run ${a.pid}\n`);
    const b = await cmd.run();
    expect(out.value).toBe(`run ${b.pid}\n`);
    expect(err.value).toBe(`err ${b.pid}\n`);
    expect(b.stdout).toBe(out.value);
    const c = cmd.runSync();
    expect(out.value).toBe(`run ${c.pid}\n`);
    expect(String(out.value).length).toBe(String(a.stdout).length - String(a.pid).length + String(c.pid).length);
  });
});

// ------------------------------------------------- released before exec on the fork() path

describe('a child released before it reaches exec (fork() path)', () => {
  // The child announces its exec, or reports a failure, on the status pipe. Once the command
  // is freed nobody reads it: the write fails with EPIPE, and its SIGPIPE must not kill the
  // child (it used to: death by signal 13 instead of the program's own status).
  it('runs its program and exits with its own status; a failed exec still exits 127', async () => {
    const hold = { library: S.hooks, symbol: 'delay_ms', data: '300' };
    const ok = new Command('/bin/sh', '-c', 'exit 7').setPreExecHook(hold);
    const okPid = ok.runAsync({ autoReap: false });
    ok.free();
    const missing = new Command(`${HELPER}-missing`).setPreExecHook(hold);
    const missingPid = missing.runAsync({ autoReap: false });
    missing.free();
    expect(await pidWait(okPid, { status: true })).toBe(7);
    expect(await pidWait(missingPid, { status: true })).toBe(127);
  });
});

// ------------------------------------------------------------------- without pidfds

// Kernels before 5.3 and valgrind 3.19 have no pidfd_open/pidfd_send_signal (ENOSYS). There
// the session polls waitpid(pid, WNOHANG) with a backoff and signals with kill(2) instead
// (native/core/io_session.cc). A seccomp filter refuses both calls in a node child; the
// fork() path (a native hook, a handshake) then gets no pidfd at all, and every outcome must
// still be exact, with nothing left behind.
describe('without pidfds (pidfd_open and pidfd_send_signal refused with ENOSYS)', () => {
  it('sync and async runs on the fork() path: statuses, capture, stdin, timeouts, handshake', () => {
    const sup = buildSupport();
    const r = runNodeChild(
      `
      const hook = { library: ARGS.hooks, symbol: 'hook_ok' };
      const out = {};
      // the filter is in force: pidfd_open fails with ENOSYS in this process's children too
      out.probe = require('child_process').spawnSync('python3', ['-c',
        'import os\\ntry:\\n os.pidfd_open(os.getpid())\\nexcept OSError as e:\\n print(e.errno)'], { encoding: 'utf8' }).stdout.trim();
      // released children: pidWait polls, pidAbort signals with kill(2)
      const d = new vc.Command('/bin/sh', '-c', 'sleep 0.1; exit 6').setPreExecHook(hook);
      const pid = d.runAsync({ autoReap: false });
      d.free();
      out.pidWait = await vc.pidWait(pid, { status: true });
      const e = new vc.Command('/bin/sleep', '30');
      const epid = e.runAsync({ autoReap: false });
      e.free();
      await vc.pidAbort(epid);
      out.aborted = fs.existsSync('/proc/' + epid);
      out.sync = new vc.Command('/bin/sh', '-c', 'cat; echo err >&2; exit 3').setPreExecHook(hook)
        .setInputBuffer('x'.repeat(300000)).setOutputBuffer().setErrorBuffer().runSync({ status: true });
      out.sync = { status: out.sync.status, out: out.sync.stdout.length, err: out.sync.stderr };
      const t0 = Date.now();
      try { new vc.Command('/bin/sleep', '30').setPreExecHook(hook).runSync({ timeout: 200, killGrace: 100 }); }
      catch (e) { out.syncTimeout = { timedOut: e.timedOut, signal: e.signal, ms: Date.now() - t0 }; }
      const a = await new vc.Command('/bin/sh', '-c', 'exit 5').setPreExecHook(hook).run({ status: true });
      out.async = a.status;
      try { await new vc.Command('/bin/sleep', '30').setPreExecHook(hook).run({ timeout: 200, killGrace: 100 }); }
      catch (e) { out.asyncTimeout = { timedOut: e.timedOut, signal: e.signal }; }
      const h = new vc.Command('/bin/echo', 'after').requireHandshake().setOutputBuffer();
      h.runAsync();
      await h.handshakeWait();
      await h.handshakeNotify();
      out.handshake = (await h.wait()).stdout;
      const k = new vc.Command('/bin/sleep', '30').setPreExecHook(hook);
      k.runAsync();
      await k.abort();
      out.abort = 'done';
      out.zombies = fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).filter((n) => {
        try { const st = fs.readFileSync('/proc/' + n + '/stat', 'utf8'); const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
          return Number(f[1]) === process.pid; } catch { return false; }
      }).length;
      emit(out);
    `,
      { prefix: [sup.seccompLaunch, 'NOPIDFD'], args: { hooks: sup.hooks } },
    );
    const out = expectChildOk(r) as Record<string, unknown>;
    expect(out.probe).toBe(String(os.constants.errno.ENOSYS));
    expect(out.pidWait).toBe(6);
    expect(out.aborted).toBe(false);
    expect(out.sync).toEqual({ status: 3, out: 300000, err: 'err\n' });
    expect(out.syncTimeout).toMatchObject({ timedOut: true, signal: 'SIGTERM' });
    expect(out.async).toBe(5);
    expect(out.asyncTimeout).toEqual({ timedOut: true, signal: 'SIGTERM' });
    expect(out.handshake).toBe('after\n');
    expect(out.abort).toBe('done');
    expect(out.zombies).toBe(0);
  });
});
