'use strict';
// Measurement 6: many spawns of mixed kinds in one process; RSS, open fds and child processes
// before and after. The kinds rotate: runSync of /bin/true; run() capturing stdout of
// /bin/echo; runSync and run() of a missing binary (CommandError, stage exec); run() of
// /bin/false (CommandError, exit status 1); runAsync()+wait({status:true}) of /bin/false.
// Commands are not free()d: the garbage collector must be enough. The start snapshot is taken
// after a warm-up of the same mix (JIT, V8 heap sizing); the end one after the last spawn. Both
// after gc(). RSS is also split into V8's committed heap and the rest (native memory), because
// V8 grows its young generation (semi-spaces up to 16 MiB each) under steady allocation, which
// is RSS growth that is not a leak.
//
//   node --expose-gc soak.js --out F [--count 100000] [--warmup 2000]

const v8 = require('node:v8');
const lib = require('../lib');

const args = lib.parseArgs();
const count = Number(args.count || 100000);
const warmup = Number(args.warmup || 2000);
const { Command, CommandError } = lib.loadPackage();
const MISSING = '/nonexistent/vircommand-bench-missing';

function check(cond, what) {
  if (!cond) throw new Error(`soak self-check failed: ${what}`);
}

function expectCommandError(err, what) {
  if (!(err instanceof CommandError)) throw err;
  return what;
}

const kinds = [
  function runSyncTrue() {
    check(new Command('/bin/true').runSync().status === 0, 'runSync true');
  },
  async function runCapture() {
    const r = await new Command('/bin/echo', 'hello').setOutputBuffer().run();
    check(r.stdout === 'hello\n', `echo captured ${JSON.stringify(r.stdout)}`);
  },
  function runSyncMissing() {
    try {
      new Command(MISSING).runSync();
    } catch (err) {
      expectCommandError(err);
      check(err.code === 'ENOENT', `missing binary code ${err.code}`);
      return;
    }
    throw new Error('missing binary did not fail');
  },
  async function runMissing() {
    try {
      await new Command(MISSING).run();
    } catch (err) {
      expectCommandError(err);
      check(err.code === 'ENOENT', `missing binary code ${err.code}`);
      return;
    }
    throw new Error('missing binary did not fail');
  },
  async function runNonZero() {
    try {
      await new Command('/bin/false').run();
    } catch (err) {
      expectCommandError(err);
      check(err.exitStatus === 1, `false exitStatus ${err.exitStatus}`);
      return;
    }
    throw new Error('/bin/false did not fail');
  },
  async function runAsyncStatus() {
    const c = new Command('/bin/false');
    c.runAsync();
    const r = await c.wait({ status: true });
    check(r.status === 1, `wait status ${r.status}`);
  },
];

function snapshot() {
  lib.collect();
  const mu = process.memoryUsage();
  const children = lib.listChildren();
  const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return {
    rssMib: mu.rss / 1048576,
    // RSS outside V8's committed heap: native allocations (the addon, libuv, Buffers' memory).
    rssOutsideV8Mib: (mu.rss - mu.heapTotal) / 1048576,
    heapTotalMib: mu.heapTotal / 1048576,
    newSpaceMib: newSpace ? newSpace.space_size / 1048576 : null,
    heapUsedMib: mu.heapUsed / 1048576,
    externalMib: mu.external / 1048576,
    openFds: lib.countOpenFds(),
    children: children.length,
    zombies: children.filter((c) => c.state === 'Z').length,
  };
}

async function spawnMany(n, onProgress) {
  for (let i = 0; i < n; i++) {
    const r = kinds[i % kinds.length]();
    if (r) await r;
    if (onProgress && (i + 1) % Math.ceil(n / 10) === 0) onProgress(i + 1);
  }
}

async function main() {
  lib.log(`soak: ${count} spawns of ${kinds.length} kinds (warm-up ${warmup})`);
  await spawnMany(warmup);
  await new Promise((r) => setTimeout(r, 100));
  const start = snapshot();
  const curve = [{ spawns: 0, rssMib: start.rssMib, heapTotalMib: start.heapTotalMib, openFds: start.openFds }];
  const t0 = lib.nowNs();
  await spawnMany(count, (done) => {
    const mu = process.memoryUsage();
    const s = { spawns: done, rssMib: mu.rss / 1048576, heapTotalMib: mu.heapTotal / 1048576, openFds: lib.countOpenFds() };
    curve.push(s);
    lib.log(`${done}: RSS ${s.rssMib.toFixed(1)} MiB (V8 heap ${s.heapTotalMib.toFixed(1)}), ${s.openFds} fds, ${lib.msSince(t0).toFixed(0)} ms`);
  });
  const elapsedMs = lib.msSince(t0);
  await new Promise((r) => setTimeout(r, 100));
  const end = snapshot();
  lib.log(`start ${JSON.stringify(start)}`);
  lib.log(`end   ${JSON.stringify(end)}`);
  lib.emit(args, {
    scenario: 'soak',
    count,
    warmup,
    kinds: kinds.map((k) => k.name),
    elapsedMs,
    start,
    end,
    rssGrowthMib: end.rssMib - start.rssMib,
    rssOutsideV8GrowthMib: end.rssOutsideV8Mib - start.rssOutsideV8Mib,
    curve,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
