'use strict';
// Builder cost: building one command with n arguments, environment entries, passed fds or
// groups, and turning it into a plan (a dry run, which builds the NativePlan and the command
// line, without spawning), at n = 1,000, 10,000 and 100,000. Linear growth shows as a
// per-entry cost that stays flat from one n to the next; a quadratic path (addEnvPair's scan
// per entry took ~26 s for 100,000 entries) shows as a per-entry cost growing with n.
//
//   node builder.js --out F [--trials 5] [--sizes 1000,10000,100000]

const lib = require('../lib');

const args = lib.parseArgs();
const trials = Number(args.trials || 5);
const sizes = String(args.sizes || '1000,10000,100000')
  .split(',')
  .map(Number);

const { Command, setDryRun } = lib.loadPackage();

const names = (n, prefix) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

// Each method builds a command of size n; `prepare(n)` makes its inputs outside the timing.
const methods = [
  {
    id: 'addEnvPair',
    label: '`addEnvPair(name, value)` × n (new names)',
    prepare: (n) => names(n, 'VAR_'),
    fn: (c, a) => {
      for (const k of a) c.addEnvPair(k, 'value');
    },
  },
  {
    id: 'addEnvPair.replace',
    label: '`addEnvPair()` × n over 100 names (replacing in place)',
    prepare: (n) => Array.from({ length: n }, (_, i) => `VAR_${i % 100}`),
    fn: (c, a) => {
      for (const k of a) c.addEnvPair(k, 'value');
    },
  },
  {
    id: 'addEnvString',
    label: "`addEnvString('K=V')` × n",
    prepare: (n) => names(n, 'VAR_').map((k) => `${k}=value`),
    fn: (c, a) => {
      for (const e of a) c.addEnvString(e);
    },
  },
  {
    id: 'addArg',
    label: '`addArg(a)` × n',
    prepare: (n) => names(n, 'arg'),
    fn: (c, a) => {
      for (const x of a) c.addArg(x);
    },
  },
  {
    id: 'addArgPair',
    label: '`addArgPair(name, value)` × n',
    prepare: (n) => names(n, '-opt'),
    fn: (c, a) => {
      for (const x of a) c.addArgPair(x, 'v');
    },
  },
  {
    id: 'addArgFormat',
    label: "`addArgFormat('--x=%d', i)` × n",
    prepare: (n) => n,
    fn: (c, n) => {
      for (let i = 0; i < n; i++) c.addArgFormat('--x=%d', i);
    },
  },
  { id: 'addArgSet', label: '`addArgSet(args)`, one array of n', prepare: (n) => names(n, 'arg'), fn: (c, a) => c.addArgSet(a) },
  {
    id: 'passFD',
    label: '`passFD(fd)` × n (fd numbers only, nothing spawned)',
    prepare: (n) => Array.from({ length: n }, (_, i) => 3 + i),
    fn: (c, a) => {
      for (const fd of a) c.passFD(fd);
    },
  },
  // setGroups takes at most NGROUPS_MAX (65536) ids: n is capped there.
  {
    id: 'setGroups',
    label: '`setGroups(gids)`, one array of n (at most 65,536: NGROUPS_MAX)',
    count: (n) => Math.min(n, 65536),
    prepare: (n) => Array.from({ length: Math.min(n, 65536) }, (_, i) => i),
    fn: (c, a) => c.setGroups(a),
  },
  {
    id: 'toString.linebreaks',
    label: '`toString({ linebreaks: true })` of n arguments (options and values)',
    prepare: (n) => {
      const c = new Command('true');
      for (let i = 0; i < n; i++) c.addArg(i % 3 ? 'v' : '-o');
      return c;
    },
    fn: (_c, built) => built.toString({ linebreaks: true }),
  },
  {
    id: 'plan',
    label: 'n arguments + n env entries, then a dry `runSync()` (plan and command line)',
    prepare: (n) => ({ a: names(n, 'arg'), e: names(n, 'VAR_') }),
    fn: (c, { a, e }) => {
      for (const x of a) c.addArg(x);
      for (const k of e) c.addEnvPair(k, 'v');
      setDryRun({});
      try {
        c.runSync();
      } finally {
        setDryRun(null);
      }
    },
  },
];

function measure(m, n) {
  const input = m.prepare(n);
  const t0 = lib.nowNs();
  m.fn(new Command('true'), input);
  return lib.msSince(t0);
}

const rows = [];
for (const m of methods) {
  const row = { id: m.id, label: m.label, bySize: {} };
  for (const n of sizes) {
    measure(m, Math.min(n, 1000)); // warm-up
    const ms = [];
    for (let t = 0; t < trials; t++) {
      lib.collect();
      ms.push(measure(m, n));
    }
    const s = lib.summarize(ms);
    row.bySize[n] = { ms: s, usPerEntry: (s.median * 1000) / (m.count ? m.count(n) : n) };
  }
  const first = row.bySize[sizes[0]].usPerEntry;
  const last = row.bySize[sizes[sizes.length - 1]].usPerEntry;
  row.growth = last / first; // per-entry cost, largest n ÷ smallest n: ~1 when linear
  lib.log(`${m.id.padEnd(22)} ${sizes.map((n) => `${n}: ${row.bySize[n].ms.median.toFixed(1)} ms`).join(', ')}; per entry ×${row.growth.toFixed(2)}`);
  rows.push(row);
}

lib.emit(args, { sizes, trials, rows });
