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
//
//   node --expose-gc throughput.js --out F --floor PATH [--trials 5] [--bytes N] [--rt-bytes N]

const cp = require('node:child_process');
const lib = require('../lib');

const args = lib.parseArgs();
const trials = Number(args.trials || 5);
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

async function measure(m, expect) {
  lib.collect();
  if (m.floor) {
    const r = lib.runFloor(floor, m.floor);
    check(r.bytes === expect, `${m.id} read ${r.bytes} of ${expect}`);
    return r.ns / 1e6;
  }
  const t0 = lib.nowNs();
  const got = await m.fn();
  const t = lib.msSince(t0);
  check(got === expect, `${m.id} got ${got} of ${expect} bytes`);
  return t;
}

async function runSet(name, methods, expect) {
  for (const m of methods) m.samples = [];
  for (let t = 0; t < trials; t++) {
    const order = t % 2 === 0 ? methods : [...methods].reverse();
    for (const m of order) m.samples.push(await measure(m, expect));
    lib.log(`${name} trial ${t + 1}/${trials}: ` + methods.map((m) => `${m.id} ${(expect / 1e6 / (m.samples[t] / 1e3)).toFixed(0)}`).join(', ') + ' MB/s');
  }
  return methods.map((m) => ({
    id: m.id,
    label: m.label,
    ms: lib.summarize(m.samples),
    mbps: lib.summarize(m.samples.map((ms) => expect / 1e6 / (ms / 1e3))),
  }));
}

async function main() {
  lib.log(`throughput: ${bytes} bytes out, ${rtBytes} bytes round trip, ${trials} trials`);
  const out = await runSet('out', outMethods, bytes);
  const roundtrip = await runSet('roundtrip', rtMethods, rtBytes);
  lib.emit(args, { scenario: 'throughput', bytes, rtBytes, out, roundtrip });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
