/**
 * setUID()/setGID() without setGroups(): the child gets exactly the groups getgrouplist()
 * returned for the user, read in the parent, also when the user database changes between two
 * calls or needs a large buffer. Observed from the real child (the helper's GROUPS line), with
 * the parent's user database replaced by an LD_PRELOAD shim (support/nss-shim.c) in a node
 * subprocess.
 */
import path from 'node:path';
import { expect, it } from 'vitest';
import { buildC, BASE_FLAGS } from '../helpers/build-helper';
import { buildUnderTestEnv, expectChildOk, runNodeChild } from '../helpers/node-child';
import { parseReport } from '../helpers/report';
import { describeRoot } from '../helpers/root';
import { OUT_DIR, SUPPORT_DIR } from './support/build';

const NOBODY = 65534;

function shim(): string {
  return buildC({
    src: path.join(SUPPORT_DIR, 'nss-shim.c'),
    out: path.join(OUT_DIR, 'libvcnssshim.so'),
    flags: [...BASE_FLAGS, '-shared', '-fPIC'],
    label: 'adversarial support',
  }).path;
}

// The helper as nobody without setGroups(), in a node process whose user database is the shim.
function groupsWith(env: Record<string, string>): number[] {
  // An ASan pass preloads libasan first: keep it first.
  const preload = [process.env.LD_PRELOAD, shim()].filter(Boolean).join(' ');
  const r = runNodeChild(
    `const res = new vc.Command(HELPER, '--log', '-', '--no-stdio').setUID(${NOBODY}).setGID(${NOBODY}).runSync();
     emit(res.stdout);`,
    { env: { ...buildUnderTestEnv(), ...env, LD_PRELOAD: preload } },
  );
  return parseReport(String(expectChildOk(r))).groups;
}

const expected = (count: number): number[] => [NOBODY, ...Array.from({ length: count - 1 }, (_, i) => 20001 + i)];
const sorted = (g: number[]): number[] => [...g].sort((a, b) => a - b);

describeRoot('supplementary groups read while the user database changes', () => {
  it('the list grows from 70 to 80 between two getgrouplist() calls: the 80 groups, no gid 0 padding', () => {
    const groups = groupsWith({ VC_SHIM_GROUPS: '70,80' });
    expect(groups, `Groups: ${groups}`).not.toContain(0);
    expect(sorted(groups)).toEqual(sorted(expected(80)));
  });

  it('the list grows on every call past the first (64 slots, then 100, then 130): the last list, whole', () => {
    // The shim answers 100 to the first call and 130 to the second: a retry that trusted the
    // first count kept 100 slots of a 130-group answer.
    const groups = groupsWith({ VC_SHIM_GROUPS: '100,130' });
    expect(groups).not.toContain(0);
    expect(sorted(groups)).toEqual(sorted(expected(130)));
  });

  it('getpwuid_r() needs a buffer above 16 KiB (ERANGE): the buffer grows, the groups are kept', () => {
    const groups = groupsWith({ VC_SHIM_PW_MIN: String(100_000), VC_SHIM_GROUPS: '5,5' });
    expect(sorted(groups)).toEqual(sorted(expected(5)));
  });
});
