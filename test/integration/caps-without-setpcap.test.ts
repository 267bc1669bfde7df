/**
 * clearCaps() in a parent that lacks CAP_SETPCAP, the one capability that can drop the bounding
 * set (a non-root parent, or root started with that capability out of its bounding set):
 * - a child that is not root gets empty effective, permitted, inheritable and ambient sets, and
 *   the bounding set it cannot drop stays as the parent's (a non-root process gains from it only
 *   by executing a setuid or file-capability program);
 * - a child that stays root would regain its whole bounding set at exec: the run fails at stage
 *   'caps' with EPERM instead of running it with every capability.
 * The root parent without CAP_SETPCAP is a node process started by `setpriv --bounding-set=-setpcap`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { buildUnderTestEnv, expectChildOk, runNodeChild } from '../helpers/node-child';
import { parseReport } from '../helpers/report';
import { describeRoot, isRoot } from '../helpers/root';

useInvariants();

const ZERO_SETS = { inh: 0n, prm: 0n, eff: 0n, amb: 0n };

/** This process's bounding set, from /proc/self/status. */
function ownBounding(): bigint {
  const line = fs
    .readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('CapBnd:'));
  return BigInt(`0x${line!.split(':')[1].trim()}`);
}

/** Why `setpriv --bounding-set=-setpcap` cannot start a process here, or null. */
function noSetpriv(): string | null {
  const r = spawnSync('setpriv', ['--bounding-set=-setpcap', 'true']);
  if (r.error) return `setpriv not available: ${r.error.message}`;
  return r.status === 0 ? null : `setpriv --bounding-set=-setpcap failed: ${r.stderr.toString().trim()}`;
}

// A node parent started as root without CAP_SETPCAP: runs the helper with clearCaps() and
// `ARGS.setUID` (or none), and emits the helper's report or the run's error.
const CLEAR_CAPS_SCRIPT = `
const cmd = new vc.Command(HELPER, '--log', '-', '--no-stdio').clearCaps();
if (ARGS.uid !== null) cmd.setUID(ARGS.uid).setGID(ARGS.uid);
const status = fs.readFileSync('/proc/self/status', 'utf8');
const bnd = /CapBnd:\\s*(\\S+)/.exec(status)[1];
const prm = /CapPrm:\\s*(\\S+)/.exec(status)[1];
try {
  const r = await cmd.run();
  emit({ parent: { bnd, prm }, report: String(r.stdout) });
} catch (e) {
  emit({ parent: { bnd, prm }, error: { stage: e.stage, code: e.code, exitStatus: e.exitStatus, message: e.message } });
}`;

interface ScriptResult {
  parent: { bnd: string; prm: string };
  report?: string;
  error?: { stage: string; code: string; exitStatus: number | null; message: string };
}

function runWithoutSetpcap(uid: number | null): ScriptResult {
  const r = runNodeChild(CLEAR_CAPS_SCRIPT, { prefix: ['setpriv', '--bounding-set=-setpcap'], args: { uid }, env: buildUnderTestEnv() });
  const out = expectChildOk(r) as ScriptResult;
  // The parent really lacks CAP_SETPCAP (bit 8) in both sets: otherwise this proves nothing.
  expect(BigInt(`0x${out.parent.prm}`) & (1n << 8n)).toBe(0n);
  expect(BigInt(`0x${out.parent.bnd}`) & (1n << 8n)).toBe(0n);
  return out;
}

if (isRoot) console.warn('[skip] "as a non-root parent": this process is root; the setpriv case below covers a parent without CAP_SETPCAP');
else console.warn('[skip] "as root without CAP_SETPCAP": needs root to start a root parent without CAP_SETPCAP');

describe('clearCaps() without CAP_SETPCAP, a child that is not root', () => {
  it.skipIf(isRoot)('as a non-root parent: effective, permitted, inheritable and ambient empty; the bounding set stays as ours', async () => {
    const r = parseReport(String((await new Command(HELPER, '--log', '-', '--no-stdio').clearCaps().run()).stdout));
    expect({ inh: r.capInh, prm: r.capPrm, eff: r.capEff, amb: r.capAmb }).toEqual(ZERO_SETS);
    expect(r.capBnd).toBe(ownBounding());
  });

  it.skipIf(!isRoot)('as root without CAP_SETPCAP, setUID(65534): the same, the run succeeds', (ctx) => {
    const why = noSetpriv();
    if (why) {
      console.warn(`[skip] clearCaps without CAP_SETPCAP: ${why}`);
      ctx.skip();
    }
    const out = runWithoutSetpcap(65534);
    expect(out.error).toBeUndefined();
    const r = parseReport(out.report!);
    expect(r.uid.real).toBe(65534);
    expect({ inh: r.capInh, prm: r.capPrm, eff: r.capEff, amb: r.capAmb }).toEqual(ZERO_SETS);
    expect(r.capBnd).toBe(BigInt(`0x${out.parent.bnd}`));
  });
});

describeRoot('clearCaps() without CAP_SETPCAP, a child that stays root', () => {
  it('fails at stage caps with EPERM, naming the bounding set: the program never runs with the capabilities it would regain', (ctx) => {
    const why = noSetpriv();
    if (why) {
      console.warn(`[skip] clearCaps without CAP_SETPCAP: ${why}`);
      ctx.skip();
    }
    const out = runWithoutSetpcap(null);
    expect(out.report, 'the helper ran: a root child with a full bounding set').toBeUndefined();
    expect(out.error).toMatchObject({ stage: 'caps', code: 'EPERM', exitStatus: 125 });
    expect(out.error!.message).toMatch(/stays in the bounding set, which only CAP_SETPCAP can drop/);
  });
});
