'use strict';
// Measurement 8: reading a child's output line by line, `seq 1 COUNT` (2,000,000 lines, 14.9 MB)
// with HOLD MiB of touched Buffers held by the parent (a big daemon), side by side:
//  - ours.lines: runAsync({ stdout: 'pipe' }), `for await (const line of cmd.lines())`, wait();
//  - cp.readline: child_process spawn(), `for await (const line of readline.createInterface(...))`,
//    then 'close'.
// Each loop counts the lines and adds up their lengths (so that every line is really read). Time
// runs from the spawn to the child's end with every line consumed; the event-loop delay
// (perf_hooks.monitorEventLoopDelay, 1 ms resolution) is measured over the same span: max and p99
// say how long other work (timers, sockets) waited while the lines streamed.
//
//   node --expose-gc lines.js --out F [--trials 5] [--count 2000000] [--hold-mib 1024]

const cp = require('node:child_process');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const readline = require('node:readline');
const lib = require('../lib');

const args = lib.parseArgs();
const trials = Number(args.trials || 5);
const count = Number(args.count || 2000000);
const holdMib = Number(args['hold-mib'] ?? 1024);
const { Command } = lib.loadPackage();

// The digits of 1..count plus their '\n's, minus the '\n's: what the loops add up.
let expectChars = 0;
for (let d = 1, lo = 1; lo <= count; d++, lo *= 10) expectChars += d * (Math.min(count, lo * 10 - 1) - lo + 1);

const methods = [
  {
    id: 'ours.lines',
    label: "vircommand `runAsync({ stdout: 'pipe' })`, `for await` over `cmd.lines()`, `wait()`",
    async fn() {
      const cmd = new Command('seq', '1', String(count));
      cmd.runAsync({ stdout: 'pipe' });
      let n = 0;
      let chars = 0;
      for await (const line of cmd.lines()) {
        n++;
        chars += line.length;
      }
      await cmd.wait();
      return { n, chars };
    },
  },
  {
    id: 'cp.readline',
    label: "child_process `spawn()`, `for await` over `readline.createInterface({ input: child.stdout })`, 'close'",
    async fn() {
      const c = cp.spawn('seq', ['1', String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const closed = new Promise((resolve, reject) => {
        c.on('error', reject);
        c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
      });
      let n = 0;
      let chars = 0;
      for await (const line of readline.createInterface({ input: c.stdout, crlfDelay: Infinity })) {
        n++;
        chars += line.length;
      }
      await closed;
      return { n, chars };
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
  if (got.n !== count || got.chars !== expectChars) throw new Error(`benchmark self-check failed: ${m.id} read ${got.n} lines, ${got.chars} chars`);
  return { ms, delayMax: h.max / 1e6, delayP99: h.percentile(99) / 1e6 };
}

async function main() {
  if (holdMib > 0) lib.holdMemory(holdMib);
  lib.log(`lines: seq 1 ${count}, ${holdMib} MiB held, ${trials} trials, RSS ${(lib.rssBytes() / 2 ** 20).toFixed(0)} MiB`);
  for (const m of methods) m.samples = [];
  for (let t = 0; t < trials; t++) {
    const order = t % 2 === 0 ? methods : [...methods].reverse();
    for (const m of order) m.samples.push(await measure(m));
    lib.log(
      `trial ${t + 1}/${trials}: ` +
        methods
          .map((m) => {
            const s = m.samples[t];
            return `${m.id} ${s.ms.toFixed(0)} ms (loop delay max ${s.delayMax.toFixed(1)}, p99 ${s.delayP99.toFixed(1)} ms)`;
          })
          .join(', '),
    );
  }
  const rows = methods.map((m) => ({
    id: m.id,
    label: m.label,
    ms: lib.summarize(m.samples.map((s) => s.ms)),
    delayMax: lib.summarize(m.samples.map((s) => s.delayMax)),
    delayP99: lib.summarize(m.samples.map((s) => s.delayP99)),
  }));
  lib.emit(args, { scenario: 'lines', count, holdMib, rows });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
