'use strict';
// The parse scenario's part of the report (scenarios/parse.js): its claims for "What holds" and
// its section, kept here so run.js only calls them.

const f2 = (x) => (x === undefined || x === null || Number.isNaN(x) ? 'n/a' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fx = (x) => (x === undefined || x === null || Number.isNaN(x) ? 'n/a' : `${x.toFixed(2)}×`);
const cell = (s) => (s ? `${f2(s.median)} (${f2(s.min)}–${f2(s.max)})` : 'n/a');

const DELAY_LIMIT_MS = 20;

function rowOf(rows, id) {
  return rows.find((r) => r.id === id);
}

/** Adds the parse claims with `add(n, target, measured, ok, note)`; `n` is the section number. */
function evaluateParse(sc, n, add) {
  if (!sc || sc.error) return;
  const sets = [
    ['regex', 'runRegex', 'ours.runRegex', 'cp.readline', 'child_process + readline'],
    ['nul', 'runNul', 'ours.runNul', 'cp.data', "child_process + a 'data' split at NUL"],
  ];
  for (const [set, name, ours, theirs, theirName] of sets) {
    const o = rowOf(sc[set], ours);
    const t = rowOf(sc[set], theirs);
    add(
      n,
      `${name} over ${sc.lines} records, ${sc.holdMib} MiB held: at least as fast as ${theirName}`,
      `${f2(o.ms.median)} vs ${f2(t.ms.median)} ms (${fx(t.ms.median / o.ms.median)} faster)`,
      o.ms.median <= t.ms.median,
    );
    add(
      n,
      `${name}: event-loop delay max ≤ ${DELAY_LIMIT_MS} ms while it streams`,
      `worst trial ${f2(o.delayMax.max)} ms (median ${f2(o.delayMax.median)}); ${theirName}: ${f2(t.delayMax.median)} ms`,
      o.delayMax.max <= DELAY_LIMIT_MS,
      "a trial's longest pause can be a V8 young-generation collection stretched by other load on the cores",
    );
  }
}

/** The section's markdown lines. */
function markdownParse(sc, n) {
  if (!sc || sc.error) return [];
  const L = [];
  L.push(`#### ${n}. Parsed output: ${sc.lines} records with ${sc.holdMib} MiB of touched Buffers held`);
  L.push('');
  L.push('| median (min–max) | ms | event-loop delay max, ms | delay p99, ms | ÷ child_process time |');
  L.push('|---|---|---|---|---|');
  for (const [set, theirs] of [
    ['regex', 'cp.readline'],
    ['nul', 'cp.data'],
  ]) {
    const base = rowOf(sc[set], theirs).ms.median;
    for (const r of sc[set]) {
      const label = r.id.startsWith('ours.') ? `**${r.label}**` : r.label;
      L.push(`| ${label} | ${cell(r.ms)} | ${cell(r.delayMax)} | ${cell(r.delayP99)} | ${fx(r.ms.median / base)} |`);
    }
  }
  L.push('');
  L.push(
    'Lines of `seq 1 N` matched with `/^(\\d+)$/` (its group taken), and the same numbers NUL-separated (`seq | tr`), one field per call. ' +
      'Time from spawn to the child reaped and every record handled; event-loop delay is `perf_hooks.monitorEventLoopDelay({ resolution: 1 })` over the same span. ' +
      'One warm-up run of each method, then trials that interleave them. runRegex and runNul yield to the event loop once a turn has parsed for 2 ms.',
  );
  L.push('');
  return L;
}

module.exports = { evaluateParse, markdownParse };
