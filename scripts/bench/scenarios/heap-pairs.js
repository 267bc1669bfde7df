'use strict';
// Measurement 2, paired: what holding 1 GiB of touched Buffers costs a spawn, measured in ONE
// process that alternates two phases per trial: the memory held, then released (dropped and
// collected, so the parent is small again), or the other way round on odd trials. Each phase runs
// every method `--n` times and keeps the median; the trial's ratio is held ÷ small for each
// method. Scenarios latency and big-1g compare two processes run minutes apart, whose difference
// is mostly the machine's load at the time; here both sides of a ratio are seconds apart.
//
//   node --expose-gc heap-pairs.js --out F --floor PATH [--trials 7] [--n 200] [--hold-mib 1024]

const cp = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const lib = require('../lib');

const args = lib.parseArgs();
const trials = Number(args.trials || 7);
const n = Number(args.n || 200);
const holdMib = Number(args['hold-mib'] || 1024);
const TRUE = '/bin/true';
const { Command } = lib.loadPackage();
const devnull = fs.openSync('/dev/null', 'w');

function check(cond, what) {
  if (!cond) throw new Error(`benchmark self-check failed: ${what}`);
}

const methods = [
  {
    id: 'ours.runSync',
    label: 'vircommand `runSync()` (stdout and stderr captured)',
    fn() {
      check(new Command(TRUE).runSync().status === 0, 'runSync status');
    },
  },
  {
    id: 'ours.runSync.devnull',
    label: 'vircommand `runSync()`, stdout/stderr to an open /dev/null fd (no capture)',
    fn() {
      check(new Command(TRUE).setOutputFD(devnull).setErrorFD(devnull).runSync().status === 0, 'runSync status');
    },
  },
  {
    id: 'ours.run',
    label: 'vircommand `await run()`',
    async fn() {
      check((await new Command(TRUE).run()).status === 0, 'run status');
    },
  },
  {
    id: 'cp.spawnSync',
    label: 'child_process `spawnSync()` (for contrast: it copies the page tables)',
    count: 10,
    fn() {
      check(cp.spawnSync(TRUE).status === 0, 'spawnSync status');
    },
  },
];

let held = null;
function hold() {
  held = [];
  for (let left = holdMib; left > 0; left -= 256) {
    const b = Buffer.allocUnsafe(Math.min(left, 256) * 1024 * 1024);
    b.fill(0x5a);
    held.push(b);
  }
}
async function release() {
  held = null;
  lib.collect();
  await new Promise((resolve) => setImmediate(resolve)); // Node frees the Buffers' memory after the GC
  lib.collect();
}

// The median ms per spawn of `count` runs of m.
async function batch(m) {
  const count = m.count ?? n;
  const t = [];
  for (let i = 0; i < count; i++) {
    const t0 = lib.nowNs();
    await m.fn();
    t.push(lib.msSince(t0));
  }
  return lib.summarize(t).median;
}

async function phase(_name) {
  const out = { rssMib: lib.rssBytes() / 1024 ** 2 };
  for (const m of methods) out[m.id] = await batch(m);
  return out;
}

async function main() {
  for (const m of methods) for (let i = 0; i < 20; i++) await m.fn(); // warm-up
  lib.log(`heap-pairs: ${holdMib} MiB held vs released, ${trials} trials, ${n} spawns per method and phase`);
  const samples = [];
  const load = [os.loadavg()[0]];
  for (let t = 0; t < trials; t++) {
    let small;
    let big;
    if (t % 2 === 0) {
      hold();
      big = await phase('held');
      await release();
      small = await phase('small');
    } else {
      small = await phase('small');
      hold();
      big = await phase('held');
      await release();
    }
    samples.push({ small, big });
    lib.log(
      `trial ${t + 1}/${trials}: ` +
        methods.map((m) => `${m.id} ${small[m.id].toFixed(3)} → ${big[m.id].toFixed(3)} ms`).join(', ') +
        ` (RSS ${small.rssMib.toFixed(0)} → ${big.rssMib.toFixed(0)} MiB)`,
    );
  }
  load.push(os.loadavg()[0]);
  const rows = methods.map((m) => ({
    id: m.id,
    label: m.label,
    small: lib.summarize(samples.map((s) => s.small[m.id])),
    held: lib.summarize(samples.map((s) => s.big[m.id])),
    ratio: lib.summarize(samples.map((s) => s.big[m.id] / s.small[m.id])),
  }));
  lib.emit(args, {
    scenario: 'heap-pairs',
    holdMib,
    trials,
    n,
    cpus: os.cpus().length,
    loadavg1: load,
    rssMib: { small: lib.summarize(samples.map((s) => s.small.rssMib)), held: lib.summarize(samples.map((s) => s.big.rssMib)) },
    rows,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
