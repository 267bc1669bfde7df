/**
 * setSendBuffer() targets anywhere from 3 to RLIMIT_NOFILE-1 work together: the spawn's own
 * fds that must stay off the targets are placed in free numbers below the limit that are no
 * target (not above the highest target, which is past the limit when a target is limit-1).
 * Run in a node subprocess whose RLIMIT_NOFILE is 256 (bash ulimit), so the numbers are known;
 * observed from the real child: the helper echoes what it reads at each target (--readfd) and
 * reports the fds it holds.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildUnderTestEnv, expectChildOk, runNodeChild } from '../helpers/node-child';
import { useInvariants } from '../helpers/invariants';
import { parseReport } from '../helpers/report';
import { useTmpDir } from '../helpers/tmp';

useInvariants();
const tmp = useTmpDir('vc-send-limit-');

const LIMIT = 256;
const withLimit = ['bash', '-c', `ulimit -n ${LIMIT} && exec "$@"`, 'bash'];

// The numbers the spawn's own pipes take next (the lowest free ones), plus limit-1 and a few
// low ones, all as targets; runSync(), run() and runAsync().
const SCRIPT = `
const probe = Array.from({ length: 12 }, () => fs.openSync('/dev/null', 'r'));
for (const fd of probe) fs.closeSync(fd);
const targets = [...new Set([...probe.filter((fd) => fd >= 3), 29, 30, 32, ARGS.limit - 1])].sort((a, b) => a - b);
const make = (log) => {
  const cmd = new vc.Command(HELPER, '--log', log);
  for (const fd of targets) cmd.addArgList('--readfd', String(fd)).setSendBuffer(fd, 'data for fd ' + fd + '\\n');
  return cmd.setOutputBuffer({});
};
const sync = String(make(ARGS.dir + '/sync').runSync().stdout);
const asyncOut = String((await make(ARGS.dir + '/async').run()).stdout);
const bg = make(ARGS.dir + '/bg');
bg.runAsync();
const bgOut = String((await bg.wait()).stdout);
emit({ targets, sync, asyncOut, bgOut });
`;

// Every free number below the limit is taken, by the spawn's own pipes (from the bottom) or as
// a target (the top K free numbers): a pipe end that landed on a target has nowhere to go.
const FULL_SCRIPT = `
const free = [];
for (;;) {
  try { free.push(fs.openSync('/dev/null', 'r')); } catch { break; }
}
for (const fd of free) fs.closeSync(fd);
const k = Math.floor((free.length - 8) / 2);
const targets = free.slice(free.length - k);
const before = procFds().length;
let full = null;
try {
  const cmd = new vc.Command(HELPER);
  for (const fd of targets) cmd.setSendBuffer(fd, 'x');
  cmd.runSync();
} catch (e) {
  full = { stage: e.stage, code: e.code };
}
emit({ free: free.length, k, full, leaked: procFds().length - before });
`;

describe('send buffer targets up to RLIMIT_NOFILE-1', () => {
  it('low targets and limit-1 together: each child reads its data at each target, and holds only those fds', () => {
    const r = runNodeChild(SCRIPT, { args: { dir: tmp.path, limit: LIMIT }, env: buildUnderTestEnv(), prefix: withLimit });
    const res = expectChildOk(r) as { targets: number[]; sync: string; asyncOut: string; bgOut: string };
    expect(res.targets).toContain(LIMIT - 1);
    const echoed = `BEGIN STDOUT\n${res.targets.map((fd) => `data for fd ${fd}\n`).join('')}END STDOUT\n`;
    expect(res.sync).toBe(echoed);
    expect(res.asyncOut).toBe(echoed);
    expect(res.bgOut).toBe(echoed);
    for (const log of ['sync', 'async', 'bg']) {
      const report = parseReport(fs.readFileSync(path.join(tmp.path, log), 'utf8'));
      expect([...report.fds.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2, ...res.targets]);
      for (const fd of res.targets) expect(report.fds.get(fd)).toMatch(/^pipe:/);
    }
  });

  it('no free number below the limit that is no target: a clear EMFILE at stage pipe, no fd left open', () => {
    const r = runNodeChild(FULL_SCRIPT, { env: buildUnderTestEnv(), prefix: withLimit });
    const res = expectChildOk(r) as { free: number; k: number; full: { stage: string; code: string } | null; leaked: number };
    expect(res.k, `free numbers: ${res.free}`).toBeGreaterThan(10);
    expect(res.full).toEqual({ stage: 'pipe', code: 'EMFILE' });
    expect(res.leaked).toBe(0);
  });
});
