'use strict';
// Spawn latency of /bin/true: vircommand (runSync, run awaited in sequence, runAsync+wait) beside
// child_process (spawnSync, spawn, execFile) and the C floor, in one process.
// Used for measurements 1 (small parent), 2 (--hold-mib: big parents) and 3 (--fds: many fds).
//
//   node latency.js --out F --floor PATH [--trials 5] [--max-n 1000] [--budget-ms 1500]
//                   [--hold-mib MIB] [--fds COUNT] [--floor-variants]

const cp = require('node:child_process');
const fs = require('node:fs');
const { promisify } = require('node:util');
const lib = require('../lib');

const args = lib.parseArgs();
const trials = Number(args.trials || 5);
const maxN = Number(args['max-n'] || 1000);
const minN = Number(args['min-n'] || 3);
const budgetMs = Number(args['budget-ms'] || 1500);
const holdMib = Number(args['hold-mib'] || 0);
const fdsWanted = Number(args.fds || 0);
const floor = lib.floorPath(args);
const TRUE = '/bin/true';

const { Command } = lib.loadPackage();
const execFile = promisify(cp.execFile);
const devnull = fs.openSync('/dev/null', 'w');

function check(cond, what) {
  if (!cond) throw new Error(`benchmark self-check failed: ${what}`);
}

const methods = [
  {
    id: 'ours.runSync',
    label: 'vircommand `runSync()`',
    sync: true,
    fn() {
      const r = new Command(TRUE).runSync();
      check(r.status === 0, 'runSync status');
    },
  },
  {
    id: 'ours.runSync.devnull',
    label: 'vircommand `runSync()`, stdout/stderr to an open /dev/null fd (no capture)',
    sync: true,
    fn() {
      const r = new Command(TRUE).setOutputFD(devnull).setErrorFD(devnull).runSync();
      check(r.status === 0, 'runSync status');
    },
  },
  {
    id: 'ours.run',
    label: 'vircommand `await run()`',
    async fn() {
      const r = await new Command(TRUE).run();
      check(r.status === 0, 'run status');
    },
  },
  {
    id: 'ours.runAsync',
    label: 'vircommand `runAsync()` + `await wait()`',
    async fn() {
      const c = new Command(TRUE);
      c.runAsync();
      const r = await c.wait();
      check(r.status === 0, 'wait status');
    },
  },
  {
    id: 'cp.spawnSync',
    label: 'child_process `spawnSync()` (default stdio: pipes)',
    sync: true,
    fn() {
      const r = cp.spawnSync(TRUE);
      check(r.status === 0, 'spawnSync status');
    },
  },
  {
    id: 'cp.spawnSync.ignore',
    label: "child_process `spawnSync()` (stdio 'ignore')",
    sync: true,
    fn() {
      const r = cp.spawnSync(TRUE, { stdio: 'ignore' });
      check(r.status === 0, 'spawnSync status');
    },
  },
  {
    id: 'cp.spawn',
    label: "child_process `spawn()` (stdio 'ignore'), await 'exit'",
    fn() {
      return new Promise((resolve, reject) => {
        const c = cp.spawn(TRUE, { stdio: 'ignore' });
        c.on('error', reject);
        c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
      });
    },
  },
  {
    id: 'cp.execFile',
    label: 'child_process `execFile()` (promisified)',
    async fn() {
      await execFile(TRUE);
    },
  },
];

async function timeN(m, n) {
  const t0 = lib.nowNs();
  if (m.sync) for (let i = 0; i < n; i++) m.fn();
  else for (let i = 0; i < n; i++) await m.fn();
  return lib.msSince(t0) / n;
}

function memAvailableMib() {
  const m = fs.readFileSync('/proc/meminfo', 'utf8').match(/MemAvailable:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : 0;
}

async function main() {
  const setup = {};
  if (holdMib > 0) {
    const t0 = lib.nowNs();
    lib.holdMemory(holdMib);
    setup.holdMs = lib.msSince(t0);
  }
  if (fdsWanted > 0) setup.openFds = lib.openFdsTo(fdsWanted);
  setup.rssMib = lib.rssBytes() / 1048576;
  setup.nofile = lib.nofileLimit();
  setup.openFdsNow = lib.countOpenFds();
  lib.log(`latency: hold ${holdMib} MiB, ${setup.openFdsNow} fds open, RLIMIT_NOFILE ${JSON.stringify(setup.nofile)}, RSS ${setup.rssMib.toFixed(0)} MiB`);

  // Warm up every method and size its trials: as many spawns as fit in the budget, within
  // [minN, maxN] (child_process at 8 GiB takes a third of a second per spawn).
  for (const m of methods) {
    const w = await timeN(m, 3);
    const est = Math.min(w, await timeN(m, 3));
    m.n = Math.max(minN, Math.min(maxN, Math.floor(budgetMs / Math.max(est, 0.001))));
    m.samples = [];
  }

  // The floor: posix_spawn from a small C process (the same fd count; the same held memory
  // when there is room for a second copy of it).
  const floorMethods = [{ id: 'floor.posix_spawn', label: 'C floor: `posix_spawn` + `waitpid`', method: 'posix_spawn' }];
  if (args['floor-variants']) {
    floorMethods.push(
      { id: 'floor.vfork-close', label: 'C: `clone(VM|VFORK)` + `close_range(3,~0)` + `execve`', method: 'vfork-close' },
      {
        id: 'floor.vfork-unshare',
        label: 'C: `clone(VM|VFORK|FILES)` + `close_range(3,~0,UNSHARE)` + `execve`',
        method: 'vfork-unshare',
      },
    );
  }
  const floorHold = holdMib > 0 && memAvailableMib() - holdMib > 3072 ? holdMib : 0;
  if (holdMib > 0) {
    floorMethods.push({
      id: 'floor.posix_spawn.small',
      label: 'C floor, small parent',
      method: 'posix_spawn',
      small: true,
    });
  }
  const floorN = maxN;
  for (const f of floorMethods) {
    f.samples = [];
    f.n = floorN;
    f.args = ['spawn', String(floorN), '--method', f.method];
    if (!f.small && floorHold > 0) f.args.push('--hold-mib', String(floorHold));
    if (fdsWanted > 0) f.args.push('--fds', String(fdsWanted));
  }

  for (let t = 0; t < trials; t++) {
    const order = t % 2 === 0 ? methods : [...methods].reverse();
    for (const m of order) m.samples.push(await timeN(m, m.n));
    for (const f of floorMethods) {
      const r = lib.runFloor(floor, f.args);
      f.samples.push(r.ns / 1e6 / r.n);
      f.openFds = r.openFds;
    }
    lib.log(
      `trial ${t + 1}/${trials}: ` +
        methods.map((m) => `${m.id} ${m.samples[t].toFixed(3)}`).join(', ') +
        ', ' +
        floorMethods.map((f) => `${f.id} ${f.samples[t].toFixed(3)}`).join(', ') +
        ' ms',
    );
  }

  const rows = [...methods, ...floorMethods].map((m) => ({
    id: m.id,
    label: m.label,
    n: m.n,
    ms: lib.summarize(m.samples),
    ...(m.openFds !== undefined ? { floorOpenFds: m.openFds } : {}),
  }));
  lib.emit(args, {
    scenario: 'latency',
    holdMib,
    fdsWanted,
    floorHoldMib: floorHold,
    setup,
    openFdsAtEnd: lib.countOpenFds(),
    rows,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
