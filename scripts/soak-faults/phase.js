'use strict';
// The fault soak's phases that need a process of their own (started by soak-faults.js with
// vircommand itself, and judged there):
//
//   --phase emfile  started with setMaxFiles(N): opens fds until open() fails with EMFILE, leaves
//                   0..9 of them free, spawns (runSync, run(), runAsync()+wait(), passFD), expects
//                   success or a CommandError with code EMFILE at stage 'pipe' (our pipes) or
//                   'fork' (the pidfd of clone(CLONE_PIDFD)), closes them and checks that a
//                   spawn works again and that no fd was left behind.
//   --phase nproc   started as nobody (or, not being root, as this user) with
//                   setMaxProcesses(L): starts `sleep` children until clone() fails with EAGAIN,
//                   then spawns of every kind at the limit expect a CommandError with code EAGAIN
//                   at stage 'fork'; then stops the sleepers and checks spawns work again.
//
//   node phase.js --phase emfile|nproc --package DIR --budget N --mark M
//
// Writes one JSON object on stdout: spawns, outcomes by kind and class, fds and children at the
// start and end of the phase.

const fs = require('node:fs');
const lib = require('../bench/lib');
const probe = require('./probe');
const { Unexplained, ok, failed, check, Tally, describeError } = require('./outcome');

const args = lib.parseArgs();
const phase = String(args.phase);
const budget = Number(args.budget || 100);
const mark = String(args.mark || 'none');
const pkg = require(String(args.package));
const { Command, PASS_FD_CLOSE_PARENT } = pkg;

const tally = new Tally();
let spawns = 0;
const notes = [];
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs one spawn of kind `name`, recording its end. */
async function attempt(name, meta, fn) {
  spawns++;
  tally.spawned(name, meta, 1);
  try {
    const outcome = await fn();
    tally.record(name, meta, outcome);
    return outcome;
  } catch (err) {
    tally.unexplained(name, meta, err);
    return null;
  }
}

// ---- EMFILE -----------------------------------------------------------------------------------

const EMFILE_MODES = {
  'sync capture': () => {
    const r = new Command('/bin/echo', 'x').runSync();
    check(r.stdout === 'x\n', `stdout ${JSON.stringify(r.stdout)}`);
  },
  'run() capture': async () => {
    const r = await new Command('/bin/echo', 'x').run();
    check(r.stdout === 'x\n', `stdout ${JSON.stringify(r.stdout)}`);
  },
  'runAsync()+wait() stdin buffer': async () => {
    const c = new Command('/bin/cat').setInputBuffer('abc').setOutputBuffer();
    c.runAsync();
    const r = await c.wait();
    check(r.stdout === 'abc', `stdout ${JSON.stringify(r.stdout)}`);
  },
  'runAsync()+wait() /dev/null stdio': async () => {
    const c = new Command('/bin/true');
    c.runAsync();
    await c.wait();
  },
  'sync passFD(CLOSE_PARENT)': () => {
    // The passed fd is opened before the others are filled; whatever happens, the run closes it.
    const fd = passFdHeld;
    passFdHeld = -1;
    try {
      new Command('/bin/sh', '-c', `test -e /proc/self/fd/${fd}`).passFD(fd, PASS_FD_CLOSE_PARENT).runSync();
    } finally {
      check(!probe.isOpen(fd), `passFD(${fd}, PASS_FD_CLOSE_PARENT): the parent's fd is still open after the run`);
    }
  },
};
let passFdHeld = -1;

/** Opens /dev/null until EMFILE, then closes `free` of them; returns the fds held. */
function fillFds(free) {
  const held = [];
  for (;;) {
    try {
      held.push(fs.openSync('/dev/null', 'r'));
    } catch (e) {
      if (e.code !== 'EMFILE') throw e;
      break;
    }
  }
  for (let i = 0; i < free && held.length > 0; i++) fs.closeSync(held.pop());
  return held;
}

async function emfilePhase() {
  const meta = { fault: 'emfile' };
  const names = Object.keys(EMFILE_MODES);
  const byFree = {};
  // Warm-up: the addon is loaded (dlopen needs an fd) and every path ran once.
  for (const name of names) {
    if (name.includes('passFD')) passFdHeld = fs.openSync('/dev/null', 'r');
    await EMFILE_MODES[name]();
  }
  const start = probe.snapshot();
  const baseline = start.openFds;
  for (let i = 0; spawns < budget; i++) {
    // Every mode with every count of free fds within 50 attempts.
    const free = i % 10;
    const name = names[(i + Math.floor(i / 10)) % names.length];
    if (name.includes('passFD')) passFdHeld = fs.openSync('/dev/null', 'r');
    const held = fillFds(free);
    const outcome = await attempt(`EMFILE phase: ${name}`, meta, async () => {
      try {
        await EMFILE_MODES[name]();
      } catch (e) {
        if (e instanceof Unexplained) throw e;
        if (e && e.code === 'EMFILE' && (e.stage === 'pipe' || e.stage === 'fork')) return failed(`stage ${e.stage} EMFILE`, 'emfile');
        throw new Unexplained(`with ${free} fds free: ${describeError(e)}`, e);
      }
      return ok(`ok (enough fds were free)`);
    });
    for (const fd of held) fs.closeSync(fd);
    if (passFdHeld >= 0) {
      fs.closeSync(passFdHeld);
      passFdHeld = -1;
    }
    const key = `${free} free`;
    byFree[key] ??= {};
    const cls = outcome ? outcome.cls : 'unexplained';
    byFree[key][cls] = (byFree[key][cls] || 0) + 1;
    const now = probe.fdTable();
    if (Object.keys(now).length !== baseline) {
      tally.unexplained(
        `EMFILE phase: ${name}`,
        meta,
        new Unexplained(
          `fds after the attempt with ${free} free: ${Object.keys(now).length}, at the start ${baseline}: ${JSON.stringify(probe.diffFds(start.fds, now))}`,
        ),
      );
    }
    // Recovery: with the fds closed again, a spawn must work.
    if (spawns < budget) {
      await attempt('EMFILE phase: recovery spawn after closing the fds', {}, async () => {
        await EMFILE_MODES['run() capture']();
        return ok();
      });
    }
  }
  return { start, byFree, limit: lib.procLimit('Max open files') };
}

// ---- NPROC ------------------------------------------------------------------------------------

const NPROC_MODES = {
  'runSync /bin/true': () => new Command('/bin/true').runSync(),
  'run() capture': () => new Command('/bin/echo', 'x').run(),
  'runAsync()+wait()': async () => {
    const c = new Command('/bin/true');
    c.runAsync();
    return c.wait();
  },
  'runSync stdin buffer': () => new Command('/bin/cat').setInputBuffer('abc').runSync(),
};

async function nprocPhase() {
  const meta = { fault: 'nproc' };
  await fs.promises.stat('/'); // libuv's threadpool starts now, not at the limit
  // Warm-up (the addon loaded, every path run once). Not being root, we share the limit with the
  // soak's own children, which come and go: a fork refused here is no fault of the product.
  for (const name of Object.keys(NPROC_MODES)) {
    try {
      await NPROC_MODES[name]();
    } catch (e) {
      if (!(e && e.code === 'EAGAIN' && e.stage === 'fork')) throw e;
    }
  }
  const start = probe.snapshot();
  const limit = lib.procLimit('Max processes');
  const uid = process.getuid();
  const info = { uid, limit, tasksOfUidAtStart: probe.tasksOfUid(uid), ownThreads: probe.ownThreads() };
  const sleepers = [];
  const isEagain = (e) => (e.code === 'EAGAIN' && e.stage === 'fork' ? 'stage fork EAGAIN' : null);
  // Fill: sleepers until clone() fails; keep 40% of the budget for spawns at the limit.
  let reached = false;
  while (!reached && spawns < budget * 0.6) {
    await attempt('NPROC phase: fill with sleep children', {}, () => {
      const c = new Command('/bin/sleep', '120').addEnvPassCommon().addEnvPair(probe.MARK_NAME, mark);
      try {
        c.runAsync();
      } catch (e) {
        if (e && e.code === 'EAGAIN' && e.stage === 'fork') {
          reached = true;
          return failed('stage fork EAGAIN (the limit is reached)', 'nproc');
        }
        throw e;
      }
      sleepers.push(c);
      return ok('ok (a sleeper started)');
    });
  }
  info.sleepersAtLimit = sleepers.length;
  info.tasksOfUidAtLimit = probe.tasksOfUid(uid);
  info.limitReached = reached;
  if (!reached) notes.push(`the RLIMIT_NPROC limit ${limit && limit.soft} was not reached with ${sleepers.length} sleepers`);
  const names = Object.keys(NPROC_MODES);
  for (let i = 0; reached && spawns < budget - 3; i++) {
    const name = names[i % names.length];
    await attempt(`NPROC phase: ${name}`, meta, async () => {
      try {
        await NPROC_MODES[name]();
      } catch (e) {
        const cls = e && typeof e === 'object' ? isEagain(e) : null;
        if (cls) return failed(cls, 'nproc');
        throw new Unexplained(`at the limit: ${describeError(e)}`, e);
      }
      // Another process of this uid ended meanwhile and left a slot.
      return ok('ok (a slot was free: another process of the uid ended)');
    });
  }
  for (const c of sleepers) await c.abort({ grace: 0 });
  await delay(20);
  for (let i = 0; spawns < budget; i++) {
    await attempt('NPROC phase: spawn after the sleepers ended', {}, async () => {
      const r = await new Command('/bin/echo', 'again').run();
      check(r.stdout === 'again\n', `stdout ${JSON.stringify(r.stdout)}`);
      return ok();
    });
  }
  return { start, ...info };
}

async function main() {
  const t0 = lib.nowNs();
  let extra;
  if (phase === 'emfile') extra = await emfilePhase();
  else if (phase === 'nproc') extra = await nprocPhase();
  else throw new Error(`unknown phase ${phase}`);
  const { start, ...rest } = extra;
  await delay(20);
  const end = probe.snapshot();
  const strip = (s) => ({ openFds: s.openFds, fds: s.fds, fdSummary: s.fdSummary, children: s.children, zombies: s.zombies, childList: s.childList });
  process.stdout.write(
    JSON.stringify({
      phase,
      pid: process.pid,
      uid: process.getuid(),
      spawns,
      elapsedMs: lib.msSince(t0),
      kinds: tally.toJSON(),
      start: strip(start),
      end: strip(end),
      fdDiff: probe.diffFds(start.fds, end.fds),
      notes,
      ...rest,
    }) + '\n',
  );
}

main().catch((err) => {
  process.stderr.write(`phase ${phase}: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
