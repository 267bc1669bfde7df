'use strict';
// Parsed output: runRegex() and runNul() side by side with what a child_process user writes for
// the same job, with touched Buffers held by the parent (a big daemon), in one process.
//  - regex: the lines of `seq 1 N`, each matched with /^(\d+)$/ and its group taken; against
//    child_process spawn() + readline (crlfDelay Infinity) doing the same match per line.
//  - nul: the same numbers NUL-separated (`seq 1 N | tr '\n' '\0'`, one field per call), against
//    spawn() with a 'data' listener that decodes and splits at NUL (readline cannot).
// Per trial: the wall time from spawn to the child reaped and every record handled, and the
// event-loop delay while it streams (perf_hooks.monitorEventLoopDelay, 1 ms resolution: the
// longest time the loop could not run a timer). One warm-up run of each method, then trials
// that interleave the methods.
//
//   node parse.js --out F [--trials 5] [--lines 2000000] [--hold-mib 1024]

const cp = require('node:child_process');
const readline = require('node:readline');
const { StringDecoder } = require('node:string_decoder');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const lib = require('../lib');

const args = lib.parseArgs();
const trials = Number(args.trials || 5);
const lines = Number(args.lines || 2000000);
const holdMib = Number(args['hold-mib'] || 1024);
const { Command } = lib.loadPackage();

const NUL_SCRIPT = 'seq 1 "$0" | tr "\\n" "\\0"';
const RE = /^(\d+)$/;

function check(cond, what) {
  if (!cond) throw new Error(`benchmark self-check failed: ${what}`);
}

// Every method returns { records, digits }: the records handled and the total length of the
// groups taken, checked against each other so that no method skips work.
const regexMethods = [
  {
    id: 'ours.runRegex',
    label: 'vircommand `runRegex([/^(\\d+)$/], cb)`',
    async fn() {
      let records = 0;
      let digits = 0;
      await new Command('seq', '1', String(lines)).runRegex([RE], (g) => {
        records++;
        digits += g[0].length;
      });
      return { records, digits };
    },
  },
  {
    id: 'ours.runRegex.afterExit',
    label: "vircommand `runRegex(..., { parse: 'after-exit' })` (libvirt's order: output held, parsed after the exit)",
    async fn() {
      let records = 0;
      let digits = 0;
      await new Command('seq', '1', String(lines)).runRegex(
        [RE],
        (g) => {
          records++;
          digits += g[0].length;
        },
        { parse: 'after-exit' },
      );
      return { records, digits };
    },
  },
  {
    id: 'cp.readline',
    label: 'child_process `spawn()` + readline, the same match per line',
    async fn() {
      const c = cp.spawn('seq', ['1', String(lines)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((resolve, reject) => {
        c.on('error', reject);
        c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
      });
      let records = 0;
      let digits = 0;
      for await (const line of readline.createInterface({ input: c.stdout, crlfDelay: Infinity })) {
        const m = RE.exec(line);
        if (m === null) continue;
        records++;
        digits += m[1].length;
      }
      await exited;
      return { records, digits };
    },
  },
];

const nulMethods = [
  {
    id: 'ours.runNul',
    label: 'vircommand `runNul(1, cb)`',
    async fn() {
      let records = 0;
      let digits = 0;
      await new Command('/bin/sh', '-c', NUL_SCRIPT, String(lines)).runNul(1, (f) => {
        records++;
        digits += f[0].length;
      });
      return { records, digits };
    },
  },
  {
    id: 'cp.data',
    label: "child_process `spawn()`, 'data' decoded and split at NUL",
    fn() {
      return new Promise((resolve, reject) => {
        const c = cp.spawn('/bin/sh', ['-c', NUL_SCRIPT, String(lines)], { stdio: ['ignore', 'pipe', 'inherit'] });
        const dec = new StringDecoder('utf8');
        let rest = '';
        let records = 0;
        let digits = 0;
        const field = (f) => {
          records++;
          digits += f.length;
        };
        c.stdout.on('data', (chunk) => {
          const text = rest + dec.write(chunk);
          let start = 0;
          for (let i = text.indexOf('\0'); i !== -1; i = text.indexOf('\0', start)) {
            field(text.slice(start, i));
            start = i + 1;
          }
          rest = text.slice(start);
        });
        c.on('error', reject);
        c.on('close', (code) => {
          rest += dec.end();
          if (rest !== '') field(rest);
          if (code === 0) resolve({ records, digits });
          else reject(new Error(`exit ${code}`));
        });
      });
    },
  },
];

async function measure(m) {
  lib.collect();
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const t0 = lib.nowNs();
  const got = await m.fn();
  const ms = lib.msSince(t0);
  h.disable();
  return { ms, delayMax: h.max / 1e6, delayP99: h.percentile(99) / 1e6, got };
}

async function runSet(name, methods) {
  for (const m of methods) {
    m.samples = [];
    await m.fn(); // warm-up, not counted: the first run of each pays for JIT and heap growth
  }
  let expect = null;
  for (let t = 0; t < trials; t++) {
    const order = t % 2 === 0 ? methods : [...methods].reverse();
    for (const m of order) {
      const s = await measure(m);
      expect ??= s.got;
      check(
        s.got.records === lines && s.got.records === expect.records && s.got.digits === expect.digits,
        `${m.id} handled ${s.got.records} records (${s.got.digits} digits), expected ${lines} (${expect.digits})`,
      );
      m.samples.push(s);
    }
    lib.log(
      `${name} trial ${t + 1}/${trials}: ` +
        methods.map((m) => `${m.id} ${m.samples[t].ms.toFixed(0)} ms (loop delay max ${m.samples[t].delayMax.toFixed(1)} ms)`).join(', '),
    );
  }
  return methods.map((m) => ({
    id: m.id,
    label: m.label,
    ms: lib.summarize(m.samples.map((s) => s.ms)),
    delayMax: lib.summarize(m.samples.map((s) => s.delayMax)),
    delayP99: lib.summarize(m.samples.map((s) => s.delayP99)),
  }));
}

async function main() {
  lib.holdMemory(holdMib);
  lib.collect();
  const rssMib = lib.rssBytes() / 1024 ** 2;
  lib.log(`parse: ${lines} lines, ${holdMib} MiB held (RSS ${rssMib.toFixed(0)} MiB), ${trials} trials`);
  const regex = await runSet('regex', regexMethods);
  const nul = await runSet('nul', nulMethods);
  lib.emit(args, { scenario: 'parse', lines, holdMib, rssMib, trials, regex, nul });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
