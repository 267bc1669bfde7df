'use strict';
// Measurement 5: capturing a child's stdout, and a round trip through stdin and back.
//  - out: the child is the C floor's writer (`floor write BYTES`, 64 KiB writes of zeros), so
//    every reader faces the same child; read by vircommand (run, runSync), child_process
//    (spawn collecting chunks, spawnSync, execFile) and the C floor (capturing into one growing
//    buffer as the addon does, and discarding, which is the pipe's own ceiling), plus two
//    diagnostic C variants (a socketpair; a 1 MiB pipe read into huge pages; a 1 MiB pipe read
//    into a buffer faulted in ahead of read(), which is how the addon captures).
//  - roundtrip: BYTES through `/bin/cat` (stdin fed from memory, stdout captured).
// Times run from starting the child to having all output in memory and the child reaped.
// Each sample also records the parent's CPU time (user + system, process.resourceUsage(): the
// floor's is its own process), which depends far less on what else the machine runs than the
// wall time; and each trial runs every method back to back, so the ratios of one trial's pair
// (run ÷ spawn, runSync ÷ spawnSync) are reported per trial too, median (min–max): a load
// change between trials moves both sides of a pair.
//
//   node --expose-gc throughput.js --out F --floor PATH [--trials 7] [--bytes N] [--rt-bytes N]
//                                  [--methods id,id,...] [--no-roundtrip]
// --methods keeps only those method ids (e.g. ours.run,cp.spawn) for a quick comparison;
// --no-roundtrip skips the stdin round trip.

const cp = require('node:child_process');
const os = require('node:os');
const lib = require('../lib');

const args = lib.parseArgs();
const trials = Number(args.trials || 7);
const bytes = Number(args.bytes || 1024 ** 3);
const rtBytes = Number(args['rt-bytes'] || 256 * 1024 ** 2);
const floor = lib.floorPath(args);
const { Command } = lib.loadPackage();

function check(cond, what) {
  if (!cond) throw new Error(`benchmark self-check failed: ${what}`);
}

function collectChunks(stream) {
  const chunks = [];
  let len = 0;
  stream.on('data', (c) => {
    chunks.push(c);
    len += c.length;
  });
  return () => ({ chunks, len });
}

const input = Buffer.alloc(rtBytes, 'x');

const outMethods = [
  {
    id: 'ours.run',
    label: 'vircommand `run()` capture',
    async fn() {
      const r = await new Command(floor, 'write', String(bytes)).setOutputBuffer().run({ encoding: 'buffer' });
      return r.stdout.length;
    },
  },
  {
    id: 'ours.runSync',
    label: 'vircommand `runSync()` capture',
    fn() {
      const r = new Command(floor, 'write', String(bytes)).setOutputBuffer().runSync({ encoding: 'buffer' });
      return r.stdout.length;
    },
  },
  {
    id: 'cp.spawn',
    label: "child_process `spawn()`, 'data' chunks collected",
    fn() {
      return new Promise((resolve, reject) => {
        const c = cp.spawn(floor, ['write', String(bytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
        const got = collectChunks(c.stdout);
        c.on('error', reject);
        c.on('close', (code) => (code === 0 ? resolve(got().len) : reject(new Error(`exit ${code}`))));
      });
    },
  },
  {
    id: 'cp.spawnSync',
    label: 'child_process `spawnSync()` (maxBuffer Infinity)',
    fn() {
      const r = cp.spawnSync(floor, ['write', String(bytes)], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: Infinity });
      check(r.status === 0, `spawnSync ${r.error}`);
      return r.stdout.length;
    },
  },
  {
    id: 'cp.execFile',
    label: "child_process `execFile()` (encoding 'buffer', maxBuffer Infinity)",
    fn() {
      return new Promise((resolve, reject) => {
        cp.execFile(floor, ['write', String(bytes)], { encoding: 'buffer', maxBuffer: Infinity }, (err, stdout) =>
          err ? reject(err) : resolve(stdout.length),
        );
      });
    },
  },
  {
    id: 'floor.read',
    label: 'C floor: `read()` into one growing buffer',
    floor: ['read', String(bytes)],
  },
  {
    id: 'floor.read.discard',
    label: 'C floor: `read()` into a 64 KiB buffer, discarded',
    floor: ['read', String(bytes), '--discard'],
  },
  // Diagnostic variants (not targets): what the reader's pipe and memory cost.
  {
    id: 'floor.read.socketpair',
    label: 'C (diagnostic): capture through an AF_UNIX socketpair, as libuv uses for child_process',
    floor: ['read', String(bytes), '--socketpair'],
  },
  {
    id: 'floor.read.hugepage.pipe1m',
    label: 'C (diagnostic): capture with a 1 MiB pipe (F_SETPIPE_SZ) into MADV_HUGEPAGE memory',
    floor: ['read', String(bytes), '--hugepage', '--pipe-size', '1048576'],
  },
  {
    id: 'floor.read.populate.pipe1m',
    label: 'C (diagnostic): capture as the addon does: a 1 MiB pipe, the buffer faulted in ahead of `read()` (MADV_POPULATE_WRITE)',
    floor: ['read', String(bytes), '--populate', '--pipe-size', '1048576'],
  },
];

const rtMethods = [
  {
    id: 'ours.run',
    label: 'vircommand `run()`, `setInputBuffer` + capture',
    async fn() {
      const r = await new Command('/bin/cat').setInputBuffer(input).setOutputBuffer().run({ encoding: 'buffer' });
      return r.stdout.length;
    },
  },
  {
    id: 'ours.runSync',
    label: 'vircommand `runSync()`, `setInputBuffer` + capture',
    fn() {
      const r = new Command('/bin/cat').setInputBuffer(input).setOutputBuffer().runSync({ encoding: 'buffer' });
      return r.stdout.length;
    },
  },
  {
    id: 'cp.spawn',
    label: "child_process `spawn()`, `stdin.end(buf)`, 'data' chunks collected",
    fn() {
      return new Promise((resolve, reject) => {
        const c = cp.spawn('/bin/cat', [], { stdio: ['pipe', 'pipe', 'inherit'] });
        const got = collectChunks(c.stdout);
        c.on('error', reject);
        c.on('close', (code) => (code === 0 ? resolve(got().len) : reject(new Error(`exit ${code}`))));
        c.stdin.end(input);
      });
    },
  },
  {
    id: 'cp.spawnSync',
    label: 'child_process `spawnSync()` with `input` (maxBuffer Infinity)',
    fn() {
      const r = cp.spawnSync('/bin/cat', [], { input, stdio: ['pipe', 'pipe', 'inherit'], maxBuffer: Infinity });
      check(r.status === 0, `spawnSync ${r.error}`);
      return r.stdout.length;
    },
  },
  {
    id: 'floor.cat',
    label: 'C floor: one `poll()` loop writing and capturing',
    floor: ['cat', String(rtBytes)],
  },
];

const cpuMs = (u) => (u.userCPUTime + u.systemCPUTime) / 1000;

// One sample: { ms, cpuMs } (the C floor's CPU time is not known: null).
async function measure(m, expect) {
  // The last sample's output is garbage now: collect it, and let Node free it (the memory of a
  // large capture, an external Buffer, is freed from a setImmediate after the GC found it dead),
  // so that unmapping 1 GiB is not timed as part of whichever method comes next.
  lib.collect();
  await new Promise((resolve) => setImmediate(resolve));
  lib.collect();
  if (m.floor) {
    const r = lib.runFloor(floor, m.floor);
    check(r.bytes === expect, `${m.id} read ${r.bytes} of ${expect}`);
    return { ms: r.ns / 1e6, cpuMs: null };
  }
  const u0 = process.resourceUsage();
  const t0 = lib.nowNs();
  const got = await m.fn();
  const t = lib.msSince(t0);
  const cpu = cpuMs(process.resourceUsage()) - cpuMs(u0);
  check(got === expect, `${m.id} got ${got} of ${expect} bytes`);
  return { ms: t, cpuMs: cpu };
}

// The pairs compared per trial: ours ÷ child_process's, in MB/s (above 1: ours is faster).
const PAIRS = [
  ['ours.run', 'cp.spawn'],
  ['ours.runSync', 'cp.spawnSync'],
  ['ours.runSync', 'cp.spawn'],
];

const keep = args.methods ? new Set(String(args.methods).split(',')) : null;

async function runSet(name, all, expect) {
  const methods = keep ? all.filter((m) => keep.has(m.id)) : all;
  for (const m of methods) {
    m.samples = [];
    m.cpu = [];
  }
  for (let t = 0; t < trials; t++) {
    const order = t % 2 === 0 ? methods : [...methods].reverse();
    for (const m of order) {
      const r = await measure(m, expect);
      m.samples.push(r.ms);
      if (r.cpuMs !== null) m.cpu.push(r.cpuMs);
    }
    lib.log(`${name} trial ${t + 1}/${trials}: ` + methods.map((m) => `${m.id} ${(expect / 1e6 / (m.samples[t] / 1e3)).toFixed(0)}`).join(', ') + ' MB/s');
  }
  const rows = methods.map((m) => ({
    id: m.id,
    label: m.label,
    ms: lib.summarize(m.samples),
    mbps: lib.summarize(m.samples.map((ms) => expect / 1e6 / (ms / 1e3))),
    cpuMs: m.cpu.length > 0 ? lib.summarize(m.cpu) : null,
  }));
  const byId = Object.fromEntries(methods.map((m) => [m.id, m]));
  const pairs = PAIRS.filter(([a, b]) => byId[a] && byId[b]).map(([a, b]) => ({
    a,
    b,
    ratio: lib.summarize(byId[a].samples.map((ms, t) => byId[b].samples[t] / ms)),
  }));
  return { rows, pairs };
}

async function main() {
  lib.log(`throughput: ${bytes} bytes out, ${rtBytes} bytes round trip, ${trials} trials`);
  const load = [os.loadavg()[0]];
  const out = await runSet('out', outMethods, bytes);
  load.push(os.loadavg()[0]);
  const roundtrip = args['no-roundtrip'] ? { rows: [], pairs: [] } : await runSet('roundtrip', rtMethods, rtBytes);
  load.push(os.loadavg()[0]);
  lib.emit(args, {
    scenario: 'throughput',
    bytes,
    rtBytes,
    trials,
    cpus: os.cpus().length,
    loadavg1: load,
    out: out.rows,
    outPairs: out.pairs,
    roundtrip: roundtrip.rows,
    roundtripPairs: roundtrip.pairs,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
