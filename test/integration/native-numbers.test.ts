/**
 * Every number native reads from JavaScript is checked where native reads it: an integer in the
 * range its use allows, or a TypeError/RangeError naming it, and nothing started. Never a
 * silent narrowing (2^32 + 5 read as fd 5, uid 2^32 as uid 0, signal 2^32 + 9 as SIGKILL).
 *
 * The builder refuses such values first, so each row here changes one field of a real plan
 * (captured from a Command) and hands it to the real addon directly. The first test is the
 * case a caller can reach: an FdRef changed after setOutputFD(ref).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Command, CommandError } from '../../src/index';
import { loadNative, type NativeBinding, type NativePlan, setNativeBinding } from '../../src/native';
import { HELPER } from '../helpers/helper';
import { nativeResult } from '../helpers/native-result';
import { useInvariants } from '../helpers/invariants';
import { useTmpDir } from '../helpers/tmp';

useInvariants();
const tmp = useTmpDir('vc-numbers-');
afterEach(() => setNativeBinding(null));

describe('an FdRef changed to 2^32 + F after setOutputFD(ref)', () => {
  it("is refused, and nothing is written to the caller's fd F", async () => {
    const file = path.join(tmp.path, 'fd-f');
    const f = fs.openSync(file, 'w');
    try {
      for (const run of [(c: Command) => c.runSync(), (c: Command) => c.run()]) {
        const ref = { fd: f };
        const cmd = new Command('/bin/echo', 'LEAKED').setOutputFD(ref);
        ref.fd = 2 ** 32 + f;
        await expect(Promise.resolve().then(() => run(cmd))).rejects.toThrow(CommandError);
        await expect(Promise.resolve().then(() => run(cmd))).rejects.toThrow(/FdRef\.fd must be -1 or an fd/);
      }
      expect(fs.readFileSync(file, 'utf8')).toBe('');
    } finally {
      fs.closeSync(f);
    }
  });
});

// A real plan for `cmd`, as the builder makes it (the addon is not called).
function planOf(cmd: Command): NativePlan {
  let plan: NativePlan | null = null;
  const result = nativeResult();
  setNativeBinding({ ...loadNative(), runSync: (p: NativePlan) => ((plan = p), result) });
  try {
    cmd.runSync();
  } finally {
    setNativeBinding(null);
  }
  if (plan === null) throw new Error('no plan captured');
  return plan;
}

type Plan = Record<string, unknown> & NativePlan;
interface Row {
  /** the field as native names it in the message */
  field: string;
  set: (p: Plan, v: unknown) => void;
  /** values to refuse besides the common ones (1.5, NaN, Infinity, '3') */
  outside: number[];
  /** a plan where this field is read */
  base?: () => Command;
}

const HUGE = 2 ** 32;
const ROWS: Row[] = [
  { field: 'stdout.fd', set: (p, v) => (p.stdout = { type: 'fd', fd: v as number }), outside: [HUGE + 1, -1, 2 ** 31] },
  { field: 'stdin.fd', set: (p, v) => (p.stdin = { type: 'fd', fd: v as number }), outside: [HUGE, -2] },
  { field: 'passFds[0]', set: (p, v) => (p.passFds = [v as number]), outside: [HUGE + 1, -1] },
  { field: 'blockingFds[0]', set: (p, v) => (p.blockingFds = [v as number]), outside: [HUGE + 1] },
  { field: 'namespaces[0].fd', set: (p, v) => (p.namespaces = [{ fd: v as number, type: 0 }]), outside: [HUGE + 3] },
  { field: 'cgroupFd', set: (p, v) => (p.cgroupFd = v as number), outside: [HUGE + 3, -2] },
  { field: 'sendBuffers[0].fd', set: (p, v) => (p.sendBuffers = [{ fd: v as number, data: Buffer.from('INJECTED\n') }]), outside: [HUGE + 9, 2] },
  { field: 'uid', set: (p, v) => (p.uid = v as number), outside: [HUGE, HUGE - 1, -2] },
  { field: 'gid', set: (p, v) => (p.gid = v as number), outside: [HUGE, -2] },
  { field: 'groups[0]', set: (p, v) => (p.groups = [v as number]), outside: [HUGE, -1] },
  { field: 'keepCaps[0]', set: (p, v) => (p.keepCaps = [v as number]), outside: [HUGE + 1, 64, -1] },
  { field: 'rlimits[0].resource', set: (p, v) => (p.rlimits = [{ resource: v as number, soft: 1, hard: 1 }]), outside: [HUGE + 7, -1, 1000] },
  { field: 'rlimits[0].soft', set: (p, v) => (p.rlimits = [{ resource: 7, soft: v as number, hard: 1 }]), outside: [-2, 2 ** 53] },
  { field: 'parentDeathSignal', set: (p, v) => (p.parentDeathSignal = v as number), outside: [HUGE + 9, -1, 65] },
  { field: 'pgid', set: (p, v) => (p.pgid = v as number), outside: [HUGE, -2] },
  { field: 'umask', set: (p, v) => (p.umask = v as number), outside: [HUGE + 0o22, 0o1000, -2] },
  { field: 'unshareFlags', set: (p, v) => (p.unshareFlags = v as number), outside: [HUGE + 0x20000, -1] },
  { field: 'nice', set: (p, v) => (p.nice = v as number), outside: [HUGE + 5, 20, -21] },
  { field: 'cpuAffinity[0]', set: (p, v) => (p.cpuAffinity = [v as number]), outside: [HUGE + 1, 65536, -1] },
  { field: 'memoryPolicy.nodes[0]', set: (p, v) => (p.memoryPolicy = { mode: 0, nodes: [v as number] }), outside: [HUGE, 4096] },
  { field: 'memoryPolicy.mode', set: (p, v) => (p.memoryPolicy = { mode: v as number, nodes: [0] }), outside: [HUGE + 2, -2] },
  { field: 'schedCore', set: (p, v) => (p.schedCore = v as number), outside: [HUGE + 1, 3, -1] },
  { field: 'schedCorePid', set: (p, v) => Object.assign(p, { schedCore: 2, schedCorePid: v as number }), outside: [HUGE + 1, 0, -1] },
  { field: 'stdout.maxBuffer', set: (p, v) => (p.stdout = { type: 'capture', maxBuffer: v as number }), outside: [-1, 2 ** 53] },
  { field: 'namespaceSetup.propagation', set: (p, v) => (p.namespaceSetup = { ...p.namespaceSetup, propagation: v as number }), outside: [HUGE, -1] },
];

describe('numbers in the plan are checked by native where it reads them', () => {
  const real = loadNative();
  const base = (): Plan => planOf(new Command(HELPER, '--no-stdio')) as Plan;

  it.each(ROWS.map((r) => [`${r.field} (${r.outside.join(', ')}, 1.5, NaN, Infinity, '3')`, r] as const))(
    '%s: refused with a TypeError or RangeError naming it, nothing started',
    (_, row) => {
      for (const v of [...row.outside, 1.5, NaN, Infinity, -Infinity, '3']) {
        const plan = base();
        row.set(plan, v);
        let thrown: unknown = null;
        try {
          real.runSync(plan);
        } catch (e) {
          thrown = e;
        }
        expect(thrown, `${row.field} = ${String(v)} was accepted`).toBeInstanceOf(Error);
        const e = thrown as Error;
        expect(
          [TypeError, RangeError].some((c) => e instanceof c),
          `${row.field} = ${String(v)}: ${e.message}`,
        ).toBe(true);
        expect(e.message).toContain(`'${row.field}'`);
      }
    },
  );

  it('the values at each end of the ranges are accepted (the same plan runs)', () => {
    const plan = base();
    Object.assign(plan, { umask: 0o777, nice: 19, parentDeathSignal: 0, pgid: -1, uid: -1, gid: -1 });
    const r = real.runSync(plan);
    expect(r.failure).toBeNull();
    expect(r.status).toBe(0);
  });
});

describe('numbers given to the other native entry points are checked', () => {
  const real = loadNative() as NativeBinding & Record<string, (...a: unknown[]) => unknown>;
  it.each([
    ['pidKill: pid', () => real.pidKill(HUGE + 1, 0)],
    ['pidKill: pid', () => real.pidKill(0, 0)],
    ['pidKill: pid', () => real.pidKill(-1, 0)],
    // 2^32 would have been read as signal 0 (harmless to this process), not refused.
    ['pidKill: signal', () => real.pidKill(process.pid, HUGE)],
    ['pidWait: pid', () => real.pidWait(HUGE + 1, () => {})],
    ['getGroupList: uid', () => real.getGroupList(HUGE, 0)],
    ['pidfdOpen: pid', () => real.pidfdOpen(HUGE + 1)],
    ['pidfdSendSignal: signal', () => real.pidfdSendSignal(0, HUGE + 9)],
    ['lockHolder: fd', () => real.lockHolder(HUGE + 1)],
    ['tryLock: fd', () => real.tryLock(1.5)],
  ] as const)('%s out of range or not an integer: a TypeError or RangeError naming it', (name, call) => {
    expect(call).toThrow(name);
    expect(() => {
      try {
        call();
      } catch (e) {
        if (e instanceof TypeError || e instanceof RangeError) throw new Error('ok');
        throw new Error(`not a TypeError/RangeError: ${String(e)}`);
      }
    }).toThrow('ok');
  });
});

describe('fds given by number are checked again when the run starts', () => {
  // The builder saw them open; the caller closed them since. Our own pipes would take the
  // number, and the child would setns() into, or clone into, one of them.
  it('a namespace fd closed after joinNamespace(): stage namespace, EBADF, nothing started', () => {
    const fd = fs.openSync('/proc/self/ns/uts', 'r');
    const cmd = new Command(HELPER, '--no-stdio').joinNamespace(fd, 'uts');
    fs.closeSync(fd);
    let err: unknown = null;
    try {
      cmd.runSync();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CommandError);
    expect(err).toMatchObject({ stage: 'namespace', code: 'EBADF' });
    expect((err as CommandError).pid ?? 0).toBe(0);
  });

  it('a cgroup fd closed after joinCgroup(fd): stage cgroup, EBADF, nothing started', () => {
    const fd = fs.openSync('/', 'r');
    const cmd = new Command(HELPER, '--no-stdio').joinCgroup(fd);
    fs.closeSync(fd);
    let err: unknown = null;
    try {
      cmd.runSync();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CommandError);
    expect(err).toMatchObject({ stage: 'cgroup', code: 'EBADF' });
    expect((err as CommandError).pid ?? 0).toBe(0);
  });
});
