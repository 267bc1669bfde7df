/**
 * Every numeric argument and option at its limits: 0, -1, 2^31-1, 2^31,
 * 2^32-1, 2^32, 2^53, NaN, Infinity and a fraction. Each value is either accepted (and then
 * works as documented: the runs here are dry runs, test/integration/big-numbers.test.ts runs
 * real children with the large values) or refused at once with a RangeError naming the method
 * and the argument. Nothing in between: no wrap to a negative, no silent clamp.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Command, pidAbort, pidWait, setDryRun } from '../../src/index';

const VALUES = [0, -1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, NaN, Infinity, 1.5] as const;
type Value = (typeof VALUES)[number];
const label = (v: number): string => (Number.isNaN(v) ? 'NaN' : v === 2 ** 53 ? '2^53' : String(v));

type Outcome = 'ok' | 'range';
// Which values a row accepts (the others must be RangeErrors).
const TIMER: Value[] = [0, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 1.5];
const SIZE: Value[] = [0, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32];
const ID: Value[] = [0, 2 ** 31 - 1, 2 ** 31];
const LIMIT: Value[] = [0, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, Infinity];
const FD: Value[] = [0, 2 ** 31 - 1];

interface Row {
  method: string;
  argument: string;
  accepts: readonly Value[];
  call: (v: number) => unknown;
  /** Values not tried (with the reason in a comment on the row). */
  skip?: readonly Value[];
}

const cmd = (): Command => new Command('true');
// A command in dry-run mode that has "run" (so wait() has something to wait for).
function started(): Command {
  const c = cmd();
  c.runAsync();
  return c;
}

const ROWS: Row[] = [
  { method: 'Command.run', argument: 'options.timeout', accepts: TIMER, call: (v) => cmd().run({ timeout: v }) },
  { method: 'Command.run', argument: 'options.killGrace', accepts: TIMER, call: (v) => cmd().run({ killGrace: v }) },
  { method: 'Command.run', argument: 'options.maxBuffer', accepts: SIZE, call: (v) => cmd().run({ maxBuffer: v }) },
  { method: 'Command.runSync', argument: 'options.timeout', accepts: TIMER, call: (v) => cmd().runSync({ timeout: v }) },
  { method: 'Command.runSync', argument: 'options.killGrace', accepts: TIMER, call: (v) => cmd().runSync({ killGrace: v }) },
  { method: 'Command.runSync', argument: 'options.maxBuffer', accepts: SIZE, call: (v) => cmd().runSync({ maxBuffer: v }) },
  { method: 'Command.runAsync', argument: 'options.maxBuffer', accepts: SIZE, call: (v) => cmd().runAsync({ maxBuffer: v }) },
  { method: 'Command.wait', argument: 'options.timeout', accepts: TIMER, call: (v) => started().wait({ timeout: v }) },
  { method: 'Command.wait', argument: 'options.killGrace', accepts: TIMER, call: (v) => started().wait({ killGrace: v }) },
  { method: 'Command.abort', argument: 'options.grace', accepts: TIMER, call: (v) => cmd().abort({ grace: v }) },
  { method: 'Command.setUID', argument: 'uid', accepts: ID, call: (v) => cmd().setUID(v) },
  { method: 'Command.setGID', argument: 'gid', accepts: ID, call: (v) => cmd().setGID(v) },
  { method: 'Command.setGroups', argument: 'gids[0]', accepts: ID, call: (v) => cmd().setGroups([v]) },
  { method: 'Command.setUmask', argument: 'mask', accepts: [0], call: (v) => cmd().setUmask(v) },
  { method: 'Command.setMaxFiles', argument: 'n', accepts: LIMIT, call: (v) => cmd().setMaxFiles(v) },
  { method: 'Command.setMaxProcesses', argument: 'n', accepts: LIMIT, call: (v) => cmd().setMaxProcesses(v) },
  { method: 'Command.setMaxCoreSize', argument: 'bytes', accepts: LIMIT, call: (v) => cmd().setMaxCoreSize(v) },
  // libvirt's rule: 2^53-1 bytes or more means unlimited, so 2^53 is accepted here.
  { method: 'Command.setMaxMemLock', argument: 'bytes', accepts: [...LIMIT, 2 ** 53], call: (v) => cmd().setMaxMemLock(v) },
  { method: 'Command.setRlimit', argument: 'soft', accepts: LIMIT, call: (v) => cmd().setRlimit('FSIZE', v, Infinity) },
  { method: 'Command.setRlimit', argument: 'hard', accepts: LIMIT, call: (v) => cmd().setRlimit('FSIZE', 0, v) },
  { method: 'Command.setRlimit', argument: 'resource', accepts: [0], call: (v) => cmd().setRlimit(v, 1) },
  { method: 'Command.setNice', argument: 'n', accepts: [0, -1], call: (v) => cmd().setNice(v) },
  { method: 'Command.setpgid', argument: 'pgid', accepts: [0, 2 ** 31 - 1], call: (v) => cmd().setpgid(v) },
  { method: 'Command.passFD', argument: 'fd', accepts: [2 ** 31 - 1], call: (v) => cmd().passFD(v) },
  { method: 'Command.passFD', argument: 'flags', accepts: [0], call: (v) => cmd().passFD(3, v) },
  { method: 'Command.setInputFD', argument: 'fd', accepts: FD, call: (v) => cmd().setInputFD(v) },
  { method: 'Command.setOutputFD', argument: 'target', accepts: FD, call: (v) => cmd().setOutputFD(v) },
  { method: 'Command.setErrorFD', argument: 'target.fd', accepts: [0, -1, 2 ** 31 - 1], call: (v) => cmd().setErrorFD({ fd: v }) },
  // fd 0 is this test's own stdin: not written to. 2^31-1 is accepted and fails with EBADF.
  { method: 'Command.writeArgLog', argument: 'fd', accepts: FD, skip: [0], call: (v) => cmd().writeArgLog(v) },
  { method: 'Command.joinNamespace', argument: 'fd', accepts: FD, call: (v) => cmd().joinNamespace(v, 0) },
  { method: 'Command.joinNamespace', argument: 'type', accepts: [0, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1], call: (v) => cmd().joinNamespace(3, v) },
  { method: 'Command.unshare', argument: 'flags', accepts: [0, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1], call: (v) => cmd().unshare(v) },
  { method: 'Command.joinCgroup', argument: 'dir', accepts: [0], call: (v) => cmd().joinCgroup(v) },
  { method: 'Command.setParentDeathSignal', argument: 'signal', accepts: [0], call: (v) => cmd().setParentDeathSignal(v) },
  { method: 'Command.allowCap', argument: 'cap', accepts: [0], call: (v) => cmd().allowCap(v) },
  {
    method: 'Command.addArgFormat',
    argument: 'values[0]',
    accepts: [0, -1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53],
    call: (v) => cmd().addArgFormat('%d', v),
  },
  {
    method: 'Command.addArgFormat',
    argument: 'values[0]',
    accepts: [0, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53],
    call: (v) => cmd().addArgFormat('%x', v),
  },
  // Accepted pids that no Command released are refused by pidWait with ECHILD (not a RangeError).
  { method: 'pidWait', argument: 'pid', accepts: [2 ** 31 - 1], call: (v) => pidWait(v) },
  // virProcessAbort ignores pid <= 0; so does pidAbort.
  { method: 'pidAbort', argument: 'pid', accepts: [0, -1, 2 ** 31 - 1], call: (v) => pidAbort(v) },
];

async function outcome(row: Row, v: number): Promise<Outcome> {
  let err: unknown;
  try {
    await row.call(v);
    return 'ok';
  } catch (e) {
    err = e;
  }
  if (err instanceof RangeError) {
    expect(err.message, `${row.method}(${label(v)})`).toContain(`${row.method}:`);
    expect(err.message, `${row.method}(${label(v)})`).toContain(row.argument);
    return 'range';
  }
  // Anything else must be the documented outcome of an accepted value (pidWait: ECHILD).
  const code = (err as { code?: string }).code;
  if (row.method === 'pidWait' && code === 'ECHILD') return 'ok';
  if (row.method === 'Command.writeArgLog' && code === 'EBADF') return 'ok';
  throw new Error(`${row.method}(${label(v)}): neither accepted nor a RangeError: ${String(err)}`);
}

describe('numeric arguments at their limits: accepted, or a RangeError naming the method and argument', () => {
  afterEach(() => setDryRun(null));

  for (const row of ROWS) {
    it(`${row.method} ${row.argument}`, async () => {
      setDryRun({});
      const got: Record<string, Outcome> = {};
      const want: Record<string, Outcome> = {};
      for (const v of VALUES) {
        if (row.skip?.some((s) => Object.is(s, v))) continue;
        got[label(v)] = await outcome(row, v);
        want[label(v)] = row.accepts.some((a) => Object.is(a, v)) ? 'ok' : 'range';
      }
      expect(got).toEqual(want);
    });
  }

  it('addArgFormat prints large integers exactly, and refuses a width or precision past MAX_ARG_STRLEN', () => {
    const argOf = (fmt: string, ...values: unknown[]): string =>
      cmd()
        .addArgFormat(fmt, ...values)
        .toString()
        .slice('true '.length);
    expect(argOf('%d', 2 ** 53)).toBe('9007199254740992');
    expect(argOf('%u', 2 ** 64)).toBe('18446744073709551616');
    expect(argOf('%x', 2n ** 64n - 1n)).toBe('ffffffffffffffff');
    expect(argOf('%0131072d', 1).length).toBe(131072);
    for (const fmt of ['%131073d', '%.131073d', '%999999999999d', `%${2 ** 53}s`]) {
      const e = (() => {
        try {
          cmd().addArgFormat(fmt, 1);
        } catch (x) {
          return x as Error;
        }
        return null;
      })();
      expect(e, fmt).toBeInstanceOf(RangeError);
      expect(e?.message).toMatch(/^Command\.addArgFormat: argument 'format' has a width or precision above 131072/);
    }
  });

  it('rlimits take bigints up to 2^64-1 and the word unlimited; a number past 2^53-1 is refused, not rounded', () => {
    setDryRun({});
    expect(() =>
      cmd()
        .setRlimit('FSIZE', 2n ** 63n, 2n ** 64n - 1n)
        .setMaxFiles('unlimited')
        .setMaxCoreSize(0n),
    ).not.toThrow();
    expect(() => cmd().setRlimit('FSIZE', 2n ** 64n)).toThrow(/Command\.setRlimit: argument 'soft' must be a bigint >= 0n and <= 2n \*\* 64n - 1n/);
    expect(() => cmd().setRlimit('FSIZE', -1n)).toThrow(RangeError);
    expect(() => cmd().setMaxFiles(2 ** 53 + 2)).toThrow(/a bigint above/);
    expect(() => cmd().setRlimit('FSIZE', 'lots' as 'unlimited')).toThrow(TypeError);
  });

  it('setGroups refuses more than NGROUPS_MAX (65536) ids', () => {
    expect(() => cmd().setGroups(new Array(65536).fill(1))).not.toThrow();
    expect(() => cmd().setGroups(new Array(65537).fill(1))).toThrow(/^Command\.setGroups: argument 'gids' length must be <= 65536/);
  });
});
