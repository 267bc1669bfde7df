#!/usr/bin/env node
'use strict';
// `npm run soak:faults`: the soak with faults. Runs --count spawns (100,000 by
// default) of mixed kinds (runSync, run(), runAsync()+wait(); captured output, stdin buffers,
// passFD, daemons with pidfiles, missing binaries, non-zero exits, timeouts, aborts) while
// injecting faults, each at a known rate and each end classified:
//
//   emfile      EMFILE from a lowered RLIMIT_NOFILE: in a phase process started with
//               setMaxFiles(96) that fills its fd table (the spawn fails at stage 'pipe' or
//               'fork'), and in children started with setMaxFiles(3) (their loader fails)
//   nproc       EAGAIN from RLIMIT_NPROC as nobody: children with setUID(65534) +
//               setMaxProcesses(k) while nobody already runs more than k processes (stage
//               'exec'), and a phase process running as nobody at its limit (stage 'fork')
//   signal      children killed by signals: by themselves, by the parent, after a timeout
//   grandchild  grandchildren holding the captured pipes after the child exited
//   midwrite    children dying while the parent writes their stdin or reads their output
//
// Then reports: spawns and ends by kind, failures by kind with their class, faults injected,
// RSS growth (V8 heap and the rest), fds and child processes at the start and end, stray
// processes. Exits 1 if any end is unexplained, the fds or children differ, or a process of the
// soak is left behind; faults that cannot be injected here are listed with the reason.
//
//   node --expose-gc scripts/soak-faults.js [--count N] [--json FILE] [--seed S] [--package DIR]
//                                           [--nproc-uid UID]
//
// --package: the package root to load (default: this checkout; dist/ must be built).
// --nproc-uid: the uid of the RLIMIT_NPROC faults (default 65534, nobody). The test suite gives
// an unused one, so that its sleepers never change the count of nobody's processes that another
// test sets a limit on.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const lib = require('./bench/lib');
const probe = require('./soak-faults/probe');
const { Tally, Unexplained, describeError } = require('./soak-faults/outcome');
const { kinds: makeKinds, marked } = require('./soak-faults/kinds');
const { formatReport, FAULTS } = require('./soak-faults/report');

if (typeof globalThis.gc !== 'function') {
  // RSS is compared after a full gc; without --expose-gc, expose it now.
  require('node:v8').setFlagsFromString('--expose-gc');
  globalThis.gc = require('node:vm').runInNewContext('gc');
}

const ROOT = path.join(__dirname, '..');
const args = lib.parseArgs();
const count = Number(args.count ?? 100000);
const seed = Number(args.seed ?? 1);
const pkgRoot = path.resolve(String(args.package || ROOT));
if (!Number.isInteger(count) || count < 500) {
  process.stderr.write('soak-faults: --count must be an integer of at least 500\n');
  process.exit(2);
}

const vc = require(pkgRoot);
const isRoot = process.getuid() === 0;
const NPROC_UID = Number(args['nproc-uid'] ?? 65534);
const EMFILE_LIMIT = 96;
const NPROC_SLEEPERS = 3;
const MAX_BACKGROUND = 32;
const PHASE_JS = path.join(__dirname, 'soak-faults', 'phase.js');

const log = (msg) => process.stderr.write(`soak-faults: ${msg}\n`);
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/** mulberry32: the mix is the same for the same --seed. */
function prng(s) {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- the package copy that nobody can read ----------------------------------------------------

function chmodTree(p) {
  const st = fs.statSync(p);
  fs.chmodSync(p, st.isDirectory() || st.mode & 0o111 ? 0o755 : 0o644);
  if (st.isDirectory()) for (const e of fs.readdirSync(p)) chmodTree(path.join(p, e));
}

/**
 * A world-readable copy of the package (dist/, the addon node-gyp-build picks, package.json,
 * node-gyp-build) and of these scripts, so that uid 65534 can load it even when the checkout
 * or a home directory on its path is not readable to others.
 */
function copyForNobody(tmpRoot) {
  const dir = path.join(tmpRoot, 'nobody');
  fs.mkdirSync(dir);
  fs.cpSync(path.join(pkgRoot, 'dist'), path.join(dir, 'dist'), { recursive: true });
  const addon = require(require.resolve('node-gyp-build', { paths: [pkgRoot] })).path(pkgRoot);
  const rel = path.relative(pkgRoot, addon);
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.copyFileSync(addon, path.join(dir, rel));
  fs.copyFileSync(path.join(pkgRoot, 'package.json'), path.join(dir, 'package.json'));
  const ngb = path.dirname(require.resolve('node-gyp-build/package.json', { paths: [pkgRoot] }));
  fs.cpSync(ngb, path.join(dir, 'node_modules', 'node-gyp-build'), { recursive: true });
  for (const f of fs.readdirSync(path.join(__dirname, 'soak-faults'))) {
    fs.mkdirSync(path.join(dir, 'scripts', 'soak-faults'), { recursive: true });
    fs.copyFileSync(path.join(__dirname, 'soak-faults', f), path.join(dir, 'scripts', 'soak-faults', f));
  }
  fs.mkdirSync(path.join(dir, 'scripts', 'bench'), { recursive: true });
  fs.copyFileSync(path.join(__dirname, 'bench', 'lib.js'), path.join(dir, 'scripts', 'bench', 'lib.js'));
  chmodTree(tmpRoot);
  return dir;
}

// ---- phases (separate processes, started with vircommand) -------------------------------------

/** The uid the phase 'nproc' runs as: NPROC_UID as root, else our own. */
function nprocPhaseUid() {
  return isRoot ? NPROC_UID : process.getuid();
}

async function runPhase(ctx, type, budget, round) {
  const started = lib.nowNs();
  const harness = { type, round, budget, attempts: 0 };
  for (;;) {
    harness.attempts++;
    ctx.harnessSpawns++;
    let cmd;
    if (type === 'emfile') {
      cmd = new vc.Command(process.execPath, PHASE_JS, '--phase', 'emfile', '--package', pkgRoot, '--budget', String(budget), '--mark', ctx.mark).setMaxFiles(
        EMFILE_LIMIT,
      );
    } else {
      const uid = nprocPhaseUid();
      // The limit leaves room for node's own threads (RLIMIT_NPROC counts tasks) and ~20 sleepers.
      const lim = probe.tasksOfUid(uid) + probe.ownThreads() + 4 + 20;
      harness.limit = lim;
      const dir = isRoot ? ctx.nobodyDir : pkgRoot;
      cmd = new vc.Command(
        process.execPath,
        isRoot ? path.join(dir, 'scripts', 'soak-faults', 'phase.js') : PHASE_JS,
        '--phase',
        'nproc',
        '--package',
        dir,
        '--budget',
        String(budget),
        '--mark',
        ctx.mark,
      )
        .setMaxProcesses(lim)
        .setWorkingDirectory(dir);
      if (isRoot) cmd.setUID(NPROC_UID).setGID(NPROC_UID).setGroups([]);
    }
    try {
      const r = await cmd.run({ timeout: 300000 });
      const line = r.stdout.trim().split('\n').pop();
      return { ...JSON.parse(line), harness: { ...harness, elapsedMs: lib.msSince(started) } };
    } catch (e) {
      // Other processes of the uid started between our count and the phase's execve.
      if (type === 'nproc' && e.stage === 'exec' && e.code === 'EAGAIN' && harness.attempts < 4) continue;
      return { phase: type, failed: describeError(e), stderr: String(e.stderr || '').slice(-2000), spawns: 0, kinds: [], harness };
    }
  }
}

// ---- the main loop ----------------------------------------------------------------------------

async function runKind(ctx, tally, k, i) {
  try {
    const outcome = await k.run(ctx, i);
    if (!outcome || typeof outcome.cls !== 'string') throw new Unexplained(`kind returned ${JSON.stringify(outcome)}`);
    tally.record(k.name, k, outcome);
  } catch (err) {
    tally.unexplained(k.name, k, err);
  }
}

/**
 * Runs kinds until `n` spawns were made; `hooks(done, drain)` is called after each, where
 * drain() waits for the kinds still running in the background.
 */
async function spawnMany(ctx, tally, n, pick, hooks) {
  const background = new Set();
  const drain = () => Promise.all(background);
  const fallback = ctx.kinds[0]; // runSync /bin/true: one spawn
  let done = 0;
  while (done < n) {
    let k = pick();
    if (done + (k.spawns || 1) > n) k = fallback;
    const i = ctx.seq++;
    done += k.spawns || 1;
    tally.spawned(k.name, k, k.spawns || 1);
    const p = runKind(ctx, tally, k, i);
    if (k.background) {
      background.add(p);
      p.finally(() => background.delete(p));
      if (background.size >= MAX_BACKGROUND) await Promise.race(background);
    } else {
      await p;
    }
    if (hooks) await hooks(done, drain);
  }
  await Promise.all(background);
  return done;
}

/** Each available kind once, then weighted draws. */
function picker(kinds, random) {
  let first = 0;
  const total = kinds.reduce((s, k) => s + k.weight, 0);
  return () => {
    if (first < kinds.length) return kinds[first++];
    let r = random() * total;
    for (const k of kinds) {
      r -= k.weight;
      if (r < 0) return k;
    }
    return kinds[kinds.length - 1];
  };
}

async function main() {
  const t0 = lib.nowNs();
  const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'vircommand-soak-')));
  const ctx = {
    vc,
    tmp,
    mark: `${process.pid}-${Date.now()}`,
    seq: 0,
    harnessSpawns: 0,
    nprocUid: NPROC_UID,
    nprocSleepers: NPROC_SLEEPERS,
    nprocExecUnavailable: isRoot ? null : `not root: setUID(${NPROC_UID}) needs CAP_SETUID`,
    nobodyDir: null,
  };
  const notInjected = [];
  if (!isRoot) {
    notInjected.push({
      fault: 'nproc',
      what: `RLIMIT_NPROC as uid ${NPROC_UID} in the NPROC phase`,
      reason: `not root: the phase runs as our own uid ${process.getuid()} instead (with the main loop paused: its children share the limit)`,
    });
  }
  if (isRoot) ctx.nobodyDir = copyForNobody(tmp);

  const all = makeKinds(ctx);
  ctx.kinds = all.filter((k) => !(k.unavailable && k.unavailable(ctx)));
  for (const k of all)
    if (k.unavailable && k.unavailable(ctx) && !notInjected.some((n) => n.what === k.name))
      notInjected.push({ fault: k.fault, what: k.name, reason: k.unavailable(ctx) });

  // Phase budgets: part of the total.
  const rounds = count >= 20000 ? 4 : 1;
  const emfileBudget = Math.max(60, Math.round(count * 0.008));
  const nprocBudget = Math.max(40, Math.round(count * 0.004));
  const mainTarget = count - emfileBudget - nprocBudget;
  const share = (total, r) => Math.floor(total / rounds) + (r === rounds - 1 ? total % rounds : 0);

  // Warm-up (not counted): JIT, V8's heap sizing, lazily opened fds, the addon loaded.
  const warmTally = new Tally();
  const warmup = Math.max(2 * ctx.kinds.length, Math.min(2000, Math.round(count / 50)));
  log(`warm-up: ${warmup} spawns`);
  // The nobody sleepers exist during the warm-up too (the nproc kind needs them); they are
  // stopped before the start snapshot and started again after it.
  const startSleepers = () => {
    if (ctx.nprocExecUnavailable) return [];
    const out = [];
    for (let s = 0; s < NPROC_SLEEPERS; s++) {
      const c = marked(ctx, new vc.Command('/bin/sleep', '3600')).setUID(NPROC_UID).setGID(NPROC_UID).setGroups([]);
      c.runAsync();
      ctx.harnessSpawns++;
      out.push(c);
    }
    return out;
  };
  const stopSleepers = async (list) => {
    for (const c of list) await c.abort({ grace: 0 });
  };
  let sleepers = startSleepers();
  const warmRandom = prng(seed + 1000);
  await spawnMany(ctx, warmTally, warmup, picker(ctx.kinds, warmRandom));
  await stopSleepers(sleepers);
  await delay(250);

  const start = probe.snapshot();
  log(`start: RSS ${start.rssMib.toFixed(1)} MiB, ${start.openFds} fds (${start.fdSummary}), ${start.children} children`);
  sleepers = startSleepers();

  const tally = new Tally();
  const random = prng(seed);
  const phases = [];
  const phaseRuns = { emfile: null, nproc: null };
  let nextRound = 0;
  let mid = null;
  const curve = [];
  const tLoop = lib.nowNs();
  const tenth = Math.ceil(mainTarget / 10);
  let nextProgress = tenth;
  const hooks = async (done, drain) => {
    // Phase rounds start at 0, 1/4, 2/4, 3/4 of the main loop and run beside it. Not being root,
    // the NPROC phase runs as our own uid, so the loop's children would share its limit: the
    // loop then waits for its background kinds and pauses while the phase runs.
    while (nextRound < rounds && done >= (mainTarget * nextRound) / rounds) {
      const r = nextRound++;
      for (const type of ['emfile', 'nproc']) {
        const budget = share(type === 'emfile' ? emfileBudget : nprocBudget, r);
        const previous = phaseRuns[type] || Promise.resolve();
        phaseRuns[type] = previous.then(() => runPhase(ctx, type, budget, r)).then((res) => phases.push(res));
        if (type === 'nproc' && !isRoot) {
          await drain();
          await phaseRuns.nproc;
        }
      }
    }
    if (done >= nextProgress || done === mainTarget) {
      nextProgress += tenth;
      const mu = process.memoryUsage();
      const point = {
        spawns: done,
        rssMib: mu.rss / 1048576,
        heapTotalMib: mu.heapTotal / 1048576,
        openFds: Object.keys(probe.fdTable()).length,
        elapsedMs: lib.msSince(tLoop),
      };
      curve.push(point);
      log(
        `${done}/${mainTarget}: RSS ${point.rssMib.toFixed(1)} MiB (V8 heap ${point.heapTotalMib.toFixed(1)}), ${point.openFds} fds, ${(point.elapsedMs / 1000).toFixed(1)} s`,
      );
      if (!mid && done >= mainTarget / 2) mid = { spawns: done, ...pickMem(probe.snapshot()) };
    }
  };
  const mainSpawns = await spawnMany(ctx, tally, mainTarget, picker(ctx.kinds, random), hooks);
  await phaseRuns.emfile;
  await phaseRuns.nproc;
  const loopMs = lib.msSince(tLoop);
  await stopSleepers(sleepers);
  sleepers = [];

  // Processes of the soak left behind (grandchildren, daemons, sleepers): gone within 5 s?
  let strays = probe.markedProcesses(ctx.mark);
  for (let waited = 0; strays.length > 0 && waited < 5000; waited += 100) {
    await delay(100);
    strays = probe.markedProcesses(ctx.mark);
  }
  for (const s of strays) {
    try {
      process.kill(s.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  await delay(250);
  const end = probe.snapshot();
  fs.rmSync(tmp, { recursive: true, force: true });

  const result = {
    count,
    seed,
    nprocUid: NPROC_UID,
    node: process.version,
    kernel: os.release(),
    uid: process.getuid(),
    cpus: os.cpus().length,
    loadavg: os.loadavg(),
    package: pkgRoot,
    totalSpawns: mainSpawns + phases.reduce((s, p) => s + (p.spawns || 0), 0),
    mainSpawns,
    warmup,
    harnessSpawns: ctx.harnessSpawns,
    wallMs: lib.msSince(t0),
    loopMs,
    kinds: tally.toJSON(),
    warmupUnexplained: warmTally.toJSON().filter((k) => k.unexplainedCount > 0),
    phases,
    notInjected,
    faults: FAULTS,
    memory: {
      start: pickMem(start),
      mid,
      end: pickMem(end),
      rssGrowthMib: end.rssMib - start.rssMib,
      heapTotalGrowthMib: end.heapTotalMib - start.heapTotalMib,
      rssOutsideV8GrowthMib: end.rssOutsideV8Mib - start.rssOutsideV8Mib,
      secondHalfGrowthMib: mid ? end.rssMib - mid.rssMib : null,
      curve,
    },
    fds: {
      start: start.fds,
      end: end.fds,
      startCount: start.openFds,
      endCount: end.openFds,
      startSummary: start.fdSummary,
      endSummary: end.fdSummary,
      diff: probe.diffFds(start.fds, end.fds),
    },
    children: {
      start: start.childList,
      end: end.childList,
      startCount: start.children,
      endCount: end.children,
      startZombies: start.zombies,
      endZombies: end.zombies,
    },
    strays,
  };
  result.verdict = verdict(result);
  const text = formatReport(result);
  process.stdout.write(text);
  if (args.json) fs.writeFileSync(String(args.json), JSON.stringify(result, null, 1));
  process.exitCode = result.verdict.pass ? 0 : 1;
}

function pickMem(s) {
  const { rssMib, heapTotalMib, heapUsedMib, newSpaceMib, externalMib, rssOutsideV8Mib } = s;
  return { rssMib, heapTotalMib, heapUsedMib, newSpaceMib, externalMib, rssOutsideV8Mib };
}

/** Pass or fail, with the reasons. */
function verdict(r) {
  const reasons = [];
  const unexplained = r.kinds.reduce((s, k) => s + k.unexplainedCount, 0) + r.warmupUnexplained.reduce((s, k) => s + k.unexplainedCount, 0);
  const phaseUnexplained = r.phases.reduce((s, p) => s + (p.kinds || []).reduce((t, k) => t + k.unexplainedCount, 0), 0);
  if (unexplained + phaseUnexplained > 0) reasons.push(`${unexplained + phaseUnexplained} unexplained ends`);
  for (const p of r.phases) {
    if (p.failed) reasons.push(`phase ${p.phase} round ${p.harness.round} failed: ${p.failed}`);
    else {
      if (p.fdDiff.length > 0) reasons.push(`phase ${p.phase} round ${p.harness.round}: fds differ between its start and end`);
      if (p.start.children !== p.end.children || p.end.zombies !== 0)
        reasons.push(`phase ${p.phase} round ${p.harness.round}: children ${p.start.children} -> ${p.end.children} (zombies ${p.end.zombies})`);
    }
  }
  if (r.fds.diff.length > 0) reasons.push(`fds differ: ${r.fds.startCount} at the start, ${r.fds.endCount} at the end`);
  if (r.children.startCount !== r.children.endCount || r.children.endZombies !== 0)
    reasons.push(`children: ${r.children.startCount} at the start, ${r.children.endCount} at the end (zombies ${r.children.endZombies})`);
  if (r.strays.length > 0) reasons.push(`${r.strays.length} processes of the soak still alive 5 s after the end`);
  return { pass: reasons.length === 0, reasons, unexplained: unexplained + phaseUnexplained };
}

main().catch((err) => {
  process.stderr.write(`soak-faults: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
