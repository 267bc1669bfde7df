'use strict';
// Start time of `true` in a container, side by side in one process, round by round: vircommand
// against util-linux `unshare` and bubblewrap, each asked for the same container (a new user
// namespace with the caller mapped to root, new pid and mount namespaces, a fresh /proc, a
// busybox root). The tools are started by vircommand's plain runSync(), the cheapest launcher
// here, so every row pays the same launch; the first row is that launch alone.
//
//   node containers.js --out F [--trials 7] [--count 100]

const cp = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const lib = require('../lib');

const args = lib.parseArgs();
const trials = Number(args.trials || 7);
const count = Number(args.count || 100);
const { Command } = lib.loadPackage();

function which(tool) {
  const r = cp.spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** True when the ELF file at `file` has no program interpreter (PT_INTERP): statically linked. 64-bit little-endian only. */
function isStaticElf(file) {
  const b = fs.readFileSync(file);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) return false;
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) return false;
  return true;
}

// The busybox root (Debian's busybox-static), or null.
function makeRoot() {
  const bb = ['/bin/busybox', '/usr/bin/busybox'].find((p) => fs.existsSync(p));
  if (!bb || !isStaticElf(bb)) return null;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vc-bench-root-'));
  fs.chmodSync(root, 0o755);
  for (const d of ['bin', 'proc', 'dev', 'tmp']) fs.mkdirSync(path.join(root, d));
  fs.copyFileSync(bb, path.join(root, 'bin/busybox'));
  fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
  fs.symlinkSync('busybox', path.join(root, 'bin/true'));
  return root;
}

const root = makeRoot();
if (root === null) {
  lib.log('containers: no static busybox (apt-get install busybox-static): nothing measured');
  lib.emit(args, { error: 'no static busybox', rows: [] });
  process.exit(0);
}
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

const uid = process.getuid();
const gid = process.getgid();
const maps = (c) =>
  c
    .unshare(['user', 'pid', 'mnt'])
    .setUidMappings([{ inside: 0, outside: uid, count: 1 }])
    .setGidMappings([{ inside: 0, outside: gid, count: 1 }]);
const unshareBin = which('unshare');
const bwrapBin = which('bwrap');

// id, label, the command of one start (made fresh each time, as a caller would).
const methods = [
  { id: 'launch', label: '`true` on the host, no container (the launch itself)', make: () => new Command('/bin/true') },
  {
    id: 'ours.chroot',
    label: '**vircommand**: maps, pid, mnt, `remountProc()`, `chroot(root)`',
    make: () => maps(new Command('/bin/true')).remountProc().chroot(root),
  },
  {
    id: 'unshare',
    label: '`unshare --map-root-user --pid --fork --mount-proc --root root true`',
    tool: unshareBin,
    make: () => new Command(unshareBin, '--map-root-user', '--pid', '--fork', '--mount-proc', '--root', root, '/bin/true'),
  },
  {
    id: 'ours.pivot',
    label: '**vircommand**: maps, pid, mnt, `pivotRoot(root)`, `remountProc()`, `addDevMount()`',
    make: () => maps(new Command('/bin/true')).pivotRoot(root).remountProc().addDevMount(),
  },
  {
    id: 'bwrap',
    label: '`bwrap --unshare-user --uid 0 --gid 0 --unshare-pid --bind root / --proc /proc --dev /dev true`',
    tool: bwrapBin,
    make: () =>
      new Command(
        bwrapBin,
        '--unshare-user',
        '--uid',
        '0',
        '--gid',
        '0',
        '--unshare-pid',
        '--bind',
        root,
        '/',
        '--proc',
        '/proc',
        '--dev',
        '/dev',
        '/bin/true',
      ),
  },
];

const times = new Map();
const failures = new Map();
function timeOne(m) {
  const t0 = lib.nowNs();
  for (let i = 0; i < count; i++) m.make().runSync();
  return lib.msSince(t0) / count;
}
for (const m of methods) {
  if (m.tool === null) {
    failures.set(m.id, `${m.id} is not installed`);
    continue;
  }
  try {
    m.make().runSync(); // warm-up, and a failure here says why the row is missing
  } catch (e) {
    failures.set(
      m.id,
      `fails here: ${e.stage ?? ''} ${e.code ?? ''} ${String(e.stderr ?? e.message)
        .trim()
        .slice(0, 200)}`,
    );
  }
}
for (let t = 0; t < trials; t++) {
  for (const m of methods) {
    if (failures.has(m.id)) continue;
    (times.get(m.id) ?? times.set(m.id, []).get(m.id)).push(timeOne(m));
  }
}
const rows = methods.map((m) =>
  failures.has(m.id) ? { id: m.id, label: m.label, error: failures.get(m.id) } : { id: m.id, label: m.label, ms: lib.summarize(times.get(m.id)) },
);
for (const r of rows) lib.log(`${r.id.padEnd(12)} ${r.error ?? `${r.ms.median.toFixed(3)} ms (${r.ms.min.toFixed(3)}-${r.ms.max.toFixed(3)})`}`);
lib.emit(args, { trials, count, uid, rows });
