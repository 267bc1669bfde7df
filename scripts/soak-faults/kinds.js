'use strict';
// The kinds of spawn of the fault soak's main loop. Each kind has a weight (its share of the
// mix), the fault it injects (null for ordinary runs), how many spawns one run of it makes, and
// whether it is started in the background (it waits on timers or drains, so the loop goes on
// meanwhile). run(ctx, i) returns an outcome (outcome.js) or throws Unexplained.
//
// Faults: 'nproc' (EAGAIN from RLIMIT_NPROC at execve, as nobody or --nproc-uid), 'emfile' (EMFILE in the
// child: its dynamic loader runs out of fds), 'signal' (children killed by signals, sent by
// themselves, by the parent, or by a timeout), 'grandchild' (a grandchild holds the captured
// pipes after the child exited), 'midwrite' (the child dies while the parent writes its stdin or
// reads its output). EMFILE and EAGAIN in the parent itself run in phases of their own
// (phase.js).

const fs = require('node:fs');
const path = require('node:path');
const probe = require('./probe');
const { ok, failed, handled, expectFailure, check, Unexplained, describeError } = require('./outcome');

const MISSING = '/nonexistent/vircommand-soak/missing-program';
const NOT_IN_PATH = 'vircommand-soak-no-such-program';
const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const BIG_INPUT = Buffer.alloc(2 << 20, 0x61); // 2 MiB: more than the 1 MiB pipe we ask for
const MID_INPUT = Buffer.alloc(256 << 10, 0x62);

/** The command with a clean common environment plus the soak's marker (for strays). */
function marked(ctx, cmd) {
  return cmd.addEnvPassCommon().addEnvPair(probe.MARK_NAME, ctx.mark);
}

/** run() for odd i, runSync() for even i: both paths get each kind. */
function runEither(cmd, i, options) {
  return i % 2 ? cmd.run(options) : cmd.runSync(options);
}

/** SIGKILL to the process group of a setsid() child: its grandchildren. ESRCH: none left. */
function killGroup(pgid) {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch (e) {
    if (e.code !== 'ESRCH') throw e;
  }
}

function notOurChildAnyMore(pid) {
  const st = probe.readStat(pid);
  return st === null || st.ppid !== process.pid;
}

/**
 * A run whose timeout fired while it still waited for its turn to spawn (run() paces bursts:
 * with many background kinds at once on a loaded machine a short timeout can end a queued
 * run): ETIMEDOUT with no child started, so no pid and no signal. That is the documented end of
 * a queued run, not a lost child.
 */
function queuedTimeout(e) {
  return e.code === 'ETIMEDOUT' && e.timedOut && e.pid === null && !e.signal ? 'ETIMEDOUT while queued for its turn to spawn (no child started)' : null;
}

const SELF_SIGNALS = ['SEGV', 'TERM', 'KILL', 'ABRT', 'BUS'];
const PARENT_SIGNALS = ['SIGKILL', 'SIGTERM', 'SIGSEGV', 'SIGABRT'];

/** A grandchild that outlives the child and keeps stdout and stderr open. */
function grandchildCommand(ctx, script = 'sleep 3 & echo $!') {
  return marked(ctx, new ctx.vc.Command('/bin/sh', '-c', script)).setsid();
}

function expectOutputIncomplete(r, what) {
  check(r.outputIncomplete === true, `${what}: outputIncomplete ${r.outputIncomplete}, stdout ${JSON.stringify(r.stdout)}`);
  return handled('resolved with outputIncomplete after the 200 ms drain', 'grandchild');
}

function kinds(ctx) {
  const { Command, PASS_FD_CLOSE_PARENT, pidWait } = ctx.vc;
  return [
    // ---- ordinary runs --------------------------------------------------------------------
    {
      name: 'runSync /bin/true',
      weight: 160,
      run() {
        check(new Command('/bin/true').runSync().status === 0, 'status');
        return ok();
      },
    },
    {
      name: 'run() /bin/echo, setOutputBuffer',
      weight: 120,
      async run() {
        const ref = {};
        const r = await new Command('/bin/echo', 'hello').setOutputBuffer(ref).run();
        check(r.stdout === 'hello\n' && ref.value === 'hello\n', `stdout ${JSON.stringify(r.stdout)}`);
        return ok();
      },
    },
    {
      name: 'runAsync()+wait() cat, stdin buffer, setOutputBuffer',
      weight: 100,
      async run(_ctx, i) {
        const c = new Command('/bin/cat').setInputBuffer(`line ${i}\n`).setOutputBuffer();
        c.runAsync();
        const r = await c.wait();
        check(r.stdout === `line ${i}\n`, `stdout ${JSON.stringify(r.stdout)}`);
        return ok();
      },
    },
    {
      name: 'runSync/run() stdout+stderr captured',
      weight: 50,
      async run(_ctx, i) {
        const r = await runEither(new Command('/bin/sh', '-c', 'echo out; echo err >&2'), i);
        check(r.stdout === 'out\n' && r.stderr === 'err\n', `stdout ${JSON.stringify(r.stdout)} stderr ${JSON.stringify(r.stderr)}`);
        return ok();
      },
    },
    {
      name: 'run() stdout and stderr into one BufferRef',
      weight: 30,
      async run() {
        const ref = {};
        await new Command('/bin/sh', '-c', 'echo a; echo b >&2; echo c').setOutputBuffer(ref).setErrorBuffer(ref).run();
        check(ref.value === 'a\nb\nc\n', `merged ${JSON.stringify(ref.value)}`);
        return ok();
      },
    },
    {
      name: 'runSync/run() 256 KiB stdin through cat',
      weight: 30,
      async run(_ctx, i) {
        const r = await runEither(new Command('/bin/cat').setInputBuffer(MID_INPUT), i, { encoding: 'buffer' });
        check(Buffer.isBuffer(r.stdout) && r.stdout.equals(MID_INPUT), `stdout ${r.stdout && r.stdout.length} bytes`);
        return ok();
      },
    },
    {
      name: 'runSync/run() 2 MiB stdin, child reads 10 bytes (EPIPE)',
      weight: 30,
      async run(_ctx, i) {
        const r = await runEither(new Command('head', '-c', '10').setInputBuffer(BIG_INPUT), i);
        check(r.status === 0 && r.stdout === 'a'.repeat(10), `status ${r.status} stdout ${JSON.stringify(r.stdout)}`);
        return ok('ok (EPIPE on stdin is not an error)');
      },
    },
    {
      name: 'runSync/run() passFD(CLOSE_PARENT)',
      weight: 30,
      async run(c, i) {
        const file = path.join(c.tmp, `passfd-${i % 8}.out`);
        const fd = fs.openSync(file, 'w');
        // /proc/self/fd/N: sh's `>&N` takes one digit only. Opening it fails unless fd N is open.
        const cmd = new Command('/bin/sh', '-c', `echo passed-${i} > /proc/self/fd/${fd}`).passFD(fd, PASS_FD_CLOSE_PARENT);
        let pending;
        try {
          pending = runEither(cmd, i);
        } finally {
          // The fd is closed once the child is started (run() starts it before its first await).
          if (probe.isOpen(fd)) {
            fs.closeSync(fd);
            // eslint-disable-next-line no-unsafe-finally -- an fd left open outranks how the start went: it is the finding
            throw new Unexplained(`passFD(${fd}, PASS_FD_CLOSE_PARENT): still open in the parent after the start`);
          }
        }
        await pending;
        const text = fs.readFileSync(file, 'utf8');
        check(text === `passed-${i}\n`, `file holds ${JSON.stringify(text)}`);
        return ok();
      },
    },
    {
      name: 'daemonize() + setPidFile()',
      weight: 2,
      async run(c, i) {
        const pidFile = path.join(c.tmp, `daemon-${i}.pid`);
        await runEither(marked(c, new Command('/bin/sleep', '60')).daemonize().setPidFile(pidFile), i);
        const pid = Number(fs.readFileSync(pidFile, 'utf8'));
        const st = probe.readStat(pid);
        check(st !== null && st.comm === 'sleep' && st.ppid !== process.pid, `daemon ${pid}: ${JSON.stringify(st)}`);
        process.kill(pid, 'SIGKILL');
        fs.unlinkSync(pidFile);
        return ok();
      },
    },
    {
      name: 'second daemon on a locked pidfile',
      weight: 1,
      spawns: 2,
      async run(c, i) {
        const pidFile = path.join(c.tmp, `locked-${i}.pid`);
        await runEither(marked(c, new Command('/bin/sleep', '60')).daemonize().setPidFile(pidFile), i);
        const pid = Number(fs.readFileSync(pidFile, 'utf8'));
        try {
          return await expectFailure(
            () => runEither(marked(c, new Command('/bin/sleep', '60')).daemonize().setPidFile(pidFile), i + 1),
            (e) => (e.stage === 'pidfile' && e.code === 'EAGAIN' && e.value === pid ? 'expected stage pidfile EAGAIN (locked by the first daemon)' : null),
          );
        } finally {
          process.kill(pid, 'SIGKILL');
          const left = Number(fs.readFileSync(pidFile, 'utf8'));
          fs.unlinkSync(pidFile);
          check(left === pid, `the pidfile was changed by the second daemon: ${left} instead of ${pid}`);
        }
      },
    },
    {
      name: 'run() /bin/false',
      weight: 50,
      run() {
        return expectFailure(
          () => new Command('/bin/false').run(),
          (e) => (e.exitStatus === 1 ? 'expected exit status 1' : null),
        );
      },
    },
    {
      name: 'runSync exit 3 with stderr',
      weight: 30,
      run() {
        return expectFailure(
          () => new Command('/bin/sh', '-c', 'echo oops >&2; exit 3').runSync(),
          (e) => (e.exitStatus === 3 && e.stderr === 'oops\n' && e.message.endsWith('exit status 3: oops') ? 'expected exit status 3 (stderr quoted)' : null),
        );
      },
    },
    {
      name: 'run({ status: true }) exit 5',
      weight: 30,
      async run() {
        const r = await new Command('/bin/sh', '-c', 'exit 5').run({ status: true });
        check(r.status === 5, `status ${r.status}`);
        return ok();
      },
    },
    {
      name: 'runSync/run() missing binary (absolute path)',
      weight: 40,
      run(_c, i) {
        return expectFailure(
          () => runEither(new Command(MISSING), i),
          (e) => (e.stage === 'exec' && e.code === 'ENOENT' && e.exitStatus === 127 ? 'expected stage exec ENOENT (missing binary)' : null),
        );
      },
    },
    {
      name: 'runSync/run() program not in PATH',
      weight: 20,
      run(_c, i) {
        return expectFailure(
          () => runEither(new Command(NOT_IN_PATH), i),
          (e) => (e.stage === 'exec' && e.code === 'ENOENT' && e.pid === null ? 'expected ENOENT (not in PATH, no child)' : null),
        );
      },
    },
    {
      name: 'run() missing working directory',
      weight: 20,
      run() {
        return expectFailure(
          () => new Command('/bin/true').setWorkingDirectory('/nonexistent/vircommand-soak').run(),
          (e) => (e.stage === 'chdir' && e.code === 'ENOENT' ? 'expected stage chdir ENOENT' : null),
        );
      },
    },
    {
      name: 'run({ timeout: 20 }) sleep 5',
      weight: 4,
      background: true,
      run() {
        return expectFailure(
          () => new Command('/bin/sleep', '5').run({ timeout: 20 }),
          (e) => (e.code === 'ETIMEDOUT' && e.timedOut && e.signal === 'SIGTERM' ? 'expected ETIMEDOUT (SIGTERM)' : queuedTimeout(e)),
        );
      },
    },
    {
      name: 'runSync({ timeout: 10 }) sleep 5',
      weight: 2,
      run() {
        return expectFailure(
          () => new Command('/bin/sleep', '5').runSync({ timeout: 10 }),
          (e) => (e.code === 'ETIMEDOUT' && e.signal === 'SIGTERM' ? 'expected ETIMEDOUT (SIGTERM)' : null),
        );
      },
    },
    {
      name: 'run({ signal }) aborted after 5 ms',
      weight: 4,
      background: true,
      run() {
        const ac = new AbortController();
        setTimeout(() => ac.abort(), 5);
        return expectFailure(
          () => new Command('/bin/sleep', '5').run({ signal: ac.signal }),
          (e) => (e.code === 'ABORT_ERR' ? 'expected ABORT_ERR' : null),
        );
      },
    },
    {
      name: 'runAsync() then abort() with a wait() pending',
      weight: 4,
      async run() {
        const c = new Command('/bin/sleep', '5');
        c.runAsync();
        const w = c.wait();
        await c.abort({ grace: 50 });
        return expectFailure(
          () => w,
          (e) => (e.code === 'ABORT_ERR' && e.signal === 'SIGTERM' ? 'expected ABORT_ERR (SIGTERM)' : null),
        );
      },
    },
    {
      name: 'runAsync() then free() while running',
      weight: 4,
      run() {
        const c = new Command('/bin/sleep', '5');
        const pid = c.runAsync();
        c.free();
        check(notOurChildAnyMore(pid), `child ${pid} is still our child after free()`);
        return ok('ok (killed and reaped by free())');
      },
    },
    {
      name: 'runAsync({ autoReap: false }) + free() + pidWait()',
      weight: 10,
      async run() {
        const c = new Command('/bin/sh', '-c', 'exit 4');
        const pid = c.runAsync({ autoReap: false });
        c.free();
        const status = await pidWait(pid, { status: true });
        check(status === 4, `pidWait status ${JSON.stringify(status)}`);
        return ok();
      },
    },

    // ---- faults ---------------------------------------------------------------------------
    {
      name: 'setUID + setMaxProcesses(k) while the uid runs more than k processes',
      weight: 10,
      fault: 'nproc',
      unavailable: (c) => c.nprocExecUnavailable,
      async run(c, i) {
        // c.nprocSleepers processes of the uid sleep meanwhile; others of the uid only add.
        const cmd = new Command('/bin/true')
          .setUID(c.nprocUid)
          .setGID(c.nprocUid)
          .setGroups([])
          .setMaxProcesses(c.nprocSleepers - 1);
        const mode = i % 3;
        return expectFailure(
          () => (mode === 0 ? cmd.runSync() : mode === 1 ? cmd.run() : cmd.runAsync()),
          (e) => (e.stage === 'exec' && e.code === 'EAGAIN' && e.exitStatus === 126 ? 'stage exec EAGAIN (RLIMIT_NPROC checked at execve)' : null),
          'nproc',
        );
      },
    },
    {
      name: "setMaxFiles(3): the child's loader gets EMFILE",
      weight: 10,
      fault: 'emfile',
      run(_c, i) {
        return expectFailure(
          () => runEither(new Command('/bin/true').setMaxFiles(3), i),
          (e) => (e.exitStatus === 127 && /Error 24/.test(String(e.stderr)) ? "exit status 127, stderr quotes the loader's EMFILE (Error 24)" : null),
          'emfile',
        );
      },
    },
    {
      name: 'child kills itself with a signal',
      weight: 20,
      fault: 'signal',
      run(_c, i) {
        const sig = SELF_SIGNALS[Math.floor(i / 2) % SELF_SIGNALS.length];
        return expectFailure(
          () => runEither(new Command('/bin/sh', '-c', `kill -${sig} $$`).setMaxCoreSize(0), i),
          (e) =>
            e.signal === `SIG${sig}` && e.exitStatus === null && /fatal signal \d+/.test(e.message) ? `CommandError signal SIG${sig} (self-inflicted)` : null,
          'signal',
        );
      },
    },
    {
      name: 'runAsync() child killed by the parent',
      weight: 10,
      fault: 'signal',
      run(_c, i) {
        const sig = PARENT_SIGNALS[i % PARENT_SIGNALS.length];
        const c = new Command('/bin/sleep', '5').setMaxCoreSize(0);
        const pid = c.runAsync();
        process.kill(pid, sig); // our child, not reaped yet: the pid cannot have been reused
        return expectFailure(
          () => c.wait(),
          (e) => (e.signal === sig ? `CommandError signal ${sig} (sent by the parent)` : null),
          'signal',
        );
      },
    },
    {
      name: 'run({ timeout }) of a child that ignores SIGTERM',
      weight: 2,
      fault: 'signal',
      background: true,
      run() {
        return expectFailure(
          () => new Command('/bin/sh', '-c', 'trap "" TERM; exec sleep 5').run({ timeout: 100, killGrace: 30 }),
          (e) => {
            if (e.code !== 'ETIMEDOUT') return null;
            if (queuedTimeout(e)) return queuedTimeout(e);
            if (e.signal === 'SIGKILL') return 'ETIMEDOUT, SIGTERM ignored, SIGKILL after the grace';
            // Only on a machine so loaded that sh had not run `trap` 100 ms after its start.
            if (e.signal === 'SIGTERM') return 'ETIMEDOUT, SIGTERM came before sh ignored it (load)';
            return null;
          },
          'signal',
        );
      },
    },
    {
      name: 'run(): grandchild holds stdout and stderr',
      weight: 3,
      fault: 'grandchild',
      background: true,
      async run(c) {
        const r = await grandchildCommand(c).run();
        killGroup(r.pid);
        check(/^\d+\n$/.test(r.stdout), `stdout ${JSON.stringify(r.stdout)}`);
        return expectOutputIncomplete(r, 'run()');
      },
    },
    {
      name: 'runSync: grandchild holds stdout and stderr',
      weight: 0.3,
      fault: 'grandchild',
      run(c) {
        const r = grandchildCommand(c).runSync();
        killGroup(r.pid);
        return expectOutputIncomplete(r, 'runSync');
      },
    },
    {
      name: 'runAsync()+wait(): grandchild holds the output buffers',
      weight: 2,
      fault: 'grandchild',
      background: true,
      async run(c) {
        const cmd = grandchildCommand(c).setOutputBuffer().setErrorBuffer();
        const pid = cmd.runAsync();
        try {
          return expectOutputIncomplete(await cmd.wait(), 'wait()');
        } finally {
          killGroup(pid);
        }
      },
    },
    {
      name: 'run(): grandchild holds stderr only',
      weight: 2,
      fault: 'grandchild',
      background: true,
      async run(c) {
        const r = await grandchildCommand(c, 'sleep 3 >/dev/null & echo x').run();
        killGroup(r.pid);
        check(r.stdout === 'x\n', `stdout ${JSON.stringify(r.stdout)}`);
        return expectOutputIncomplete(r, 'run()');
      },
    },
    {
      name: 'run(): grandchild writes within the drain',
      weight: 2,
      fault: 'grandchild',
      background: true,
      async run(c) {
        const r = await grandchildCommand(c, '(sleep 0.02; echo late) & echo early').run();
        killGroup(r.pid);
        if (r.outputIncomplete) {
          // Only when this machine was too loaded to run a 20 ms sleep within the 200 ms drain.
          check(r.stdout.startsWith('early\n'), `stdout ${JSON.stringify(r.stdout)}`);
          return handled('outputIncomplete: the grandchild was slower than the 200 ms drain (load)', 'grandchild');
        }
        check(r.stdout === 'early\nlate\n', `stdout ${JSON.stringify(r.stdout)}`);
        return ok("ok (the grandchild's output arrived within the drain)");
      },
    },
    {
      name: 'abort() while a grandchild holds the pipes',
      weight: 1,
      fault: 'grandchild',
      background: true,
      async run(c, i) {
        const cmd = grandchildCommand(c, 'sleep 3 & exec sleep 5').setOutputBuffer();
        const pid = cmd.runAsync();
        const w = cmd.wait();
        w.catch(() => {});
        await delay(20 + (i % 20));
        try {
          if (i % 2) await cmd.abort();
          else cmd.free();
          return await expectFailure(
            () => w,
            (e) => (e.code === 'ABORT_ERR' ? `ABORT_ERR (${i % 2 ? 'abort()' : 'free()'})` : null),
            'grandchild',
          );
        } finally {
          killGroup(pid);
        }
      },
    },
    {
      name: 'run({ timeout }) while a grandchild holds the pipes',
      weight: 1,
      fault: 'grandchild',
      background: true,
      async run(c) {
        let pgid = 0;
        try {
          const cmd = grandchildCommand(c, 'sleep 3 & exec sleep 5');
          const p = cmd.run({ timeout: 40 });
          pgid = cmd.pid;
          return await expectFailure(
            () => p,
            (e) => queuedTimeout(e) ?? (e.code === 'ETIMEDOUT' && e.timedOut ? 'ETIMEDOUT (the grandchild held the pipes until the drain ended)' : null),
            'grandchild',
          );
        } finally {
          if (pgid) killGroup(pgid);
        }
      },
    },
    {
      name: 'child aborts while the parent writes 2 MiB of stdin',
      weight: 5,
      fault: 'midwrite',
      run(_c, i) {
        return expectFailure(
          () => runEither(new Command('/bin/sh', '-c', 'head -c 1000 >/dev/null; kill -ABRT $$').setInputBuffer(BIG_INPUT).setMaxCoreSize(0), i),
          (e) => (e.signal === 'SIGABRT' ? 'CommandError signal SIGABRT (EPIPE on the rest of stdin handled)' : null),
          'midwrite',
        );
      },
    },
    {
      name: 'parent sends SIGABRT while stdin and stdout flow (cat)',
      weight: 5,
      fault: 'midwrite',
      async run(_c, i) {
        const cmd = new Command('/bin/cat').setInputBuffer(BIG_INPUT).setOutputBuffer().setMaxCoreSize(0);
        const pid = cmd.runAsync();
        let settled = false;
        const w = cmd.wait({ encoding: 'buffer' });
        w.then(
          () => (settled = true),
          () => (settled = true),
        );
        await delay(i % 3);
        // `settled` turns true in the same turn as the reap, so an unset flag means our child
        // is not reaped yet and the pid cannot have been reused.
        if (!settled) process.kill(pid, 'SIGABRT');
        try {
          const r = await w;
          check(r.stdout.equals(BIG_INPUT), `stdout ${r.stdout.length} bytes`);
          return ok('ok (cat finished before the abort)');
        } catch (e) {
          if (e && e.signal === 'SIGABRT' && Buffer.isBuffer(e.stdout) && e.stdout.length <= BIG_INPUT.length)
            return failed('CommandError signal SIGABRT mid-copy (partial stdout kept)', 'midwrite');
          throw new Unexplained(`unexpected error: ${describeError(e)}`, e);
        }
      },
    },
    {
      name: 'child aborts with 300000 bytes of output unread',
      weight: 5,
      fault: 'midwrite',
      run(_c, i) {
        return expectFailure(
          () => runEither(new Command('/bin/sh', '-c', 'head -c 300000 /dev/zero; kill -ABRT $$').setMaxCoreSize(0), i),
          (e) =>
            e.signal === 'SIGABRT' && e.stdout && e.stdout.length === 300000
              ? 'CommandError signal SIGABRT, the 300000 bytes written before it all captured'
              : null,
          'midwrite',
        );
      },
    },
    {
      name: 'maxBuffer 64 KiB: the parent stops a writer (cat /dev/zero)',
      weight: 5,
      fault: 'midwrite',
      run(_c, i) {
        return expectFailure(
          () => runEither(new Command('/bin/cat', '/dev/zero'), i, { maxBuffer: 65536 }),
          (e) => (e.code === 'ERR_CHILD_MAX_BUFFER' && e.stdout && e.stdout.length === 65536 ? 'ERR_CHILD_MAX_BUFFER, child terminated mid-write' : null),
          'midwrite',
        );
      },
    },
  ];
}

module.exports = { kinds, marked };
