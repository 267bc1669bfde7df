'use strict';
// The text report of the fault soak (soak-faults.js): what ran, how each spawn ended, which
// faults were injected and how they were classified, memory, fds and children.

/** The injected faults, by id. */
const FAULTS = {
  emfile: 'EMFILE by a lowered RLIMIT_NOFILE',
  nproc: 'EAGAIN by RLIMIT_NPROC as nobody (uid 65534, or --nproc-uid)',
  signal: 'children killed by signals',
  grandchild: 'grandchildren holding the captured pipes',
  midwrite: 'children dying mid-write (stdin or output)',
};

const f1 = (x) => (x === null || x === undefined ? 'n/a' : x.toFixed(1));
const pad = (s, n) => String(s).padStart(n);
const pct = (a, b) => (b > 0 ? `${((100 * a) / b).toFixed(2)}%` : 'n/a');

/** Main-loop kinds and the phases' kinds, merged by name. */
function allKinds(r) {
  const out = new Map();
  const add = (k, where) => {
    let m = out.get(k.name);
    if (!m) {
      m = { name: k.name, fault: k.fault, where, spawns: 0, ops: 0, classes: new Map(), unexplained: [], unexplainedCount: 0 };
      out.set(k.name, m);
    }
    m.spawns += k.spawns;
    m.ops += k.ops;
    for (const c of k.classes) {
      const key = JSON.stringify([c.cls, c.failure, c.fault]);
      m.classes.set(key, (m.classes.get(key) || 0) + c.count);
    }
    m.unexplained.push(...k.unexplained);
    m.unexplainedCount += k.unexplainedCount;
  };
  for (const k of r.kinds) add(k, 'main');
  for (const p of r.phases) for (const k of p.kinds || []) add(k, p.phase);
  return [...out.values()].map((m) => ({
    ...m,
    classes: [...m.classes.entries()]
      .map(([key, count]) => {
        const [cls, failure, fault] = JSON.parse(key);
        return { cls, failure, fault, count };
      })
      .sort((a, b) => b.count - a.count),
  }));
}

function formatReport(r) {
  const L = [];
  const kinds = allKinds(r);
  const phaseSpawns = (type) => r.phases.filter((p) => p.phase === type).reduce((s, p) => s + (p.spawns || 0), 0);
  L.push(
    `vircommand soak with faults: ${r.totalSpawns} spawns in ${(r.wallMs / 1000).toFixed(1)} s wall time` +
      ` (main loop ${r.mainSpawns} in ${(r.loopMs / 1000).toFixed(1)} s, EMFILE phase ${phaseSpawns('emfile')}, NPROC phase ${phaseSpawns('nproc')};` +
      ` not counted: ${r.warmup} warm-up spawns, ${r.harnessSpawns} harness spawns of phase processes and sleepers)`,
  );
  L.push(
    `node ${r.node}, Linux ${r.kernel}, ${r.cpus} CPUs, uid ${r.uid}, seed ${r.seed}, load average at the end ${r.loadavg.map((x) => x.toFixed(2)).join(' ')}`,
  );
  L.push('');

  L.push('Spawns by kind (ok: ended as it should; failed: threw/rejected as the kind expects; handled: resolved with the fault visible)');
  L.push(`  ${pad('spawns', 7)} ${pad('ok', 7)} ${pad('failed', 7)} ${pad('handled', 7)} ${pad('unexpl', 6)}  kind`);
  for (const k of kinds) {
    const sum = (pred) => k.classes.filter(pred).reduce((s, c) => s + c.count, 0);
    const okN = sum((c) => !c.failure && !c.fault);
    const failN = sum((c) => c.failure);
    const handledN = sum((c) => !c.failure && c.fault);
    const tag = k.fault ? `[${k.fault}] ` : '';
    L.push(`  ${pad(k.spawns, 7)} ${pad(okN, 7)} ${pad(failN, 7)} ${pad(handledN, 7)} ${pad(k.unexplainedCount, 6)}  ${tag}${k.name}`);
  }
  L.push('');

  L.push('Failures by kind, each with its class ("expected": the kind fails by design; "fault X": an injected fault)');
  let anyFailure = false;
  for (const k of kinds) {
    const fails = k.classes.filter((c) => c.failure);
    if (fails.length === 0 && k.unexplainedCount === 0) continue;
    anyFailure = true;
    L.push(`  ${k.name}`);
    for (const c of fails) L.push(`    ${pad(c.count, 7)}  ${c.fault ? `fault ${c.fault}: ` : ''}${c.cls}`);
    for (const u of k.unexplained) L.push(`    ${pad(u.count, 7)}  UNEXPLAINED: ${u.text}${u.cause ? ` (${u.cause})` : ''}`);
  }
  if (!anyFailure) L.push('  none');
  L.push('');

  // The warm-up's spawns are not counted in the tables above, but an unexplained end there fails
  // the soak all the same: say which kind and why, with the start of its stack.
  if (r.warmupUnexplained && r.warmupUnexplained.length > 0) {
    L.push(`Unexplained ends in the warm-up (${r.warmup} spawns, not in the tables above; they fail the soak)`);
    for (const k of r.warmupUnexplained) {
      L.push(`  ${k.fault ? `[${k.fault}] ` : ''}${k.name}`);
      for (const u of k.unexplained) {
        L.push(`    ${pad(u.count, 7)}  UNEXPLAINED: ${u.text}${u.cause ? ` (${u.cause})` : ''}`);
        if (u.stack) for (const line of u.stack.split('\n')) L.push(`             ${line}`);
      }
    }
    L.push('');
  }

  L.push('Faults injected (rate: share of all spawns)');
  for (const [id, generic] of Object.entries(FAULTS)) {
    const what = id === 'nproc' ? `EAGAIN by RLIMIT_NPROC as uid ${r.nprocUid}${r.nprocUid === 65534 ? ' (nobody)' : ''}` : generic;
    const ofFault = kinds.filter((k) => k.fault === id);
    const injected = ofFault.reduce((s, k) => s + k.spawns, 0);
    const reason = r.notInjected.filter((n) => n.fault === id);
    L.push(`  ${id}: ${what}: ${injected} spawns (${pct(injected, r.totalSpawns)})`);
    for (const k of ofFault) {
      L.push(`    ${k.name} (${k.where === 'main' ? 'main loop' : `${k.where} phase`}): ${k.spawns}`);
      for (const c of k.classes) L.push(`      ${pad(c.count, 7)}  ${c.failure ? 'failed' : c.fault ? 'handled' : 'ok'}: ${c.cls}`);
      if (k.unexplainedCount) L.push(`      ${pad(k.unexplainedCount, 7)}  UNEXPLAINED`);
    }
    for (const n of reason) L.push(`    NOT INJECTED: ${n.what}: ${n.reason}`);
  }
  L.push('');

  const em = r.phases.filter((p) => p.phase === 'emfile' && !p.failed);
  if (em.length > 0) {
    L.push(`EMFILE phase (${em.length} rounds, RLIMIT_NOFILE ${em[0].limit ? em[0].limit.soft : '?'}): outcome by the number of fds left free`);
    const byFree = {};
    for (const p of em)
      for (const [free, classes] of Object.entries(p.byFree)) {
        byFree[free] ??= {};
        for (const [cls, n] of Object.entries(classes)) byFree[free][cls] = (byFree[free][cls] || 0) + n;
      }
    for (const [free, classes] of Object.entries(byFree))
      L.push(
        `    ${pad(free, 7)}: ${Object.entries(classes)
          .map(([c, n]) => `${c} ${n}`)
          .join(', ')}`,
      );
  }
  const np = r.phases.filter((p) => p.phase === 'nproc' && !p.failed);
  if (np.length > 0) {
    L.push(
      `NPROC phase (${np.length} rounds, as uid ${np[0].uid}): ` +
        np
          .map(
            (p) =>
              `limit ${p.limit ? p.limit.soft : '?'}, ` +
              `${p.tasksOfUidAtStart} tasks of the uid at its start, reached with ${p.sleepersAtLimit} sleepers${p.limitReached ? '' : ' (NOT reached)'}`,
          )
          .join('; '),
    );
  }
  for (const p of r.phases) {
    if (p.failed) L.push(`  phase ${p.phase} round ${p.harness.round} FAILED: ${p.failed}\n${p.stderr}`);
    else {
      const fdEq = p.fdDiff.length === 0 ? 'equal' : `DIFFER ${JSON.stringify(p.fdDiff)}`;
      L.push(
        `  phase ${p.phase} round ${p.harness.round} (pid ${p.pid}): ${p.spawns} spawns in ${(p.elapsedMs / 1000).toFixed(1)} s; fds ${p.start.openFds} -> ${p.end.openFds} (${fdEq}); children ${p.start.children} -> ${p.end.children} (zombies ${p.end.zombies})${p.notes.length ? `; ${p.notes.join('; ')}` : ''}`,
      );
    }
  }
  L.push('');

  L.push(`Not injected: ${r.notInjected.length === 0 ? 'none (every fault was injected)' : ''}`);
  for (const n of r.notInjected) L.push(`  ${n.fault}: ${n.what}: ${n.reason}`);
  L.push('');

  const m = r.memory;
  L.push('Memory (after gc())');
  L.push(
    `  RSS: ${f1(m.start.rssMib)} MiB at the start, ${f1(m.end.rssMib)} MiB at the end: growth ${f1(m.rssGrowthMib)} MiB` +
      (m.mid ? ` (${f1(m.secondHalfGrowthMib)} MiB over the second half, from ${m.mid.spawns} main-loop spawns)` : ''),
  );
  L.push(
    `  V8 committed heap: ${f1(m.start.heapTotalMib)} -> ${f1(m.end.heapTotalMib)} MiB (growth ${f1(m.heapTotalGrowthMib)}; new space ${f1(m.start.newSpaceMib)} -> ${f1(m.end.newSpaceMib)}; used ${f1(m.start.heapUsedMib)} -> ${f1(m.end.heapUsedMib)})`,
  );
  L.push(
    `  RSS outside V8's heap (native: addon, libuv, malloc arenas, Buffers): ${f1(m.start.rssOutsideV8Mib)} -> ${f1(m.end.rssOutsideV8Mib)} MiB (growth ${f1(m.rssOutsideV8GrowthMib)})`,
  );
  L.push('');

  L.push(
    `Open fds of the soak process: ${r.fds.startCount} at the start, ${r.fds.endCount} at the end: ${r.fds.diff.length === 0 ? 'equal (same numbers, same targets)' : 'DIFFER'}`,
  );
  L.push(`  start: ${r.fds.startSummary}`);
  L.push(`  end:   ${r.fds.endSummary}`);
  for (const d of r.fds.diff) L.push(`  fd ${d.fd}: ${d.before ?? '(closed)'} -> ${d.after ?? '(closed)'}`);
  L.push(
    `Child processes of the soak process: ${r.children.startCount} at the start (zombies ${r.children.startZombies}), ${r.children.endCount} at the end (zombies ${r.children.endZombies}): ${r.children.startCount === r.children.endCount && r.children.endZombies === 0 ? 'equal' : 'DIFFER'}`,
  );
  for (const c of r.children.end) L.push(`  left: pid ${c.pid} state ${c.state}`);
  L.push(`Processes carrying the soak's marker (grandchildren, daemons, sleepers) alive 5 s after the end: ${r.strays.length}`);
  for (const s of r.strays) L.push(`  pid ${s.pid} ${s.comm} state ${s.state} (killed now)`);
  L.push('');
  L.push(
    r.verdict.pass ? 'Verdict: PASS (every end explained, fds and children equal, nothing left behind)' : `Verdict: FAIL: ${r.verdict.reasons.join('; ')}`,
  );
  return `${L.join('\n')}\n`;
}

module.exports = { formatReport, FAULTS, allKinds };
