#!/usr/bin/env node
'use strict';
// `npm run bench`: six measurements, each scenario in a fresh node process (so a
// big parent's memory or fds never leak into the next), side by side with child_process and a C
// floor built here with `cc -O2`. Writes scripts/bench/results.md (excerpted in docs/performance.md) and
// scripts/bench/results.json.
//
//   node scripts/bench/run.js [--quick] [--only a,b,...] [--out-dir DIR]
//
// --quick: small counts for trying things out (its figures are not the reference ones; it
// writes results.quick.md/json into $TMPDIR/vircommand-bench-partial unless --out-dir is given).
// --only runs some scenarios; like --quick, it writes into that temp directory by default.
// --report-only rewrites results.md from results.json without measuring.
// --update a,b,...: re-measures those scenarios into the reference results (scripts/bench/),
// keeping the others as they were; each re-measured scenario records its own date, commit and
// addon, and results.md names them beside the reference run's line.
// --only: scenario ids: latency, big-1g, big-8g, big-1g-paired, fds-low, fds-high, concurrency,
// throughput, soak, builder (the builder's cost at 1k/10k/100k entries: `--only builder` takes a
// few seconds), lines (lines() against child_process + readline over `seq 1 2000000`, 1 GiB held:
// ~20 s), parse (runRegex/runNul against readline and a 'data' split, with 1 GiB held),
// containers (start of `true` in a container: vircommand, util-linux unshare, bwrap; ~1 min).

const cp = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..', '..');
const BENCH = __dirname;
const args = require('./lib').parseArgs();
// An unknown flag (a typo, or --help) must not start the full run: it takes about 15 minutes and
// 8 GiB of memory.
const KNOWN_FLAGS = new Set(['quick', 'only', 'out-dir', 'report-only', 'update']);
const unknown = Object.keys(args).filter((k) => !KNOWN_FLAGS.has(k));
if (unknown.length > 0) {
  const usage =
    'usage: node scripts/bench/run.js [--quick] [--only a,b,...] [--out-dir DIR] [--update a,b,...] [--report-only]\n(the scenario ids are listed at the top of scripts/bench/run.js)\n';
  const help = unknown.length === 1 && unknown[0] === 'help';
  process.stderr.write(help ? usage : `unknown option --${unknown[0]}\n${usage}`);
  process.exit(help ? 0 : 2);
}
const quick = Boolean(args.quick);
const only = args.only ? new Set(String(args.only).split(',')) : null;
// Quick runs are for trying things out: their results go to a temp directory, never over the
// reference results.md/json that docs/performance.md excerpts.
const update = args.update ? new Set(String(args.update).split(',')) : null;
if (update && (only || quick)) throw new Error('--update takes its own scenario list: not with --only or --quick');
const outDir = args['out-dir'] ? path.resolve(args['out-dir']) : quick || only ? path.join(os.tmpdir(), 'vircommand-bench-partial') : BENCH;
const outBase = quick ? 'results.quick' : 'results';

const { evaluateParse, markdownParse } = require('./report-parse');

const FDS_WANTED_LIMIT = 1048576;

function say(msg) {
  process.stderr.write(`${msg}\n`);
}

// ---- preparation ----------------------------------------------------------------------------

function newestMtime(dir, ext) {
  let t = 0;
  for (const f of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, f.name);
    if (f.isDirectory()) t = Math.max(t, newestMtime(p, ext));
    else if (f.name.endsWith(ext)) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}

/** dist/ is what users get: build it with tsc when it is missing or older than src/. */
function ensureDist() {
  const entry = path.join(ROOT, 'dist', 'index.js');
  const stale = fs.existsSync(entry) && newestMtime(path.join(ROOT, 'src'), '.ts') > fs.statSync(entry).mtimeMs;
  if (fs.existsSync(entry) && !stale) return;
  say(stale ? 'dist/ is older than src/: rebuilding it with tsc' : 'dist/ is missing: building it with tsc');
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = cp.spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0 || !fs.existsSync(entry)) {
    say('bench: cannot build dist/ (npx tsc -p tsconfig.build.json failed)');
    process.exit(1);
  }
}

/** Compiles floor.c into a temp directory keyed by its content. */
function buildFloor() {
  const src = path.join(BENCH, 'floor.c');
  const hash = crypto.createHash('sha256').update(fs.readFileSync(src)).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `vircommand-bench-${hash}`);
  const bin = path.join(dir, 'floor');
  if (fs.existsSync(bin)) return bin;
  fs.mkdirSync(dir, { recursive: true });
  const cc = process.env.CC || 'cc';
  const r = cp.spawnSync(cc, ['-O2', '-Wall', '-o', bin, src], { stdio: 'inherit' });
  if (r.status !== 0) {
    say(`bench: cannot compile ${src} with ${cc} -O2 (${r.error ? r.error.message : `status ${r.status}`})`);
    process.exit(1);
  }
  return bin;
}

function readLimits() {
  const line = fs
    .readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const m = line.match(/Max open files\s+(\S+)\s+(\S+)/);
  return { soft: Number(m[1]), hard: Number(m[2]) };
}

/**
 * The highest RLIMIT_NOFILE prlimit can give a child: 1,048,576 if allowed, else fs.nr_open,
 * else our hard limit (a container may cap it even for root).
 */
function pickHighNofile() {
  const tried = [];
  const nrOpen = Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8'));
  const candidates = [...new Set([FDS_WANTED_LIMIT, Math.min(nrOpen, FDS_WANTED_LIMIT), readLimits().hard])];
  for (const n of candidates) {
    const r = cp.spawnSync('prlimit', [`--nofile=${n}:${n}`, 'true'], { encoding: 'utf8' });
    if (r.error) return { limit: readLimits().hard, prlimit: false, tried, note: `prlimit unavailable: ${r.error.message}` };
    if (r.status === 0) return { limit: n, prlimit: true, tried, capped: n !== FDS_WANTED_LIMIT };
    tried.push({ limit: n, error: (r.stderr || '').trim() });
  }
  return { limit: readLimits().hard, prlimit: false, tried, capped: true };
}

/** Which native build the run used (build/ is rebuilt by others while we work). */
function addonInfo() {
  for (const p of ['build/Release/vircommand.node', `prebuilds/${process.platform}-${process.arch}/vircommand.node`]) {
    const full = path.join(ROOT, p);
    if (!fs.existsSync(full)) continue;
    const sha = crypto.createHash('sha256').update(fs.readFileSync(full)).digest('hex').slice(0, 12);
    return { path: p, sha256: sha, mtime: fs.statSync(full).mtime.toISOString() };
  }
  return null;
}

function machine() {
  const cpus = os.cpus();
  let commit = null;
  let dirty = null;
  try {
    commit = cp.execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    dirty = cp.execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
  } catch {
    // not a git checkout
  }
  const read = (p) => {
    try {
      return fs.readFileSync(p, 'utf8').trim();
    } catch {
      return null;
    }
  };
  return {
    date: new Date().toISOString(),
    cores: cpus.length,
    cpuModel: cpus[0] ? cpus[0].model : null,
    kernel: os.release(),
    kernelVersion: os.version(),
    arch: os.arch(),
    node: process.version,
    memTotalGiB: os.totalmem() / 1024 ** 3,
    thp: read('/sys/kernel/mm/transparent_hugepage/enabled'),
    nofile: readLimits(),
    libc: process.report ? process.report.getReport().header.glibcVersionRuntime : null,
    vircommand: require(path.join(ROOT, 'package.json')).version,
    addon: addonInfo(),
    commit,
    dirty,
    mode: quick ? 'quick' : 'full',
  };
}

// ---- scenarios ------------------------------------------------------------------------------

function scenarios(floor, nofileHigh, all = false) {
  const q = quick;
  const lat = (extra) => ['scenarios/latency.js', ...extra];
  const latencyCommon = q ? ['--trials', '3', '--max-n', '100', '--budget-ms', '200'] : ['--trials', '5', '--max-n', '1000', '--budget-ms', '1500'];
  const big1 = q ? 256 : 1024;
  const big8 = q ? 1024 : 8192;
  const fdsHigh = q ? 2000 : 10000;
  return [
    { id: 'latency', title: 'Spawn latency, small parent', argv: lat(latencyCommon) },
    { id: 'big-1g', title: `Spawn latency, ${big1} MiB of touched Buffers`, argv: lat([...latencyCommon, '--hold-mib', String(big1)]) },
    {
      id: 'big-8g',
      title: `Spawn latency, ${big8} MiB of touched Buffers`,
      argv: lat([...(q ? latencyCommon : ['--trials', '3', '--max-n', '1000', '--budget-ms', '1500', '--min-n', '3']), '--hold-mib', String(big8)]),
    },
    {
      id: 'big-1g-paired',
      title: `Spawn latency, ${big1} MiB held vs released in one process, paired per trial`,
      node: ['--expose-gc'],
      argv: ['scenarios/heap-pairs.js', '--hold-mib', String(big1), ...(q ? ['--trials', '3', '--n', '50'] : ['--trials', '7', '--n', '200'])],
    },
    {
      id: 'fds-low',
      title: 'Spawn latency, RLIMIT_NOFILE 1,024 and 20 open fds',
      prlimit: 1024,
      argv: lat([...latencyCommon, '--fds', '20', '--floor-variants']),
    },
    {
      id: 'fds-high',
      title: `Spawn latency, RLIMIT_NOFILE ${nofileHigh.limit} and ${fdsHigh} open fds`,
      prlimit: nofileHigh.prlimit ? nofileHigh.limit : null,
      argv: lat([...latencyCommon, '--fds', String(fdsHigh), '--floor-variants']),
    },
    {
      id: 'concurrency',
      title: 'Concurrency',
      argv: ['scenarios/concurrency.js', ...(q ? ['--trials', '2', '--count', '200'] : ['--trials', '5', '--count', '1000'])],
    },
    {
      id: 'throughput',
      title: 'Throughput',
      node: ['--expose-gc'],
      argv: [
        'scenarios/throughput.js',
        ...(q ? ['--trials', '3', '--bytes', String(64 * 1024 ** 2), '--rt-bytes', String(16 * 1024 ** 2)] : ['--trials', '7']),
      ],
    },
    {
      id: 'soak',
      title: 'Soak',
      node: ['--expose-gc'],
      argv: ['scenarios/soak.js', ...(q ? ['--count', '5000', '--warmup', '500'] : ['--count', '100000', '--warmup', '10000'])],
    },
    {
      id: 'lines',
      title: "Lines of a child's output: lines() and child_process + readline",
      node: ['--expose-gc'],
      argv: ['scenarios/lines.js', ...(q ? ['--trials', '3', '--count', '500000', '--hold-mib', '256'] : ['--trials', '5'])],
    },
    {
      id: 'parse',
      title: `Parsed output (runRegex, runNul), ${big1} MiB held`,
      node: ['--expose-gc'],
      argv: ['scenarios/parse.js', '--hold-mib', String(big1), ...(q ? ['--trials', '2', '--lines', '500000'] : ['--trials', '5'])],
    },
    {
      id: 'builder',
      title: 'Builder cost at 1k/10k/100k entries',
      node: ['--expose-gc'],
      argv: ['scenarios/builder.js', ...(q ? ['--trials', '2'] : ['--trials', '5'])],
    },
    {
      id: 'containers',
      title: 'Start time of `true` in a container: vircommand, util-linux unshare, bwrap',
      argv: ['scenarios/containers.js', ...(q ? ['--trials', '3', '--count', '30'] : ['--trials', '7', '--count', '100'])],
    },
  ].filter((s) => all || ((!only || only.has(s.id)) && (!update || update.has(s.id))));
}

function runScenario(s, floor, tmp) {
  const out = path.join(tmp, `${s.id}.json`);
  const nodeArgv = [...(s.node || []), path.join(BENCH, s.argv[0]), ...s.argv.slice(1), '--out', out, '--floor', floor];
  let file = process.execPath;
  let argv = nodeArgv;
  if (s.prlimit) {
    file = 'prlimit';
    argv = [`--nofile=${s.prlimit}:${s.prlimit}`, process.execPath, ...nodeArgv];
  }
  const loadBefore = os.loadavg()[0];
  say(`\n== ${s.id}: ${s.title} (load average ${loadBefore.toFixed(2)})`);
  const t0 = Date.now();
  const r = cp.spawnSync(file, argv, { cwd: BENCH, stdio: ['ignore', 'inherit', 'inherit'], timeout: 30 * 60 * 1000 });
  const seconds = (Date.now() - t0) / 1000;
  const load = { before: loadBefore, after: os.loadavg()[0] };
  if (r.status !== 0 || !fs.existsSync(out)) {
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
    say(`== ${s.id} FAILED after ${seconds.toFixed(0)} s: ${why}`);
    return { id: s.id, title: s.title, error: why, seconds, load };
  }
  say(`== ${s.id} done in ${seconds.toFixed(0)} s`);
  return { id: s.id, title: s.title, seconds, load, prlimit: s.prlimit || null, ...JSON.parse(fs.readFileSync(out, 'utf8')) };
}

// ---- report ---------------------------------------------------------------------------------

const f2 = (x) => (x === undefined || x === null || Number.isNaN(x) ? 'n/a' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fx = (x) => (x === undefined || x === null || Number.isNaN(x) ? 'n/a' : `${x.toFixed(2)}×`);
const cell = (s) => (s ? `${f2(s.median)} (${f2(s.min)}–${f2(s.max)})` : 'n/a');
// A claim that holds says so; one that does not says by how much and why, in the row's note.
const yes = (ok) => (ok === null || ok === undefined ? 'n/a' : ok ? 'holds' : '**does not hold**');

function row(sc, id) {
  return sc && !sc.error && sc.rows ? sc.rows.find((r) => r.id === id) : undefined;
}
function med(sc, id) {
  const r = row(sc, id);
  return r ? r.ms.median : undefined;
}

const OURS = ['ours.runSync', 'ours.run', 'ours.runAsync'];

function latencyTable(cols) {
  // cols: [{ head, sc }]; rows: the union of method ids, in the first scenario's order
  const ids = [];
  for (const c of cols) if (c.sc && c.sc.rows) for (const r of c.sc.rows) if (!ids.includes(r.id)) ids.push(r.id);
  const label = (id) => {
    for (const c of cols) {
      const r = row(c.sc, id);
      if (r) return r.label;
    }
    return id;
  };
  const lines = [];
  const ratioHead = cols.length > 1 ? ` ${cols[cols.length - 1].head} ÷ ${cols[0].head} |` : '';
  lines.push(`| ms per spawn, median (min–max) | ${cols.map((c) => `${c.head} |`).join(' ')}${ratioHead}`);
  lines.push(`|---|${cols.map(() => '---|').join('')}${cols.length > 1 ? '---|' : ''}`);
  for (const id of ids) {
    const cells = cols.map((c) => {
      const r = row(c.sc, id);
      return r ? `${cell(r.ms)} |` : 'n/a |';
    });
    let ratio = '';
    if (cols.length > 1) ratio = ` ${fx(med(cols[cols.length - 1].sc, id) / med(cols[0].sc, id))} |`;
    const bold = OURS.includes(id) ? `**${label(id)}**` : label(id);
    lines.push(`| ${bold} | ${cells.join(' ')}${ratio}`);
  }
  return lines.join('\n');
}

function speedups(sc) {
  const r = (a, b) => med(sc, a) / med(sc, b);
  return [
    `runSync is ${fx(r('cp.spawnSync', 'ours.runSync'))} faster than spawnSync (pipes) and ${fx(r('cp.spawnSync.ignore', 'ours.runSync'))} faster than spawnSync ('ignore');`,
    `run() is ${fx(r('cp.spawn', 'ours.run'))} faster than spawn() and ${fx(r('cp.execFile', 'ours.run'))} faster than execFile();`,
    `against the C floor: runSync ${fx(r('ours.runSync', 'floor.posix_spawn'))}, run() ${fx(r('ours.run', 'floor.posix_spawn'))}, runAsync()+wait() ${fx(r('ours.runAsync', 'floor.posix_spawn'))}, spawnSync ${fx(r('cp.spawnSync', 'floor.posix_spawn'))}.`,
  ].join(' ');
}

function evaluate(res) {
  const by = Object.fromEntries(res.scenarios.map((s) => [s.id, s]));
  const targets = [];
  const add = (n, target, measured, ok, note) => targets.push({ n, target, measured: ok || !note ? measured : `${measured}. ${note}`, ok });

  const lat = by.latency;
  if (lat && !lat.error) {
    const vsPipes = med(lat, 'cp.spawnSync') / med(lat, 'ours.runSync');
    const vsIgnore = med(lat, 'cp.spawnSync.ignore') / med(lat, 'ours.runSync');
    add(1, 'runSync ≥ 2× faster than spawnSync', `${fx(vsPipes)} (pipes), ${fx(vsIgnore)} ('ignore')`, Math.min(vsPipes, vsIgnore) >= 2);
    const vsFloor = med(lat, 'ours.runSync') / med(lat, 'floor.posix_spawn');
    const quiet = row(lat, 'ours.runSync.devnull');
    const quietNote = quiet
      ? `Most of the gap is the two capture pipes: with stdout/stderr on /dev/null runSync is ${fx(quiet.ms.median / med(lat, 'floor.posix_spawn'))} of the floor`
      : undefined;
    add(
      1,
      'runSync within 1.2× of the C floor',
      `${fx(vsFloor)} (${f2(med(lat, 'ours.runSync'))} vs ${f2(med(lat, 'floor.posix_spawn'))} ms)`,
      vsFloor <= 1.2,
      quietNote,
    );
  }
  const b8 = by['big-8g'];
  if (lat && b8 && !lat.error && !b8.error) {
    const ratios = OURS.map((id) => med(b8, id) / med(lat, id));
    add(
      2,
      `vircommand with ${b8.holdMib} MiB held within 1.1× of vircommand with a small parent`,
      OURS.map((id, i) => `${id.replace('ours.', '')} ${fx(ratios[i])}`).join(', '),
      Math.max(...ratios) <= 1.1,
    );
  }
  const hp = by['big-1g-paired'];
  if (hp && !hp.error) {
    const ratio = (id) => (hp.rows.find((r) => r.id === id) || { ratio: {} }).ratio.median;
    add(
      2,
      `runSync() with ${hp.holdMib} MiB held within 1.05× of the same process small (paired per trial, median)`,
      `${fx(ratio('ours.runSync'))} (no capture: ${fx(ratio('ours.runSync.devnull'))})`,
      ratio('ours.runSync') <= 1.05,
    );
    add(
      2,
      `run() with ${hp.holdMib} MiB held within 1.1× of the same process small (paired per trial, median)`,
      fx(ratio('ours.run')),
      ratio('ours.run') <= 1.1,
    );
  }
  const lo = by['fds-low'];
  const hi = by['fds-high'];
  if (lo && hi && !lo.error && !hi.error) {
    const ratios = OURS.map((id) => med(hi, id) / med(lo, id));
    add(
      3,
      `${hi.setup.openFdsNow} fds / limit ${hi.setup.nofile.soft} within 1.2× of ${lo.setup.openFdsNow} fds / limit ${lo.setup.nofile.soft}`,
      OURS.map((id, i) => `${id.replace('ours.', '')} ${fx(ratios[i])}`).join(', '),
      Math.max(...ratios) <= 1.2,
    );
  }
  const cc = by.concurrency;
  if (cc && !cc.error) {
    const o = cc.rows.find((r) => r.id === 'ours.run');
    add(
      4,
      `${cc.count} × run(sleep ${cc.sleep}): event-loop delay p99 < 10 ms`,
      `p99 ${f2(o.delayP99.median)} ms (worst trial ${f2(o.delayP99.max)}); max ${f2(o.delayMax.median)} ms, the launch loop itself ${f2(o.launchMs.median)} ms`,
      o.delayP99.max < 10,
    );
    add(
      4,
      `no threadpool thread held: fs.readFile issued meanwhile completes before any child can exit (< ${cc.sleep * 1000} ms), no thread blocked in a syscall`,
      `${f2(o.readFileMs.median)} ms (worst ${f2(o.readFileMs.max)}); threads outside futex/epoll_wait: ${o.threadsBlocked.max}`,
      o.readFileMs.max < cc.sleep * 1000 && o.threadsBlocked.max === 0,
    );
  }
  const tp = by.throughput;
  if (tp && !tp.error) {
    for (const [set, name, cpSync] of [
      ['out', `capture ${tp.bytes / 1024 ** 3 >= 1 ? `${tp.bytes / 1024 ** 3} GiB` : `${tp.bytes / 1024 ** 2} MiB`}`, 'cp.spawnSync'],
      ['roundtrip', `${tp.rtBytes / 1024 ** 2} MiB stdin→cat→stdout`, 'cp.spawnSync'],
    ]) {
      const rows = tp[set];
      const mb = (id) => (rows.find((r) => r.id === id) || {}).mbps;
      const m = (id) => (mb(id) || {}).median;
      const floorId = set === 'out' ? 'floor.read' : 'floor.cat';
      const run = m('ours.run');
      const sync = m('ours.runSync');
      const pair = (a, b) => ((tp[`${set}Pairs`] || []).find((p) => p.a === a && p.b === b) || {}).ratio;
      const paired = (a, b) => {
        const r = pair(a, b);
        return r ? ` (${fx(r.median)}, ${fx(r.min)}–${fx(r.max)} per trial)` : '';
      };
      add(
        5,
        `${name}: ≥ child_process MB/s`,
        `run ${f2(run)} vs spawn ${f2(m('cp.spawn'))}${paired('ours.run', 'cp.spawn')}; runSync ${f2(sync)} vs spawnSync ${f2(m(cpSync))} MB/s${paired('ours.runSync', 'cp.spawnSync')}`,
        run >= m('cp.spawn') && sync >= m(cpSync),
      );
      add(
        5,
        `${name}: ≥ 70% of the C floor`,
        `run ${((100 * run) / m(floorId)).toFixed(0)}%, runSync ${((100 * sync) / m(floorId)).toFixed(0)}% of ${f2(m(floorId))} MB/s`,
        Math.min(run, sync) >= 0.7 * m(floorId),
      );
    }
  }
  const sk = by.soak;
  if (sk && !sk.error) {
    const growthMB = (sk.rssGrowthMib * 1048576) / 1e6;
    const outsideMB = (sk.rssOutsideV8GrowthMib * 1048576) / 1e6;
    const v8MB = ((sk.end.heapTotalMib - sk.start.heapTotalMib) * 1048576) / 1e6;
    add(
      6,
      `${sk.count} mixed spawns: RSS growth < 10 MB`,
      `${growthMB.toFixed(1)} MB (${f2(sk.start.rssMib)} → ${f2(sk.end.rssMib)} MiB), of which V8's committed heap ${v8MB.toFixed(1)} MB`,
      growthMB < 10,
      `V8 grows its young generation to the maximum under steady allocation, as in any long-running Node process; the memory vircommand itself holds (outside V8's heap) grew ${outsideMB.toFixed(1)} MB`,
    );
    add(6, "(diagnostic) RSS outside V8's heap (native memory) growth < 10 MB", `${outsideMB.toFixed(1)} MB`, outsideMB < 10);
    const half = sk.curve[Math.floor((sk.curve.length - 1) / 2)];
    const last = sk.curve[sk.curve.length - 1];
    const halfMB = ((last.rssMib - half.rssMib) * 1048576) / 1e6;
    add(6, `(diagnostic) RSS growth over the second half (spawns ${half.spawns}–${last.spawns}) < 5 MB: no steady leak`, `${halfMB.toFixed(1)} MB`, halfMB < 5);
    add(
      6,
      'open fds and child processes unchanged',
      `fds ${sk.start.openFds} → ${sk.end.openFds}, children ${sk.start.children} → ${sk.end.children} (zombies ${sk.end.zombies})`,
      sk.start.openFds === sk.end.openFds && sk.start.children === sk.end.children,
    );
  }
  const ln = by.lines;
  if (ln && !ln.error) {
    const o = row(ln, 'ours.lines');
    const c = row(ln, 'cp.readline');
    const held = ln.holdMib >= 1024 ? `${ln.holdMib / 1024} GiB` : `${ln.holdMib} MiB`;
    add(
      8,
      `lines() over \`seq 1 ${ln.count}\`, ${held} held: at least as fast as child_process + readline`,
      `${f2(o.ms.median)} vs ${f2(c.ms.median)} ms (${fx(c.ms.median / o.ms.median)} faster)`,
      o.ms.median <= c.ms.median,
    );
    add(
      8,
      'lines(): event-loop delay max ≤ 20 ms while the lines stream',
      `max ${f2(o.delayMax.median)} ms (worst trial ${f2(o.delayMax.max)}), p99 ${f2(o.delayP99.median)} ms; readline: max ${f2(c.delayMax.median)}, p99 ${f2(c.delayP99.median)} ms`,
      o.delayMax.max <= 20,
    );
  }
  evaluateParse(by.parse, 9, add);
  const ct = by.containers;
  const ours = ct && !ct.error ? row(ct, 'ours.chroot') : undefined;
  const theirs = ct && !ct.error ? row(ct, 'unshare') : undefined;
  if (ours && theirs && ours.ms && theirs.ms) {
    add(
      10,
      'start of `true` in a container no slower than util-linux `unshare --map-root-user` (same container)',
      `${f2(ours.ms.median)} vs ${f2(theirs.ms.median)} ms (${fx(ours.ms.median / theirs.ms.median)})`,
      ours.ms.median <= theirs.ms.median,
    );
  }
  return targets;
}

function loadRange(res) {
  const v = res.scenarios.flatMap((s) => (s.load ? [s.load.before, s.load.after] : []));
  return v.length ? `${Math.min(...v).toFixed(2)}–${Math.max(...v).toFixed(2)}` : 'n/a';
}

function markdown(res) {
  const m = res.machine;
  const by = Object.fromEntries(res.scenarios.map((s) => [s.id, s]));
  const L = [];
  L.push('<!-- Generated by `npm run bench` (scripts/bench/run.js); do not edit by hand. -->');
  L.push('');
  L.push(
    `Measured ${m.date.slice(0, 10)} on ${m.cores} cores (${m.cpuModel}), Linux ${m.kernel}, ${m.arch}, Node ${m.node}, glibc ${m.libc}, ` +
      `${m.memTotalGiB.toFixed(0)} GiB RAM; vircommand ${m.vircommand}${m.commit ? ` at ${m.commit}${m.dirty ? ' (uncommitted changes)' : ''}` : ''}` +
      `${m.addon ? `, addon ${m.addon.path} sha256 ${m.addon.sha256}` : ''}. ` +
      `Each figure is the median of the trials, with min–max; every method is measured in the same process, trials interleaved. ` +
      `The C floor is scripts/bench/floor.c (\`cc -O2\`), run as a child of the scenario. ` +
      `1-minute load average around the scenarios: ${loadRange(res)}.${m.mode === 'quick' ? ' **Quick mode: small counts, not the reference figures.**' : ''}`,
  );
  const later = res.scenarios.filter((s) => s.measured);
  if (later.length > 0) {
    L.push('');
    L.push(
      `Measured again later (\`npm run bench -- --update\`), each with its own load average: ${later
        .map(
          (s) =>
            `${s.id} on ${s.measured.date.slice(0, 10)} at ${s.measured.commit ?? '?'}${s.measured.dirty ? ' (uncommitted changes)' : ''}` +
            `${s.measured.addon ? `, addon sha256 ${s.measured.addon.sha256}` : ''} (load ${s.load.before.toFixed(2)}–${s.load.after.toFixed(2)})`,
        )
        .join('; ')}.`,
    );
  }
  L.push('');
  const targets = evaluate(res);
  L.push('#### What holds on this machine');
  L.push('');
  L.push('| scenario | claim | measured | |');
  L.push('|---|---|---|---|');
  for (const t of targets) L.push(`| ${t.n} | ${t.target} | ${t.measured} | ${yes(t.ok)} |`);
  const failed = res.scenarios.filter((s) => s.error);
  for (const s of failed) L.push(`| – | scenario ${s.id} | failed: ${s.error} | **not measured** |`);
  L.push('');

  if (by.latency && !by.latency.error) {
    L.push('#### 1. Spawn latency of `/bin/true`');
    L.push('');
    L.push(latencyTable([{ head: 'small parent', sc: by.latency }]));
    L.push('');
    L.push(speedups(by.latency));
    L.push(
      `Parent RSS ${f2(by.latency.setup.rssMib)} MiB. run() and runSync() capture stdout and stderr by default (as libvirt does), like spawnSync's default pipes; runAsync() sends them to /dev/null.`,
    );
    L.push('');
  }
  const bigCols = [
    { head: 'small', sc: by.latency },
    { head: by['big-1g'] && `${by['big-1g'].holdMib} MiB`, sc: by['big-1g'] },
    { head: by['big-8g'] && `${by['big-8g'].holdMib} MiB`, sc: by['big-8g'] },
  ].filter((c) => c.sc && !c.sc.error);
  if (bigCols.length > 1) {
    L.push('#### 2. Big parents (touched Buffers held by the parent)');
    L.push('');
    L.push(latencyTable(bigCols));
    L.push('');
    const b8 = by['big-8g'];
    if (b8 && !b8.error) {
      L.push(
        `Parent RSS: ${bigCols.map((c) => `${c.head} ${f2(c.sc.setup.rssMib)} MiB`).join(', ')}. ` +
          `The C floor held the same memory${b8.floorHoldMib ? '' : ' only where there was room for a second copy (not at the largest size: it ran small)'}; ` +
          '"C floor, small parent" is the same C program without it. child_process runs fewer spawns per trial as they slow down.',
      );
      L.push('');
    }
  }
  const hp = by['big-1g-paired'];
  if (hp && !hp.error) {
    L.push(`#### 2b. Big parent, paired: ${hp.holdMib} MiB held ÷ the same process small`);
    L.push('');
    L.push(
      `One process alternates per trial: ${hp.holdMib} MiB of touched Buffers held, then released and collected (or the other way round), ${hp.n} spawns per method and phase (child_process: 10); the ratio is of the same trial's two phases, so the machine's load moves both sides.`,
    );
    L.push('');
    L.push(`| ms per spawn, median (min–max) of ${hp.trials} trials | small | ${hp.holdMib} MiB | held ÷ small, per trial: median (min–max) |`);
    L.push('|---|---|---|---|');
    for (const r of hp.rows) {
      L.push(
        `| ${OURS.includes(r.id) ? `**${r.label}**` : r.label} | ${cell(r.small)} | ${cell(r.held)} | ${fx(r.ratio.median)} (${fx(r.ratio.min)}–${fx(r.ratio.max)}) |`,
      );
    }
    L.push('');
    L.push(
      `Parent RSS: small ${f2(hp.rssMib.small.median)} MiB, held ${f2(hp.rssMib.held.median)} MiB. Load average (1 min) at the start and the end: ${hp.loadavg1.map((l) => l.toFixed(2)).join(', ')} on ${hp.cpus} CPUs.`,
    );
    L.push('');
  }
  const lo = by['fds-low'];
  const hi = by['fds-high'];
  if (lo && hi && !lo.error && !hi.error) {
    L.push('#### 3. Many fds');
    L.push('');
    const head = (s) => `limit ${s.setup.nofile.soft}, ${s.setup.openFdsNow} fds`;
    L.push(
      latencyTable([
        { head: head(lo), sc: lo },
        { head: head(hi), sc: hi },
      ]),
    );
    L.push('');
    const nh = res.nofileHigh;
    if (nh && nh.capped) {
      L.push(
        `RLIMIT_NOFILE ${FDS_WANTED_LIMIT} could not be set here (${nh.tried.map((t) => `${t.limit}: ${t.error}`).join('; ')}); the highest allowed, ${nh.limit}, was used.`,
      );
      L.push('');
    }
    L.push(
      'The C rows with `clone` are diagnostic variants from floor.c: closing every inherited fd as vircommand does, and the same with the fd table shared at clone and unshared by `close_range(CLOSE_RANGE_UNSHARE)`, which copies only the fds below 3.',
    );
    L.push('');
  }
  const cc = by.concurrency;
  if (cc && !cc.error) {
    L.push(`#### 4. Concurrency: ${cc.count} children of \`sleep ${cc.sleep}\` at once`);
    L.push('');
    L.push(
      '| median (min–max), ms | total | launch loop | loop delay p50 | p99 | max | waiting phase p99 | longest turn after launch | fs.readFile meanwhile | threads held |',
    );
    L.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const r of cc.rows) {
      const backlog = r.backlogTurnMs ? `${cell(r.backlogTurnMs)}, ${f2(r.backlogSettled.median)} settled` : 'n/a';
      L.push(
        `| ${OURS.includes(r.id) ? `**${r.label}**` : r.label} | ${cell(r.totalMs)} | ${cell(r.launchMs)} | ${cell(r.delayP50)} | ${cell(r.delayP99)} | ${cell(r.delayMax)} | ${cell(r.waitingP99)} | ${backlog} | ${cell(r.readFileMs)} | ${r.threadsBlocked.max} |`,
      );
    }
    L.push('');
    L.push(
      'Event-loop delay is `perf_hooks.monitorEventLoopDelay({ resolution: 1 })`, enabled from before the launch loop (all the run() calls, one synchronous loop) to the last exit; "waiting phase" starts after the loop. "Longest turn after launch": the longest of the first six event-loop turns after the loop (setImmediate to setImmediate), in which the children that exited during the launch loop are reaped and their promises settled (with how many had settled by the sixth). fs.readFile is issued right after the loop and needs the libuv threadpool. "Threads held": threads other than the main one found, right after the launch loop, blocked in a syscall other than futex or epoll_wait (/proc/self/task/*/syscall), worst trial.',
    );
    L.push('');
  }
  const tp = by.throughput;
  if (tp && !tp.error) {
    L.push('#### 5. Throughput (MB/s = 10⁶ bytes per second)');
    L.push('');
    for (const [set, title, cpId, floorId] of [
      ['out', `Capturing ${tp.bytes / 1024 ** 2} MiB of stdout from \`floor write\` (64 KiB writes)`, 'cp.spawn', 'floor.read'],
      ['roundtrip', `${tp.rtBytes / 1024 ** 2} MiB through \`/bin/cat\` (stdin from memory, stdout captured)`, 'cp.spawn', 'floor.cat'],
    ]) {
      const rows = tp[set];
      const mbOf = (id) => (rows.find((r) => r.id === id) || { mbps: {} }).mbps.median;
      L.push(`${title}:`);
      L.push('');
      L.push('| | MB/s median (min–max) | seconds | parent CPU ms, median (min–max) | ÷ child_process spawn() | ÷ C floor (capturing) |');
      L.push('|---|---|---|---|---|---|');
      for (const r of rows) {
        L.push(
          `| ${OURS.includes(r.id) ? `**${r.label}**` : r.label} | ${cell(r.mbps)} | ${f2(r.ms.median / 1000)} | ${r.cpuMs ? cell(r.cpuMs) : 'n/a'} | ${fx(r.mbps.median / mbOf(cpId))} | ${fx(r.mbps.median / mbOf(floorId))} |`,
        );
      }
      L.push('');
      const pairs = tp[`${set}Pairs`] || [];
      if (pairs.length > 0) {
        const name = (id) => id.replace(/^ours\./, '').replace(/^cp\./, '') + '()';
        L.push(
          `Per trial, the same trial's pair (MB/s ÷ MB/s, above 1× ours is faster), median (min–max) of ${tp.trials} trials: ` +
            pairs.map((p) => `${name(p.a)} ÷ ${name(p.b)} ${fx(p.ratio.median)} (${fx(p.ratio.min)}–${fx(p.ratio.max)})`).join(', ') +
            `. Load average (1 min) at the start, between the sets and at the end: ${(tp.loadavg1 || []).map((l) => l.toFixed(2)).join(', ')} on ${tp.cpus} CPUs.`,
        );
        L.push('');
      }
    }
  }
  const sk = by.soak;
  if (sk && !sk.error) {
    L.push(`#### 6. Soak: ${sk.count} spawns of mixed kinds`);
    L.push('');
    L.push(
      `Kinds in rotation: ${sk.kinds.join(', ')}. ${(sk.elapsedMs / 1000).toFixed(0)} s, ${(sk.count / (sk.elapsedMs / 1000)).toFixed(0)} spawns/s. Snapshots after gc(), the start one after ${sk.warmup} spawns of warm-up; commands are never free()d.`,
    );
    L.push('');
    L.push('| | start | end | change |');
    L.push('|---|---|---|---|');
    for (const [k, name] of [
      ['rssMib', 'RSS, MiB'],
      ['rssOutsideV8Mib', "RSS outside V8's committed heap, MiB"],
      ['heapTotalMib', 'V8 heap committed, MiB'],
      ['newSpaceMib', 'of which new space, MiB'],
      ['heapUsedMib', 'V8 heap used, MiB'],
      ['externalMib', 'external memory, MiB'],
      ['openFds', 'open fds'],
      ['children', 'child processes'],
      ['zombies', 'zombies'],
    ]) {
      L.push(`| ${name} | ${f2(sk.start[k])} | ${f2(sk.end[k])} | ${f2(sk.end[k] - sk.start[k])} |`);
    }
    L.push('');
    L.push(
      `RSS along the way (MiB, every ${sk.count / 10} spawns): ${sk.curve.map((c) => f2(c.rssMib)).join(' → ')}; V8 heap committed: ${sk.curve.map((c) => f2(c.heapTotalMib)).join(' → ')}.`,
    );
    L.push('');
  }
  const bd = by.builder;
  if (bd && !bd.error) {
    L.push(`#### 7. Builder cost: one command with n entries`);
    L.push('');
    L.push(
      `| ms, median (min–max) | ${bd.sizes.map((n) => `n = ${n}`).join(' | ')} | µs per entry, n = ${bd.sizes[bd.sizes.length - 1]} ÷ n = ${bd.sizes[0]} |`,
    );
    L.push(`|---|${bd.sizes.map(() => '---|').join('')}---|`);
    for (const r of bd.rows) L.push(`| ${r.label} | ${bd.sizes.map((n) => cell(r.bySize[n].ms)).join(' | ')} | ${fx(r.growth)} |`);
    L.push('');
    L.push(
      'Linear building shows as a per-entry cost that stays flat as n grows (the last column near 1×; garbage collection of the larger heaps adds some); a quadratic path would grow it about 100× from n = 1,000 to n = 100,000.',
    );
    L.push('');
  }
  const ln = by.lines;
  if (ln && !ln.error) {
    L.push(`#### 8. Lines: \`seq 1 ${ln.count}\` read line by line, ${ln.holdMib} MiB of touched Buffers held`);
    L.push('');
    L.push('| median (min–max) | ms | ÷ readline | event-loop delay max, ms | p99, ms |');
    L.push('|---|---|---|---|---|');
    const cpMs = med(ln, 'cp.readline');
    for (const r of ln.rows) {
      L.push(
        `| ${r.id === 'ours.lines' ? `**${r.label}**` : r.label} | ${cell(r.ms)} | ${fx(r.ms.median / cpMs)} | ${cell(r.delayMax)} | ${cell(r.delayP99)} |`,
      );
    }
    L.push('');
    L.push(
      "Each loop counts the lines and adds up their lengths. Time: from the spawn to the end of the loop and the child's end (`wait()`, `'close'`). Event-loop delay: `perf_hooks.monitorEventLoopDelay({ resolution: 1 })` over the same span.",
    );
    L.push('');
  }
  L.push(...markdownParse(by.parse, 9));
  L.push(...markdownContainers(by.containers, 10));
  return L.join('\n');
}

// The containers scenario: each tool's start of `true` in the same container, and the ratio to
// util-linux unshare (the issue's bar: vircommand no slower) and to the bare launch.
function markdownContainers(ct, n) {
  if (!ct || ct.error || !ct.rows || ct.rows.length === 0) return [];
  const L = [`#### ${n}. Start time of \`true\` in a container (uid ${ct.uid}; ${ct.trials} rounds × ${ct.count}, interleaved)`, ''];
  const u = ct.rows.find((r) => r.id === 'unshare');
  const unshareMs = u && u.ms ? u.ms.median : NaN;
  L.push('| ms per start, median (min–max) | ms | ÷ unshare |');
  L.push('|---|---|---|');
  for (const r of ct.rows) L.push(`| ${r.label} | ${r.error ? r.error : cell(r.ms)} | ${r.error ? 'n/a' : fx(r.ms.median / unshareMs)} |`);
  L.push('');
  L.push(
    "Every tool is started by vircommand's plain `runSync()`, so each row includes the first row's launch. The busybox root is Debian's busybox-static; the caller is mapped to root in a new user namespace in every row.",
  );
  L.push('');
  return L;
}

// ---- main -----------------------------------------------------------------------------------

/** Writes the performance excerpt of docs/performance.md from the reference results (readme-excerpt.js). */
function writeReadmeExcerpt(md) {
  const { PAGE, splice } = require('./readme-excerpt');
  const pageFile = path.join(ROOT, PAGE);
  fs.writeFileSync(pageFile, splice(fs.readFileSync(pageFile, 'utf8'), `${md}\n`));
  say(`bench: ${PAGE}'s performance excerpt rewritten from results.md`);
}

function main() {
  if (args['report-only']) {
    // Rewrites results.md from results.json (after a change to the report's layout).
    const file = path.join(outDir === BENCH ? BENCH : outDir, `${outBase}.json`);
    const results = JSON.parse(fs.readFileSync(file, 'utf8'));
    results.targets = evaluate(results);
    fs.writeFileSync(file, JSON.stringify(results, null, 1) + '\n');
    fs.writeFileSync(path.join(outDir, `${outBase}.md`), markdown(results) + '\n');
    say(`bench: rewrote ${path.join(outDir, `${outBase}.md`)} from ${file}`);
    if (outDir === BENCH && !quick) writeReadmeExcerpt(markdown(results));
    return;
  }
  const t0 = Date.now();
  ensureDist();
  const floor = buildFloor();
  const nofileHigh = pickHighNofile();
  const info = machine();
  say(
    `bench (${info.mode}): ${info.cores} cores, Linux ${info.kernel}, Node ${info.node}; floor ${floor}; high RLIMIT_NOFILE ${nofileHigh.limit}${nofileHigh.capped ? ' (capped)' : ''}`,
  );
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vircommand-bench-run-'));
  const results = { machine: info, nofileHigh, scenarios: [] };
  for (const s of scenarios(floor, nofileHigh)) results.scenarios.push(runScenario(s, floor, tmp));
  if (update) {
    // Into the reference results: the re-measured scenarios replace theirs (or are added, in
    // the order of the list), each stamped with when and what it measured.
    const file = path.join(BENCH, `${outBase}.json`);
    const ref = JSON.parse(fs.readFileSync(file, 'utf8'));
    const order = scenarios(floor, nofileHigh, true).map((s) => s.id);
    for (const s of results.scenarios) {
      s.measured = { date: info.date, commit: info.commit, dirty: info.dirty, addon: info.addon };
      const i = ref.scenarios.findIndex((r) => r.id === s.id);
      if (i >= 0) ref.scenarios[i] = s;
      else ref.scenarios.push(s);
    }
    ref.scenarios.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
    ref.targets = evaluate(ref);
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.writeFileSync(file, JSON.stringify(ref, null, 1) + '\n');
    const md = markdown(ref);
    fs.writeFileSync(path.join(BENCH, `${outBase}.md`), md + '\n');
    say(`\n${md}\n`);
    say(`bench: ${((Date.now() - t0) / 1000).toFixed(0)} s; updated ${[...update].join(', ')} in ${file} and results.md`);
    writeReadmeExcerpt(md);
    if (results.scenarios.some((s) => s.error)) process.exitCode = 1;
    return;
  }
  results.totalSeconds = (Date.now() - t0) / 1000;
  results.targets = evaluate(results);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, `${outBase}.json`), JSON.stringify(results, null, 1) + '\n');
  const md = markdown(results);
  fs.writeFileSync(path.join(outDir, `${outBase}.md`), md + '\n');
  say(`\n${md}\n`);
  say(`bench: ${results.totalSeconds.toFixed(0)} s; wrote ${path.join(outDir, `${outBase}.md`)} and .json`);
  // a reference run: docs/performance.md shows its figures
  if (outDir === BENCH && !quick && !only) writeReadmeExcerpt(md);
  const failed = results.scenarios.filter((s) => s.error);
  if (failed.length > 0) process.exitCode = 1;
}

main();
