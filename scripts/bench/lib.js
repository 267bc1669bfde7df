'use strict';
// Helpers shared by the benchmark scenarios (scripts/bench/scenarios/*.js). Each scenario runs in
// a fresh node process started by run.js and writes one JSON object to the file named by --out.

const fs = require('node:fs');
const path = require('node:path');

/** Parses `--name value` and `--flag` arguments into an object. */
function parseArgs(argv = process.argv.slice(2)) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const key = a.slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[key] = true;
    else {
      out[key] = next;
      i++;
    }
  }
  return out;
}

/** The compiled package (dist/), as users get it. */
function loadPackage() {
  return require(path.join(__dirname, '..', '..', 'dist'));
}

/** Median, min and max of numbers. */
function summarize(values) {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  const median = n === 0 ? NaN : n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return { median, min: v[0], max: v[n - 1], trials: n, values };
}

const nowNs = () => process.hrtime.bigint();
const msSince = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;

/** Number of fds open in this process. */
function countOpenFds() {
  return fs.readdirSync('/proc/self/fd').length - 1; // the listing's own fd
}

/** Processes whose parent is this process (any state, zombies included), from /proc/<pid>/stat. */
function listChildren() {
  const me = process.pid;
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
    } catch {
      continue; // gone meanwhile
    }
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(rest[1]) === me) out.push({ pid: Number(name), state: rest[0] });
  }
  return out;
}

/**
 * Holds `mib` MiB of touched Buffers (256 MiB chunks filled with a non-zero byte, so every page
 * is resident: Buffer.alloc alone gets zero pages from mmap that are never touched).
 */
function holdMemory(mib) {
  const chunks = [];
  const chunkMib = 256;
  for (let left = mib; left > 0; left -= chunkMib) {
    const b = Buffer.allocUnsafe(Math.min(left, chunkMib) * 1024 * 1024);
    b.fill(0x5a);
    chunks.push(b);
  }
  globalThis.__benchHeld = chunks; // never collected
  return chunks;
}

/** Opens /dev/null until `total` fds are open in the process; returns the count reached. */
function openFdsTo(total) {
  let open = countOpenFds();
  const held = [];
  while (open < total) {
    held.push(fs.openSync('/dev/null', 'r'));
    open++;
  }
  globalThis.__benchFds = held;
  return countOpenFds();
}

/**
 * A limit of this process from /proc/self/limits by its label ('Max open files', 'Max
 * processes'): { soft, hard } as numbers (Infinity for unlimited), or null.
 */
function procLimit(label) {
  const line = fs
    .readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(label));
  const m = line && /^.{26}(\S+)\s+(\S+)/.exec(line);
  const num = (v) => (v === 'unlimited' ? Infinity : Number(v));
  return m ? { soft: num(m[1]), hard: num(m[2]) } : null;
}

/** RLIMIT_NOFILE of this process. */
function nofileLimit() {
  return procLimit('Max open files');
}

function rssBytes() {
  return process.memoryUsage.rss();
}

/** Writes the scenario's result where run.js asked. */
function emit(args, result) {
  const json = JSON.stringify(result, null, 1);
  if (args.out) fs.writeFileSync(args.out, json);
  else process.stdout.write(json + '\n');
}

function log(...parts) {
  process.stderr.write(`  ${parts.join(' ')}\n`);
}

/** The C floor binary built by run.js. */
function floorPath(args) {
  const p = args.floor || process.env.VIRCOMMAND_BENCH_FLOOR;
  if (!p) throw new Error('no --floor given (run the scenario through scripts/bench/run.js)');
  return p;
}

/** Runs the C floor with args and returns its JSON answer. */
function runFloor(floor, floorArgs) {
  const { spawnSync } = require('node:child_process');
  const r = spawnSync(floor, floorArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`floor ${floorArgs.join(' ')} failed: status ${r.status} ${r.error || ''}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

/** gc() if node runs with --expose-gc. */
function collect() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
}

module.exports = {
  parseArgs,
  loadPackage,
  summarize,
  nowNs,
  msSince,
  countOpenFds,
  listChildren,
  holdMemory,
  openFdsTo,
  nofileLimit,
  procLimit,
  rssBytes,
  emit,
  log,
  floorPath,
  runFloor,
  collect,
};
