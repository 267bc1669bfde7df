'use strict';
// Measurement 4: N run() of `sleep 0.2` started at once (one synchronous loop), then awaited
// together. Records the total time, the time the launching loop itself held the event loop,
// event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) p50/p99/max over the
// whole run and over the waiting phase only, and how long an fs.readFile issued right after the
// launch takes (it needs the libuv threadpool: if children held threadpool threads it would queue
// behind them). The same with child_process.spawn beside it.
//
//   node concurrency.js --out F [--trials 5] [--count 1000] [--sleep 0.2]

const cp = require('node:child_process');
const fs = require('node:fs');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const lib = require('../lib');

const args = lib.parseArgs();
const trials = Number(args.trials || 5);
const count = Number(args.count || 1000);
const sleepArg = String(args.sleep || '0.2');
const { Command } = lib.loadPackage();

const methods = [
  {
    id: 'ours.run',
    label: 'vircommand `run()`',
    start: () => new Command('sleep', sleepArg).run(),
  },
  {
    id: 'cp.spawn',
    label: "child_process `spawn()` (stdio 'ignore'), await 'exit'",
    start: () =>
      new Promise((resolve, reject) => {
        const c = cp.spawn('sleep', [sleepArg], { stdio: 'ignore' });
        c.on('error', reject);
        c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
      }),
  },
];

// The state of every thread but the main one, from /proc/self/task/*/syscall: idle libuv
// threadpool and V8 platform threads sit in futex (202) or epoll_wait/epoll_pwait (232/281);
// 'running' is a thread on a CPU (V8 concurrent GC or compilation), not blocked. A thread in any
// other syscall (wait4, waitid, poll, read, ...) is held by something.
function threadStates() {
  const idle = new Set(['202', '232', '281', 'running']);
  const states = {};
  const blocked = [];
  for (const tid of fs.readdirSync('/proc/self/task')) {
    if (Number(tid) === process.pid) continue;
    let nr;
    try {
      nr = fs.readFileSync(`/proc/self/task/${tid}/syscall`, 'utf8').split(' ')[0].trim();
    } catch (err) {
      nr = err.code;
    }
    states[nr] = (states[nr] || 0) + 1;
    if (!idle.has(nr)) blocked.push({ tid: Number(tid), syscall: nr });
  }
  return { states, blocked };
}

function ms(ns) {
  return ns / 1e6;
}

function hist(h) {
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), samples: h.count };
}

async function trial(m) {
  await new Promise((r) => setTimeout(r, 50));
  const whole = monitorEventLoopDelay({ resolution: 1 });
  const waiting = monitorEventLoopDelay({ resolution: 1 });
  whole.enable();
  // Let the monitor take a few samples before the burst.
  await new Promise((r) => setTimeout(r, 20));
  const t0 = lib.nowNs();
  const promises = [];
  let settled = 0;
  const count1 = () => {
    settled++;
  };
  for (let i = 0; i < count; i++) {
    const p = m.start();
    p.then(count1, count1);
    promises.push(p);
  }
  const launchMs = lib.msSince(t0);
  const threads = threadStates();
  waiting.enable();
  const tr = lib.nowNs();
  const readFile = new Promise((resolve, reject) => fs.readFile('/proc/self/status', (err) => (err ? reject(err) : resolve(lib.msSince(tr)))));
  // The loop turns right after the launch: children that exited during the launch loop are
  // all reaped and resolved in the first turns (the backlog).
  const turns = await new Promise((resolve) => {
    const out = [];
    let last = lib.nowNs();
    const tick = () => {
      out.push({ ms: lib.msSince(last), settled });
      last = lib.nowNs();
      if (out.length < 6) setImmediate(tick);
      else resolve(out);
    };
    setImmediate(tick);
  });
  const results = await Promise.allSettled(promises);
  const totalMs = lib.msSince(t0);
  whole.disable();
  waiting.disable();
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length > 0) throw new Error(`${m.id}: ${failed.length} of ${count} failed: ${failed[0].reason}`);
  return {
    totalMs,
    launchMs,
    settledAtLaunchEnd: turns[0].settled,
    backlogTurnMs: Math.max(...turns.map((t) => t.ms)),
    backlogSettled: turns[turns.length - 1].settled,
    threadsBlocked: threads.blocked.length,
    threadStates: threads.states,
    readFileMs: await readFile,
    whole: hist(whole),
    waiting: hist(waiting),
  };
}

async function main() {
  lib.log(`concurrency: ${count} x sleep ${sleepArg}, ${trials} trials`);
  for (const m of methods) {
    m.samples = [];
    await trial({ ...m }).catch(() => {}); // warm-up (PATH lookups, code paths)
  }
  for (let t = 0; t < trials; t++) {
    const order = t % 2 === 0 ? methods : [...methods].reverse();
    for (const m of order) {
      m.samples.push(await trial(m));
      const s = m.samples[m.samples.length - 1];
      lib.log(
        `trial ${t + 1}/${trials} ${m.id}: total ${s.totalMs.toFixed(0)} ms, launch ${s.launchMs.toFixed(0)} ms, ` +
          `delay p50 ${s.whole.p50.toFixed(2)} p99 ${s.whole.p99.toFixed(2)} max ${s.whole.max.toFixed(1)} ms ` +
          `(waiting phase p99 ${s.waiting.p99.toFixed(2)} max ${s.waiting.max.toFixed(1)}), readFile ${s.readFileMs.toFixed(2)} ms, ` +
          `longest turn after launch ${s.backlogTurnMs.toFixed(1)} ms (${s.backlogSettled} settled by then), ` +
          `threads ${JSON.stringify(s.threadStates)}`,
      );
    }
  }
  const pick = (samples, f) => lib.summarize(samples.map(f));
  lib.emit(args, {
    scenario: 'concurrency',
    count,
    sleep: Number(sleepArg),
    rows: methods.map((m) => ({
      id: m.id,
      label: m.label,
      totalMs: pick(m.samples, (s) => s.totalMs),
      launchMs: pick(m.samples, (s) => s.launchMs),
      readFileMs: pick(m.samples, (s) => s.readFileMs),
      backlogTurnMs: pick(m.samples, (s) => s.backlogTurnMs),
      backlogSettled: pick(m.samples, (s) => s.backlogSettled),
      threadsBlocked: pick(m.samples, (s) => s.threadsBlocked),
      delayP50: pick(m.samples, (s) => s.whole.p50),
      delayP99: pick(m.samples, (s) => s.whole.p99),
      delayMax: pick(m.samples, (s) => s.whole.max),
      waitingP99: pick(m.samples, (s) => s.waiting.p99),
      waitingMax: pick(m.samples, (s) => s.waiting.max),
      raw: m.samples,
    })),
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
