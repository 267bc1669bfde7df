#!/usr/bin/env node
'use strict';
// Spawn cost with and without new namespaces: runSync('/bin/true') per spawn,
// median over rounds, in one process. `--before ADDON.node` also times an older build of the
// addon on the plain spawn, interleaved round by round with this one, to show that the clone
// path without namespaces kept its speed. Needs `npm run build:ts`; the namespace rows need root
// (or unprivileged user namespaces for the user rows) and cgroup v2 for the cgroup row.
//
//   node scripts/bench/namespaces.js [--rounds 7] [--count 300] [--before /path/to/old.node]

const path = require('node:path');
const { parseArgs, summarize } = require('./lib');

const args = parseArgs();
const rounds = Number(args.rounds ?? 7);
const count = Number(args.count ?? 300);
const dist = path.join(__dirname, '..', '..', 'dist');
const { Command } = require(dist);
const native = require(path.join(dist, 'native.js'));
const before = args.before ? require(path.resolve(args.before)) : null;

const uid = process.getuid();
const gid = process.getgid();
const cases = [
  ['no namespace', (c) => c],
  ['unshare net (at clone)', (c) => c.unshare(['net'])],
  ['unshare pid (at clone: program is pid 1)', (c) => c.unshare(['pid'])],
  ['unshare mnt (private propagation)', (c) => c.unshare(['mnt'])],
  ['unshare pid + remountProc', (c) => c.unshare(['pid']).remountProc()],
  [
    'unshare user + uid/gid maps (own-memory clone)',
    (c) =>
      c
        .unshare(['user'])
        .setUidMappings([{ inside: 0, outside: uid, count: 1 }])
        .setGidMappings([{ inside: 0, outside: gid, count: 1 }]),
  ],
];

// A fresh cgroup v2 group for the joinCgroup rows (root; removed at the end), or null.
function makeCgroup() {
  const line = require('node:fs')
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' - ')[1]?.startsWith('cgroup2 '));
  if (!line) return null;
  const dir = path.join(line.split(' ')[4], `vc-bench-ns-${process.pid}`);
  try {
    require('node:fs').mkdirSync(dir);
    return dir;
  } catch {
    return null;
  }
}
const cgroup = makeCgroup();
if (cgroup) cases.push(['joinCgroup (clone3 CLONE_INTO_CGROUP)', (c) => c.joinCgroup(cgroup)]);
process.on('exit', () => cgroup && require('node:fs').rmdirSync(cgroup));

function timeOne(make) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) make(new Command('/bin/true')).runSync();
  return Number(process.hrtime.bigint() - t0) / 1e6 / count;
}

const results = new Map();
const add = (k, v) => (results.get(k) ?? results.set(k, []).get(k)).push(v);
for (let r = 0; r < rounds; r++) {
  if (before) {
    native.setNativeBinding(before);
    add(
      'no namespace (--before addon)',
      timeOne((c) => c),
    );
    if (cgroup)
      add(
        'joinCgroup (--before addon: child writes cgroup.procs)',
        timeOne((c) => c.joinCgroup(cgroup)),
      );
    native.setNativeBinding(null);
  }
  for (const [name, make] of cases) {
    try {
      add(name, timeOne(make));
    } catch (e) {
      results.set(name, `fails here: ${e.stage ?? ''} ${e.code ?? e.message}`);
    }
  }
}
console.log(`runSync('/bin/true'), ms per spawn, median of ${rounds} rounds x ${count} (min-max); uid ${uid}`);
for (const [name, v] of results) {
  if (typeof v === 'string') console.log(`  ${name.padEnd(48)} ${v}`);
  else {
    const s = summarize(v);
    console.log(`  ${name.padEnd(48)} ${s.median.toFixed(3)} (${s.min.toFixed(3)}-${s.max.toFixed(3)})`);
  }
}
