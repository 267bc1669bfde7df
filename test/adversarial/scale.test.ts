/**
 * Adversarial tests of fork safety under load:
 *
 * - 10,000 spawns of true (500 under the quick `npm test`: helpers/scale.ts)
 *   from the main thread while 8 Workers allocate,
 *   resolve names (getaddrinfo on the threadpool) and read the passwd database
 *   (getpwuid) in tight loops; then again with an LD_PRELOAD malloc trap that
 *   kills any child that allocates before exec (support/malloc-trap.c).
 *   No spawn over 1 s, no child dead of SIGUSR2. A positive control proves
 *   the trap fires for a child that does allocate (a hook calling malloc).
 * - 10,000 non-CLOEXEC fds scattered up to a high NOFILE limit, two
 *   passed near the top: the child sees exactly 0-2 and the two; spawning is
 *   no slower with a high limit than with NOFILE 1024 (same open fds).
 *
 * Both run in separate node processes: the limits, the inherited fds and the
 * preload belong to the parent process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useInvariants } from '../helpers/invariants';
import { expectChildOk, runNodeChild } from '../helpers/node-child';
import { parseReport } from '../helpers/report';
import { scaled } from '../helpers/scale';
import { useTmpDir } from '../helpers/tmp';
import { needTools, support } from './support/process-tools';

useInvariants();
const tmp = useTmpDir('vc-adv-scale-');

let S: ReturnType<typeof support>;
beforeAll(() => {
  S = support();
});

/** Spawns per phase: 10,000 under test:all, 500 under npm test (helpers/scale.ts). */
const BUSY_SPAWNS = scaled(10000, 500);

// ---------------------------------------------------------------- fork in a busy parent

const BUSY_PARENT_SCRIPT = `
  const { Worker } = require('worker_threads');
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const trapLoaded = fs.readFileSync('/proc/self/maps', 'utf8').includes('libmalloc-trap.so');
  const workers = [];
  for (let i = 0; i < 8; i++) {
    workers.push(new Worker(\`
      const dns = require('dns');
      const os = require('os');
      const { parentPort } = require('worker_threads');
      let stop = false, n = 0, lookups = 0, inFlight = false;
      parentPort.on('message', () => { stop = true; });
      (function loop() {
        for (let k = 0; k < 50; k++) {
          const b = Buffer.alloc(1024 + ((n * 7919) % 200000));
          b[b.length - 1] = n & 0xff;
          os.userInfo();
          n++;
        }
        if (!inFlight) { inFlight = true; dns.lookup('localhost', () => { inFlight = false; lookups++; }); }
        if (stop) parentPort.postMessage({ n, lookups });
        else setImmediate(loop);
      })();
    \`, { eval: true }));
  }
  await sleep(200); // let the workers get busy
  const lat = [];
  const dist = {};
  const tally = (r) => { const k = r.signal ?? ('exit ' + r.exitStatus); dist[k] = (dist[k] || 0) + 1; };
  for (let i = 0; i < ARGS.n; i++) {
    const c = new vc.Command('/bin/true').rawStatus();
    const t0 = process.hrtime.bigint();
    let r;
    try {
      r = i % 2 ? c.runSync({ status: true }) : await c.run({ status: true });
    } catch (e) {
      r = { signal: null, exitStatus: 'error ' + e.message };
    }
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    tally(r);
  }
  const done = workers.map((w) => new Promise((resolve) => w.once('message', resolve)));
  for (const w of workers) w.postMessage('stop');
  const work = await Promise.all(done);
  await Promise.all(workers.map((w) => w.terminate()));
  // Positive control: a child that allocates before exec (a hook calling malloc, fork path).
  const control = {};
  for (let i = 0; i < 5; i++) {
    const r = await new vc.Command('/bin/true').rawStatus().setPreExecHook({ library: ARGS.hooks, symbol: 'call_malloc' }).run({ status: true });
    const k = r.signal ?? ('exit ' + r.exitStatus);
    control[k] = (control[k] || 0) + 1;
  }
  const sorted = [...lat].sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
  const buckets = { '<1ms': 0, '<2ms': 0, '<5ms': 0, '<10ms': 0, '<50ms': 0, '<100ms': 0, '<1s': 0, '>=1s': 0 };
  for (const v of lat) {
    const b = v < 1 ? '<1ms' : v < 2 ? '<2ms' : v < 5 ? '<5ms' : v < 10 ? '<10ms' : v < 50 ? '<50ms' : v < 100 ? '<100ms' : v < 1000 ? '<1s' : '>=1s';
    buckets[b]++;
  }
  emit({ trapLoaded, dist, control, work, max: sorted[sorted.length - 1], p50: q(0.5), p99: q(0.99), buckets });
`;

interface BusyParentResult {
  trapLoaded: boolean;
  dist: Record<string, number>;
  control: Record<string, number>;
  work: { n: number; lookups: number }[];
  max: number;
  p50: number;
  p99: number;
  buckets: Record<string, number>;
}

describe('fork in a busy multithreaded parent', () => {
  for (const withTrap of [false, true]) {
    it(`${BUSY_SPAWNS} spawns of true beside 8 busy Workers${withTrap ? ', under an LD_PRELOAD malloc trap' : ''}`, () => {
      const env: Record<string, string> = withTrap ? { LD_PRELOAD: S.mallocTrap } : {};
      const res = expectChildOk(
        runNodeChild(BUSY_PARENT_SCRIPT, {
          args: { n: BUSY_SPAWNS, hooks: S.hooks },
          env,
          timeoutMs: 600000,
        }),
      ) as BusyParentResult;
      const summary = `p50 ${res.p50.toFixed(2)} ms, p99 ${res.p99.toFixed(2)} ms, max ${res.max.toFixed(1)} ms, ${JSON.stringify(res.buckets)}`;
      expect(res.trapLoaded, 'the trap is (or is not) loaded in the parent').toBe(withTrap);
      // The Workers really worked all along.
      expect(res.work).toHaveLength(8);
      for (const w of res.work) {
        expect(w.n).toBeGreaterThan(0);
        expect(w.lookups).toBeGreaterThan(0);
      }
      // Every child ran and exited 0: none died of SIGUSR2 (no allocation before exec).
      expect(res.dist, summary).toEqual({ 'exit 0': BUSY_SPAWNS });
      // No spawn took a second or more (no hang, no lock held by a Worker across the fork).
      expect(res.max, summary).toBeLessThan(1000);
      expect(res.buckets['>=1s']).toBe(0);
      if (withTrap) {
        // The trap does catch a child that allocates before exec.
        expect(res.control, 'positive control: a hook that calls malloc').toEqual({ SIGUSR2: 5 });
      } else {
        expect(res.control).toEqual({ 'exit 0': 5 });
      }
    }, 900000);
  }
});

// ----------------------------------------------------------------------------- many fds

/** The NOFILE limit to use, and why it is not 1,048,576 when it is not. */
function targetLimit(): { limit: number; reason: string | null } {
  const capEff = BigInt(`0x${/^CapEff:\s*(\S+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]}`);
  const hard = Number(/^Max open files\s+\S+\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))![1]);
  const nrOpen = Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8'));
  const want = Math.min(1048576, nrOpen);
  if (hard >= want) return { limit: want, reason: null };
  if ((capEff & (1n << 24n)) !== 0n) return { limit: want, reason: null };
  return { limit: hard, reason: `no CAP_SYS_RESOURCE to raise the hard NOFILE limit above ${hard}: scaled to ${hard}` };
}

/** bash prefix: NOFILE = limit (soft and hard), then a non-CLOEXEC /dev/null at every fd in VC_FDS, then extra redirections. */
function launcher(limit: number, extra: string): string[] {
  return ['bash', '-c', `ulimit -n ${limit} || exit 99; for fd in $VC_FDS; do eval "exec $fd</dev/null"; done; unset VC_FDS; ${extra} exec "$@"`, 'bash'];
}

/** n fd numbers spread evenly over [3, top), avoiding `avoid`. */
function spread(n: number, top: number, avoid: number[]): number[] {
  const out: number[] = [];
  const step = (top - 3) / n;
  for (let i = 0; i < n; i++) {
    const fd = 3 + Math.floor(i * step);
    if (!avoid.includes(fd) && out[out.length - 1] !== fd) out.push(fd);
  }
  return out;
}

const MANY_FDS_SCRIPT = `
  const own = fs.readdirSync('/proc/self/fd').length;
  const nofile = /^Max open files\\s+(\\S+)\\s+(\\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8')).slice(1).map(Number);
  const out = { own, nofile };
  if (ARGS.pass) {
    const log = ARGS.dir + '/many-fds.log';
    await new vc.Command(HELPER, '--log', log, '--no-stdio').passFD(ARGS.pass[0]).passFD(ARGS.pass[1]).run();
    out.report = fs.readFileSync(log, 'utf8');
    const sync = new vc.Command(HELPER, '--log', '-', '--no-stdio').passFD(ARGS.pass[0]).passFD(ARGS.pass[1]).runSync();
    out.syncReport = String(sync.stdout);
  }
  const lat = [];
  for (let i = 0; i < ARGS.spawns; i++) {
    const t0 = process.hrtime.bigint();
    new vc.Command(HELPER, '--no-stdio').runSync();
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  lat.sort((a, b) => a - b);
  out.median = lat[Math.floor(lat.length / 2)];
  emit(out);
`;

describe('many fds and a high NOFILE stay correct', () => {
  it('10,000 inherited fds up to the limit, two passed near the top: the child has exactly 0-2 and those two', () => {
    const { limit, reason } = targetLimit();
    if (reason) console.warn(`[note] many fds: ${reason} (a NOFILE limit of 1,048,576 and an fd near 999,000 need CAP_SYS_RESOURCE)`);
    const p1 = limit - 1000;
    const p2 = limit - 500;
    const f1 = path.join(tmp.path, 'pass-one');
    const f2 = path.join(tmp.path, 'pass-two');
    fs.writeFileSync(f1, '1');
    fs.writeFileSync(f2, '2');
    const fds = spread(10000, limit - 1, [p1, p2]);
    expect(fds.length).toBeGreaterThan(9900);
    expect(fds[fds.length - 1]).toBeGreaterThan(limit - 10);
    const r = runNodeChild(MANY_FDS_SCRIPT, {
      prefix: launcher(limit, `exec ${p1}<'${f1}' ${p2}<'${f2}';`),
      env: { VC_FDS: fds.join(' ') },
      args: { pass: [p1, p2], dir: tmp.path, spawns: 50 },
      timeoutMs: 120000,
    });
    const res = expectChildOk(r) as { own: number; nofile: [number, number]; report: string; syncReport: string };
    expect(res.own, 'precondition: the parent holds the 10,000 fds').toBeGreaterThan(10000);
    expect(res.nofile).toEqual([limit, limit]);
    for (const text of [res.report, res.syncReport]) {
      const rep = parseReport(text);
      const seen = [...rep.fds.entries()].sort((a, b) => a[0] - b[0]);
      expect(seen.map(([fd]) => fd)).toEqual([0, 1, 2, p1, p2]);
      expect(rep.fds.get(p1)).toBe(f1);
      expect(rep.fds.get(p2)).toBe(f2);
      // The NOFILE limit is inherited (the rlimits test checks it too).
      expect(rep.rlimits.NOFILE).toEqual({ cur: limit, max: limit });
    }
  }, 180000);

  // "No more than 1.2x the cost at NOFILE 1024" is a speed figure: it is measured
  // by `npm run bench` (scenario 3, many fds, side by side), not asserted here. What makes it
  // hold is checked instead: with a high limit the child never walks fds up to the limit.
  it('a high NOFILE limit: the child closes with close_range, never an fd-by-fd walk up to the limit', (ctx) => {
    needTools(ctx, 'many fds, close pattern', 'strace');
    const { limit } = targetLimit();
    const fds = spread(900, 1020, []);
    const log = path.join(tmp.path, 'many-fds.strace');
    expectChildOk(
      runNodeChild(MANY_FDS_SCRIPT, {
        prefix: ['strace', '-f', '-qq', '-o', log, '-e', 'trace=close,close_range', ...launcher(limit, '')],
        env: { VC_FDS: fds.join(' ') },
        args: { pass: null, dir: tmp.path, spawns: 20 },
        timeoutMs: 120000,
      }),
    );
    const text = fs.readFileSync(log, 'utf8');
    const unshares = [...text.matchAll(/close_range\((\d+), [^,]+, CLOSE_RANGE_UNSHARE\) = 0/g)];
    expect(unshares.length, 'one close_range(UNSHARE) per spawn').toBeGreaterThanOrEqual(20);
    // a walk would close() every number up to the limit, nearly all of them EBADF
    const badCloses = [...text.matchAll(/close\((\d+)\)\s+= -1 EBADF/g)].filter((m) => Number(m[1]) > 1020);
    expect(badCloses.length, 'close() of unopened fds above the open ones').toBe(0);
  }, 300000);
});

describe('spawn fd slots: thousands of open fds are not copied into each child', () => {
  // On the clone path the child unshares the parent's fd table copying every fd up to the
  // highest one it needs, with close_range(FIRST, ~0, CLOSE_RANGE_UNSHARE). Its stdio sources
  // and status pipe go through fds the addon reserved at load (native/core/spawn_fds.cc, FdSlots),
  // so FIRST stays low however many fds the parent holds, and whatever its stdio points at.
  it('3,000 fds open, stdout to a caller fd above them: close_range starts below 64, output intact', (ctx) => {
    needTools(ctx, 'spawn fd slots', 'strace');
    const log = path.join(tmp.path, 'slots.strace');
    const r = runNodeChild(
      `
      const held = [];
      for (let i = 0; i < 3000; i++) held.push(fs.openSync('/dev/null', 'r'));
      const outFile = ARGS.dir + '/out.txt';
      const outFd = fs.openSync(outFile, 'w');
      const a = new vc.Command('/bin/echo', 'captured').runSync().stdout;
      const b = (await new vc.Command('/bin/echo', 'async').run()).stdout;
      new vc.Command('/bin/echo', 'to-fd').setOutputFD(outFd).runSync();
      const c = new vc.Command('/bin/cat').setInputBuffer('fed').runSync().stdout;
      fs.closeSync(outFd);
      emit({ a, b, c, file: fs.readFileSync(outFile, 'utf8'), outFd, highest: held[held.length - 1] });
    `,
      { args: { dir: tmp.path }, prefix: ['strace', '-f', '-qq', '-o', log, '-e', 'trace=close_range'], timeoutMs: 60000 },
    );
    const res = expectChildOk(r) as { a: string; b: string; c: string; file: string; outFd: number; highest: number };
    expect(res).toMatchObject({ a: 'captured\n', b: 'async\n', c: 'fed', file: 'to-fd\n' });
    expect(res.outFd, 'precondition: the caller fd is above the 3,000').toBeGreaterThan(3000);
    const firsts = [...fs.readFileSync(log, 'utf8').matchAll(/close_range\((\d+), [^,]+, CLOSE_RANGE_UNSHARE\)/g)].map((m) => Number(m[1]));
    expect(firsts.length, 'one unsharing close_range per spawn').toBe(4);
    for (const first of firsts) expect(first).toBeLessThan(64);
  }, 90000);
});
