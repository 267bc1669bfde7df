/**
 * A polluted Object.prototype does not reach the child: native reads the plan from its own
 * properties only, and the plan has every field set. Each optional field of the plan
 * (send buffers, CPU affinity, memory policy, core scheduling, LSM labels, blocking fds) is
 * put on Object.prototype in turn, in a node subprocess (the pollution must not leak into
 * vitest), and the real child is observed: no fd 9, its scheduling state and LSM label as
 * without the pollution (test/fixtures/sched-probe.c), a passed fd still non-blocking, and no
 * failure at an LSM or scheduling stage.
 */
import { describe, expect, it } from 'vitest';
import { buildUnderTestEnv, expectChildOk, runNodeChild } from '../helpers/node-child';
import { useInvariants } from '../helpers/invariants';
import { parseReport } from '../helpers/report';
import { schedProbe } from '../helpers/sched-probe';

useInvariants();

const SCRIPT = `
const POLLUTIONS = {
  sendBuffers: [{ fd: 9, data: Buffer.from('INJECTED\\n') }],
  cpuAffinity: [0],
  memoryPolicy: { mode: 2, nodes: [0] },
  schedCore: 1,
  selinuxLabel: 'system_u:system_r:injected_t:s0',
  apparmorProfile: 'injected',
  blockingFds: [],
};
// A passed fd that is non-blocking: a polluted blockingFds naming it would clear O_NONBLOCK in
// the child (fdinfo's flags show it).
const nb = fs.openSync('/dev/null', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
POLLUTIONS.blockingFds = [nb];
function observe() {
  return {
    fds: String(new vc.Command(HELPER, '--log', '-', '--no-stdio').runSync().stdout),
    sched: String(new vc.Command(ARGS.probe).runSync().stdout),
    passed: String(new vc.Command('/bin/cat', '/proc/self/fdinfo/' + nb).passFD(nb).runSync().stdout).split('\\n').find((l) => l.startsWith('flags:')),
  };
}
const out = { baseline: observe() };
for (const [key, value] of Object.entries(POLLUTIONS)) {
  Object.prototype[key] = value;
  try {
    const got = observe();
    got.fdsAsync = String((await new vc.Command(HELPER, '--log', '-', '--no-stdio').run()).stdout);
    out[key] = got;
  } catch (e) {
    out[key] = { error: String(e && e.message) };
  } finally {
    delete Object.prototype[key];
  }
}
emit(out);
`;

type Observed = { fds: string; fdsAsync: string; sched: string; passed: string };
type Outcome = Observed | { error: string };

describe('Object.prototype pollution and the plan', () => {
  const r = runNodeChild(SCRIPT, { args: { probe: schedProbe() }, env: buildUnderTestEnv(), timeoutMs: 60000 });
  const res = expectChildOk(r) as Record<string, Outcome> & { baseline: Observed };
  const fdsOf = (text: string): number[] => [...parseReport(text).fds.keys()].sort((a, b) => a - b);

  it('the baseline: fds 0-2, a passed fd that is non-blocking (flags with 04000)', () => {
    expect(fdsOf(res.baseline.fds)).toEqual([0, 1, 2]);
    expect(res.baseline.passed).toMatch(/^flags:\s*0*[0-7]*4[0-7]{3}$/);
    expect(res.baseline.sched).toMatch(/^CPUS:/);
  });

  // blockingFds has always been set on the plan (so it never came from the prototype): kept
  // here so that a plan leaving it off again is caught.
  it.each(['sendBuffers', 'cpuAffinity', 'memoryPolicy', 'schedCore', 'selinuxLabel', 'apparmorProfile', 'blockingFds'])(
    'Object.prototype.%s reaches no child: it runs as without it',
    (key) => {
      const got = res[key];
      expect(got, JSON.stringify(got)).not.toHaveProperty('error');
      if ('error' in got) return;
      expect(fdsOf(got.fds)).toEqual([0, 1, 2]);
      expect(fdsOf(got.fdsAsync)).toEqual([0, 1, 2]);
      // CPUs, memory policy, core-scheduling cookie and LSM label: as without the pollution.
      expect(got.sched).toBe(res.baseline.sched);
      expect(got.passed).toBe(res.baseline.passed);
    },
  );
});
