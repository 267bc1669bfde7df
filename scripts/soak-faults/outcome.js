'use strict';
// How the fault soak judges one spawn: every kind of spawn says how it must end, and each end is
// recorded under a class. A class is 'ok' (ran as it should), a failure the kind expects
// ('expected ...': a missing binary, a non-zero exit), or a fault the kind injects and the
// product handled ('fault <id>: ...'). Anything else is unexplained and fails the soak.

/** The ends no kind explains. */
class Unexplained extends Error {
  constructor(message, cause) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'Unexplained';
  }
}

/** Ran as it should. */
function ok(cls = 'ok') {
  return { cls, failure: false };
}

/** Rejected or threw, as the kind expects. `fault` names the injected fault, if any. */
function failed(cls, fault = null) {
  return { cls, failure: true, fault };
}

/** Resolved, but with the fault visible in the result (outputIncomplete, say). */
function handled(cls, fault) {
  return { cls, failure: false, fault };
}

function isCommandError(e) {
  return e !== null && typeof e === 'object' && e[Symbol.for('vircommand.CommandError')] === true;
}

/** One line about an error: its class, code, stage, signal and message. */
function describeError(e) {
  if (!(e instanceof Error)) return `non-error thrown: ${String(e)}`;
  const parts = [e.name];
  for (const k of ['code', 'stage', 'errno', 'exitStatus', 'signal', 'pid']) if (e[k] !== undefined && e[k] !== null) parts.push(`${k}=${e[k]}`);
  return `${parts.join(' ')}: ${e.message.split('\n')[0].slice(0, 300)}`;
}

/**
 * Runs fn (sync or async) and expects it to fail with an error for which `match(e)` returns a
 * class name (a string); returns failed(that class, fault). A success or another error is
 * Unexplained.
 */
async function expectFailure(fn, match, fault = null) {
  let value;
  try {
    value = await fn();
  } catch (e) {
    if (e instanceof Unexplained) throw e;
    const cls = isCommandError(e) ? match(e) : null;
    if (typeof cls === 'string') return failed(cls, fault);
    throw new Unexplained(`unexpected error: ${describeError(e)}`, e);
  }
  throw new Unexplained(`expected a failure, got a result: ${JSON.stringify(summarizeResult(value))}`);
}

function summarizeResult(r) {
  if (!r || typeof r !== 'object') return r;
  const out = {};
  for (const k of ['pid', 'status', 'signal', 'outputIncomplete']) out[k] = r[k];
  for (const k of ['stdout', 'stderr']) if (r[k] !== undefined) out[k] = String(r[k]).slice(0, 80);
  return out;
}

function check(cond, what) {
  if (!cond) throw new Unexplained(what);
}

/** Counts of spawns and ends per kind; unexplained ends with a few examples each. */
class Tally {
  constructor() {
    this.kinds = new Map();
  }

  kind(name, meta = {}) {
    let k = this.kinds.get(name);
    if (!k) {
      k = { name, fault: meta.fault ?? null, spawns: 0, ops: 0, classes: new Map(), unexplained: [] };
      this.kinds.set(name, k);
    }
    return k;
  }

  spawned(name, meta, n) {
    this.kind(name, meta).spawns += n;
  }

  record(name, meta, outcome) {
    const k = this.kind(name, meta);
    k.ops++;
    const key = JSON.stringify([outcome.cls, outcome.failure, outcome.fault ?? null]);
    k.classes.set(key, (k.classes.get(key) || 0) + 1);
  }

  unexplained(name, meta, err) {
    const k = this.kind(name, meta);
    k.ops++;
    const text = err instanceof Unexplained ? err.message : `threw ${describeError(err)}`;
    const cause = err instanceof Unexplained && err.cause ? describeError(err.cause) : undefined;
    const same = k.unexplained.find((u) => u.text === text);
    if (same) same.count++;
    else if (k.unexplained.length < 10)
      k.unexplained.push({ text, cause, count: 1, stack: err && err.stack ? String(err.stack).split('\n').slice(0, 6).join('\n') : undefined });
    else k.unexplained[k.unexplained.length - 1].count++;
  }

  toJSON() {
    return [...this.kinds.values()].map((k) => ({
      name: k.name,
      fault: k.fault,
      spawns: k.spawns,
      ops: k.ops,
      classes: [...k.classes.entries()]
        .map(([key, count]) => {
          const [cls, failure, fault] = JSON.parse(key);
          return { cls, failure, fault, count };
        })
        .sort((a, b) => b.count - a.count),
      unexplained: k.unexplained,
      unexplainedCount: k.unexplained.reduce((s, u) => s + u.count, 0),
    }));
  }
}

module.exports = { Unexplained, ok, failed, handled, isCommandError, describeError, expectFailure, check, Tally };
