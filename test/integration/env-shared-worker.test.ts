/**
 * The parent's environment is read under Node's rules. A Worker started with
 * `env: SHARE_ENV` writes the process's environ (setenv/unsetenv under Node's env lock) while
 * the main thread spawns: the child's inherited environment comes from process.env, and
 * addEnvPass() from process.env (raw bytes only under Node's lock), never from a walk of
 * environ that the Worker's setenv() may have just reallocated and freed (that walk crashed
 * the process in strlen, or handed the child garbage entries).
 *
 * Run in a separate node process: a crash there fails this test instead of killing vitest.
 */
import { describe, expect, it } from 'vitest';
import { buildUnderTestEnv, expectChildOk, runNodeChild } from '../helpers/node-child';
import { useInvariants } from '../helpers/invariants';

useInvariants();

// Thousands of distinct names added and removed: each added name can grow environ's array
// (realloc, the old array freed), which is what a reader outside the lock trips over.
const SCRIPT = `
const { Worker, SHARE_ENV } = require('worker_threads');
if (ARGS.processEnvPath) {
  // The path taken where the addon cannot find Node's environment lock: the entries of
  // process.env, read by Node under its lock, name by name.
  const native = require(require('path').join(require('path').dirname(process.env.VC_TEST_ENTRY), 'native'));
  native.setNativeBinding({ ...native.loadNative(), hasEnvLock: () => false });
}
process.env.VC_STABLE = 'stable-value';
const w = new Worker(\`
  const { parentPort } = require('worker_threads');
  parentPort.postMessage('started');
  for (let round = 0; ; round++) {
    for (let j = 0; j < 3000; j++) process.env['VC_RACE_' + j] = 'r' + round;
    for (let j = 0; j < 3000; j++) delete process.env['VC_RACE_' + j];
  }
\`, { eval: true, env: SHARE_ENV });
await new Promise((resolve) => w.once('message', resolve));
const entry = /^(VC_RACE_[0-9]+=r[0-9]+|[A-Za-z_][A-Za-z0-9_]*=[ -~]*)$/;
const bad = [];
let inherited = 0, passed = 0;
const until = Date.now() + ARGS.ms;
while (Date.now() < until && bad.length === 0) {
  const lines = new vc.Command('/usr/bin/env').runSync({ encoding: 'buffer' }).stdout.toString('latin1').split('\\n').filter(Boolean);
  if (!lines.includes('VC_STABLE=stable-value')) bad.push('inherited: VC_STABLE missing');
  for (const l of lines) if (!entry.test(l)) bad.push('inherited: ' + JSON.stringify(l.slice(0, 80)));
  inherited++;
  const only = new vc.Command('/usr/bin/env').addEnvPass('VC_STABLE').addEnvPass('VC_RACE_7').runSync({ encoding: 'buffer' }).stdout.toString('latin1').split('\\n').filter(Boolean);
  if (only[0] !== 'VC_STABLE=stable-value' || only.length > 2 || (only.length === 2 && !/^VC_RACE_7=r[0-9]+$/.test(only[1]))) bad.push('passed: ' + JSON.stringify(only));
  passed++;
}
await w.terminate();
emit({ inherited, passed, bad: bad.slice(0, 5) });
`;

describe('a Worker sharing the environment (SHARE_ENV) changes it while the main thread spawns', () => {
  it.each([
    ["environ copied by native under Node's lock", false],
    ['process.env read entry by entry (no lock found)', true],
  ])('%s: no crash, and every child gets well-formed entries, inherited and addEnvPass()', (_, processEnvPath) => {
    const r = runNodeChild(SCRIPT, { args: { ms: 4000, processEnvPath }, env: buildUnderTestEnv(), timeoutMs: 60000 });
    const res = expectChildOk(r) as { inherited: number; passed: number; bad: string[] };
    expect(res.bad).toEqual([]);
    expect(res.inherited).toBeGreaterThan(0);
    expect(res.passed).toBeGreaterThan(0);
  });
});
