/**
 * Property tests of fd plans: random sequences of passFD
 * (with and without PASS_FD_CLOSE_PARENT, duplicates, 0-2, closed numbers,
 * negative, fractional, huge, not numbers), setInputFD / setOutputFD /
 * setErrorFD (fds, FdRefs, one FdRef shared by both, invalid targets) and
 * the buffer setters, at random fd numbers opened in this process (each on
 * its own file, placed with dup2 from the test-only fdtool addon), run with
 * runSync(), run() or runAsync() + wait().
 *
 * What must happen, per case:
 * - an invalid argument: the builder call throws at once the TypeError or
 *   RangeError that names the method and the argument;
 * - misuse of the command as a whole (input or output set twice, caller
 *   pipes with runSync()): the run fails with a CommandError
 *   ERR_COMMAND_USAGE, nothing spawned, no fd touched;
 * - an fd that is not open, passed or given as stdin/stdout/stderr: the run
 *   fails with a CommandError EBADF naming the call and the fd, before any
 *   spawn (the addon's own pipes would otherwise take that number and reach
 *   the child as something else), no fd touched;
 * - otherwise the child has exactly 0-2 and the passed fds, each passed fd
 *   on the same file as in the parent, stdio where it was asked; afterwards
 *   the parent has the same fds as before but the CLOSE_PARENT ones (closed)
 *   and the read ends handed out through FdRefs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Command, CommandError, PASS_FD_BLOCKING, PASS_FD_CLOSE_PARENT, type FdRef } from '../../src/index';
import { type FdTool, loadFdTool } from '../adversarial/support/build';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { openFds } from '../helpers/proc';
import { fdNumbers, readReport } from '../helpers/report';
import { useTmpDir } from '../helpers/tmp';
import { params } from './support/arbitraries';
import { type ArgErrorSpec, expectArgError, ourChildren, useSpawnCounter } from './support/harness';

useInvariants();
const tmp = useTmpDir('vc-prop-fds-');
const spawns = useSpawnCounter();
let ft: FdTool;
beforeAll(() => {
  ft = loadFdTool();
});

const FD_MAX = 2 ** 31 - 1;

// ------------------------------------------------------------------------------ the cases

/** An fd as a case gives it: a slot of the case's pool, this process's 0-2, or a raw value. */
type FdVal = { k: 'slot'; i: number } | { k: 'std'; n: 0 | 1 | 2 } | { k: 'raw'; v: unknown };

/** setOutputFD/setErrorFD targets: an fd, a new FdRef, the case's shared FdRef, or something invalid. */
type Target = { k: 'fd'; fd: FdVal } | { k: 'ref'; fd: FdVal | null } | { k: 'shared' } | { k: 'bad'; v: unknown };

type Op =
  | { m: 'passFD'; fd: FdVal; flags: unknown }
  | { m: 'setInputFD'; fd: FdVal }
  | { m: 'setInputBuffer' }
  | { m: 'setOutputFD' | 'setErrorFD'; target: Target }
  | { m: 'setOutputBuffer' | 'setErrorBuffer' };

interface Case {
  /** wished fd numbers, and whether each is opened (a huge one cannot be: it stays closed) */
  pool: { n: number; open: boolean }[];
  /** the shared FdRef's fd: null for -1 (a pipe), else an fd */
  shared: FdVal | null;
  ops: Op[];
  mode: 'runSync' | 'run' | 'runAsync';
}

const RAW_VALUES: unknown[] = [-1, -2, -0, 0.5, 3.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 53, -(2 ** 31), '3', '', null, undefined, 3n, true, {}, []];

const caseArb: fc.Arbitrary<Case> = fc
  .array(
    fc.record({
      n: fc.oneof(
        { arbitrary: fc.integer({ min: 3, max: 40 }), weight: 6 },
        { arbitrary: fc.integer({ min: 100, max: 1100 }), weight: 3 },
        { arbitrary: fc.constantFrom(65535, 2 ** 20, FD_MAX), weight: 1 },
      ),
      open: fc.oneof({ arbitrary: fc.constant(true), weight: 7 }, { arbitrary: fc.constant(false), weight: 1 }),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .chain((pool) => {
    const fdVal: fc.Arbitrary<FdVal> = fc.oneof(
      { arbitrary: fc.nat({ max: pool.length - 1 }).map((i) => ({ k: 'slot' as const, i })), weight: 12 },
      { arbitrary: fc.constantFrom(0, 1, 2).map((n) => ({ k: 'std' as const, n: n })), weight: 2 },
      { arbitrary: fc.constantFrom(...RAW_VALUES).map((v) => ({ k: 'raw' as const, v })), weight: 2 },
    );
    const flags = fc.oneof(
      { arbitrary: fc.constantFrom(0, PASS_FD_CLOSE_PARENT, undefined), weight: 8 },
      { arbitrary: fc.constantFrom(4, -1, 0.5, '1', null, NaN), weight: 1 },
    );
    const target: fc.Arbitrary<Target> = fc.oneof(
      { arbitrary: fdVal.map((fd) => ({ k: 'fd' as const, fd })), weight: 6 },
      { arbitrary: fc.option(fdVal, { freq: 3 }).map((fd) => ({ k: 'ref' as const, fd })), weight: 3 },
      { arbitrary: fc.constant({ k: 'shared' as const }), weight: 3 },
      {
        arbitrary: fc
          .constantFrom<unknown>(null, 'x', {}, [], { fd: -2 }, { fd: 1.5 }, { fd: '3' }, { fd: null }, 3n, undefined)
          .map((v) => ({ k: 'bad' as const, v })),
        weight: 1,
      },
    );
    const op: fc.Arbitrary<Op> = fc.oneof(
      { arbitrary: fc.record({ m: fc.constant('passFD' as const), fd: fdVal, flags }), weight: 12 },
      { arbitrary: fc.record({ m: fc.constant('setInputFD' as const), fd: fdVal }), weight: 2 },
      { arbitrary: fc.constant({ m: 'setInputBuffer' as const }), weight: 1 },
      { arbitrary: fc.record({ m: fc.constantFrom('setOutputFD' as const, 'setErrorFD' as const), target }), weight: 3 },
      { arbitrary: fc.record({ m: fc.constantFrom('setOutputBuffer' as const, 'setErrorBuffer' as const) }), weight: 1 },
    );
    return fc.record({
      pool: fc.constant(pool),
      shared: fc.option(fdVal, { freq: 3 }),
      ops: fc.array(op, { maxLength: 8 }),
      mode: fc.constantFrom('runSync' as const, 'run' as const, 'runAsync' as const),
    });
  });

/**
 * A case with one more slot, closed, at a low number (moved up to the first free ones, where
 * the addon's pipes and /dev/null land), given as stdin, stdout or stderr (a number or an
 * FdRef holding it) by a call put in at some place.
 */
const closedStdioCaseArb: fc.Arbitrary<Case> = fc
  .record({
    base: caseArb,
    n: fc.integer({ min: 3, max: 40 }),
    as: fc.constantFrom('setInputFD' as const, 'setOutputFD' as const, 'setErrorFD' as const, 'ref' as const),
    at: fc.nat(),
  })
  .map(({ base, n, as, at }) => {
    const pool = [...base.pool, { n, open: false }];
    const fd: FdVal = { k: 'slot', i: pool.length - 1 };
    const op: Op =
      as === 'setInputFD' ? { m: 'setInputFD', fd } : as === 'ref' ? { m: 'setErrorFD', target: { k: 'ref', fd } } : { m: as, target: { k: 'fd', fd } };
    const ops = [...base.ops];
    ops.splice(at % (ops.length + 1), 0, op);
    return { ...base, pool, ops };
  });

// ------------------------------------------------------------------------------ placing fds

/** The case's pool made real: slot -> fd number, and the numbers this case opened. */
interface Placed {
  slots: number[];
  opened: Set<number>;
}

/**
 * Opens each slot that is to be open at its wished number, moved up to the next number
 * free in this process (the test never dup2()s over an fd it did not open), each on a
 * file of its own.
 */
function place(pool: Case['pool'], dir: string): Placed {
  const taken = new Set(openFds().keys());
  const slots: number[] = [];
  const opened = new Set<number>();
  for (const { n, open } of pool) {
    let fd = n;
    while (taken.has(fd) && fd < FD_MAX) fd++;
    taken.add(fd);
    slots.push(fd);
    if (!open) continue;
    const tmpFd = fs.openSync(path.join(dir, `file-${fd}`), 'w+');
    if (tmpFd === fd) {
      opened.add(fd);
      continue;
    }
    const r = ft.dup2(tmpFd, fd);
    fs.closeSync(tmpFd);
    if (r === fd) opened.add(fd);
    else expect(r, `dup2 to ${fd}`).toBe(-os.constants.errno.EBADF); // beyond the NOFILE limit: it stays closed
  }
  return { slots, opened };
}

function isOpen(fd: number): boolean {
  return ft.getfd(fd) >= 0;
}

// ------------------------------------------------------------------------------ the model

type StdinCfg = { fd: number } | 'buffer' | null;
type OutCfg = { fd: number } | { ref: FdRef } | 'buffer' | null;

/** What the builder records from a sequence of calls (the first setting of a stream wins). */
interface Model {
  error: string | null;
  stdin: StdinCfg;
  stdout: OutCfg;
  stderr: OutCfg;
  pass: Map<number, number>;
}

function received(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v;
}

/** checkInteger's verdict for `what` of `method` in [min, max]. */
function intError(method: string, what: string, v: unknown, min: number, max: number): ArgErrorSpec | null {
  if (typeof v !== 'number') return { ctor: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: `${method}: ${what} must be a number (received ${received(v)})` };
  if (!Number.isInteger(v) || v < min || v > max) {
    return { ctor: RangeError, code: 'ERR_OUT_OF_RANGE', message: `${method}: ${what} must be an integer >= ${min} and <= ${max} (received ${String(v)})` };
  }
  return null;
}

/** A case's ops with their fds made real: the arguments each call gets. */
interface Call {
  op: Op;
  invoke: (cmd: Command) => void;
  /** the error the call must throw, or null */
  error: ArgErrorSpec | null;
  /** on success, its effect on the model */
  effect: (m: Model) => void;
}

function record(m: Model, stream: 'stdin' | 'stdout' | 'stderr', cfg: Exclude<OutCfg, null>): void {
  if (m[stream] !== null) {
    m.error ??= stream === 'stdin' ? 'cannot specify input twice' : stream === 'stdout' ? 'cannot specify output twice' : 'cannot specify error output twice';
  } else {
    (m as unknown as Record<string, unknown>)[stream] = cfg;
  }
}

function calls(c: Case, placed: Placed, sharedRef: FdRef): Call[] {
  const val = (f: FdVal): unknown => (f.k === 'slot' ? placed.slots[f.i] : f.k === 'std' ? f.n : f.v);
  return c.ops.map((op): Call => {
    switch (op.m) {
      case 'passFD': {
        const fd = val(op.fd);
        const error =
          intError('Command.passFD', "argument 'fd'", fd, 3, FD_MAX) ??
          (op.flags === undefined ? null : intError('Command.passFD', "argument 'flags'", op.flags, 0, PASS_FD_CLOSE_PARENT | PASS_FD_BLOCKING));
        const flags = (op.flags ?? 0) as number;
        return {
          op,
          error,
          invoke: (cmd) => (op.flags === undefined ? cmd.passFD(fd as number) : cmd.passFD(fd as number, op.flags as number)),
          effect: (m) => {
            if (!m.pass.has(fd as number)) m.pass.set(fd as number, flags);
          },
        };
      }
      case 'setInputFD': {
        const fd = val(op.fd);
        return {
          op,
          error: intError('Command.setInputFD', "argument 'fd'", fd, 0, FD_MAX),
          invoke: (cmd) => cmd.setInputFD(fd as number),
          effect: (m) => record(m, 'stdin', { fd: fd as number }),
        };
      }
      case 'setInputBuffer':
        return { op, error: null, invoke: (cmd) => cmd.setInputBuffer('input\n'), effect: (m) => record(m, 'stdin', 'buffer') };
      case 'setOutputBuffer':
      case 'setErrorBuffer':
        return {
          op,
          error: null,
          invoke: (cmd) => (op.m === 'setOutputBuffer' ? cmd.setOutputBuffer() : cmd.setErrorBuffer()),
          effect: (m) => record(m, op.m === 'setOutputBuffer' ? 'stdout' : 'stderr', 'buffer'),
        };
      case 'setOutputFD':
      case 'setErrorFD': {
        const method = `Command.${op.m}`;
        const stream = op.m === 'setOutputFD' ? 'stdout' : 'stderr';
        const t = op.target;
        let arg: unknown;
        if (t.k === 'fd') arg = val(t.fd);
        else if (t.k === 'ref') arg = { fd: t.fd === null ? -1 : val(t.fd) };
        else if (t.k === 'shared') arg = sharedRef;
        else arg = t.v;
        let error: ArgErrorSpec | null;
        if (typeof arg === 'number') error = intError(method, "argument 'target'", arg, 0, FD_MAX);
        else if (typeof arg !== 'object' || arg === null || !('fd' in arg)) {
          error = {
            ctor: TypeError,
            code: 'ERR_INVALID_ARG_TYPE',
            message: `${method}: argument 'target' must be an fd number or an object { fd: number } (received ${received(arg)})`,
          };
        } else error = intError(method, "argument 'target.fd'", arg.fd, -1, FD_MAX);
        return {
          op,
          error,
          invoke: (cmd) => (op.m === 'setOutputFD' ? cmd.setOutputFD(arg as number) : cmd.setErrorFD(arg as number)),
          effect: (m) => record(m, stream, typeof arg === 'number' ? { fd: arg } : { ref: arg as FdRef }),
        };
      }
    }
  });
}

// ------------------------------------------------------------------------------ the outcome

/** The CommandError the run must end with, before any spawn, or null when the child must run. */
function refusal(m: Model, mode: Case['mode']): { code: string; message: string; value?: number } | null {
  if (m.error !== null) return { code: 'ERR_COMMAND_USAGE', message: `Invalid use of command API: ${m.error}` };
  const wantsPipe = (o: OutCfg): boolean => o !== null && typeof o === 'object' && 'ref' in o && o.ref.fd === -1;
  if (mode === 'runSync' && (wantsPipe(m.stdout) || wantsPipe(m.stderr))) {
    return { code: 'ERR_COMMAND_USAGE', message: 'Invalid use of command API: cannot mix caller pipes with blocking execution' };
  }
  for (const fd of m.pass.keys()) if (!isOpen(fd)) return { code: 'EBADF', message: `Invalid use of command API: passFD fd ${fd} is not open`, value: fd };
  const fdOf = (o: StdinCfg | OutCfg): number | null => {
    if (o === null || o === 'buffer') return null;
    if ('fd' in o) return o.fd;
    return o.ref.fd === -1 ? null : o.ref.fd;
  };
  const stdio: [string, StdinCfg | OutCfg][] = [
    ['setInputFD', m.stdin],
    ['setOutputFD', m.stdout],
    ['setErrorFD', m.stderr],
  ];
  for (const [method, cfg] of stdio) {
    const fd = fdOf(cfg);
    if (fd !== null && !isOpen(fd)) return { code: 'EBADF', message: `Invalid use of command API: ${method} fd ${fd} is not open`, value: fd };
  }
  return null;
}

async function runIt(cmd: Command, mode: Case['mode']): Promise<unknown> {
  if (mode === 'runSync') return cmd.runSync();
  if (mode === 'run') return cmd.run();
  cmd.runAsync();
  return cmd.wait();
}

async function errorOf(p: () => Promise<unknown>): Promise<unknown> {
  try {
    await p();
  } catch (e) {
    return e;
  }
  return null;
}

// ------------------------------------------------------------------------------ the property

/** Builds, runs and judges one case (see the top of the file). */
async function checkCase(c: Case, seq: number): Promise<void> {
  const dir = path.join(tmp.path, `case-${seq}`);
  fs.mkdirSync(dir);
  const log = path.join(dir, 'helper.log');
  const placed = place(c.pool, dir);
  const refs: FdRef[] = [];
  const refFdsBefore: number[] = [];
  const closedByRun = new Set<number>();
  try {
    const sharedRef: FdRef = { fd: c.shared === null ? -1 : c.shared.k === 'slot' ? placed.slots[c.shared.i] : c.shared.k === 'std' ? c.shared.n : -1 };
    const before = openFds();
    const spawned = spawns.count;
    const cmd = new Command(HELPER, '--log', log, '--no-stdio');
    const m: Model = { error: null, stdin: null, stdout: null, stderr: null, pass: new Map() };
    for (const call of calls(c, placed, sharedRef)) {
      if (!expectArgError(() => call.invoke(cmd), call.error, `${call.op.m}(${JSON.stringify(call.op, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))})`))
        call.effect(m);
    }
    for (const o of [m.stdout, m.stderr]) {
      if (o !== null && typeof o === 'object' && 'ref' in o && !refs.includes(o.ref)) {
        refs.push(o.ref);
        refFdsBefore.push(o.ref.fd);
      }
    }
    expect(spawns.count - spawned, 'spawns while building').toBe(0);

    const refused = refusal(m, c.mode);
    const err = await errorOf(() => runIt(cmd, c.mode));
    if (refused) {
      expect(err, `the run must be refused: ${refused.message}`).toBeInstanceOf(CommandError);
      const ce = err as CommandError;
      expect({ code: ce.code, stage: ce.stage, message: ce.message }).toEqual({ code: refused.code, stage: 'validate', message: refused.message });
      if (refused.value !== undefined) expect(ce.value).toBe(refused.value);
      expect(spawns.count - spawned, 'spawns for a refused run').toBe(0);
      expect(openFds(), "the parent's fds after a refused run").toEqual(before);
      expect(
        refs.map((r) => r.fd),
        'FdRefs after a refused run',
      ).toEqual(refFdsBefore);
      return;
    }
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the run's unexpected error, as it came
    if (err !== null) throw err;
    expect(spawns.count - spawned, 'spawns for one run').toBe(1);
    expect(ourChildren()).toEqual([]);

    // The child: 0-2 and the passed fds, nothing else, each on the right file.
    const rep = readReport(log);
    const want = new Set([0, 1, 2, ...m.pass.keys()]);
    expect(fdNumbers(rep), `the child's fds (${[...rep.fds].join('; ')})`).toEqual([...want].sort((a, b) => a - b));
    for (const fd of m.pass.keys()) expect(rep.fds.get(fd), `passed fd ${fd}`).toBe(before.get(fd));
    const async = c.mode === 'runAsync';
    const expectStream = (fd: 0 | 1 | 2, cfg: StdinCfg | OutCfg, what: string): void => {
      const got = rep.fds.get(fd) as string;
      if (cfg === null) {
        if (fd === 0 || async) expect(got, what).toBe('/dev/null');
        else expect(got, what).toMatch(/^pipe:\[\d+\]$/); // captured by run()/runSync()
      } else if (cfg === 'buffer') {
        expect(got, what).toMatch(/^pipe:\[\d+\]$/);
      } else if ('fd' in cfg) {
        expect(got, what).toBe(before.get(cfg.fd));
      } else if (refFdsBefore[refs.indexOf(cfg.ref)] === -1) {
        expect(cfg.ref.fd, `${what}: the FdRef got a read end`).toBeGreaterThan(2);
        expect(got, what).toBe(fs.readlinkSync(`/proc/self/fd/${cfg.ref.fd}`));
      } else {
        expect(got, what).toBe(before.get(cfg.ref.fd));
      }
    };
    expectStream(0, m.stdin, 'stdin');
    expectStream(1, m.stdout, 'stdout');
    expectStream(2, m.stderr, 'stderr');
    const refOf = (o: OutCfg): FdRef | null => (o !== null && typeof o === 'object' && 'ref' in o ? o.ref : null);
    if (refOf(m.stdout) !== null && refOf(m.stdout) === refOf(m.stderr)) expect(rep.fds.get(2), 'one FdRef for both: one pipe or fd').toBe(rep.fds.get(1));

    // The parent: as before, minus the CLOSE_PARENT fds, plus the read ends handed out.
    const after = new Map(before);
    for (const [fd, flags] of m.pass) {
      if (flags & PASS_FD_CLOSE_PARENT) {
        after.delete(fd);
        closedByRun.add(fd);
      }
    }
    refs.forEach((r, i) => {
      if (refFdsBefore[i] === -1) after.set(r.fd, fs.readlinkSync(`/proc/self/fd/${r.fd}`));
    });
    expect(openFds(), "the parent's fds after the run").toEqual(new Map([...after].sort((a, b) => a[0] - b[0])));
  } finally {
    // the read ends handed out are ours to close
    refs.forEach((r, i) => {
      if (refFdsBefore[i] === -1 && r.fd !== -1) fs.closeSync(r.fd);
    });
    for (const fd of placed.opened) if (!closedByRun.has(fd) && isOpen(fd)) fs.closeSync(fd);
  }
}

describe('fd plans: refused before any spawn, or exactly the fds asked for', () => {
  it('passFD / setInputFD / setOutputFD / setErrorFD at random numbers, with run(), runSync(), runAsync() (200 runs)', async () => {
    let seq = 0;
    await fc.assert(
      fc.asyncProperty(caseArb, (c) => checkCase(c, ++seq)),
      params(200),
    );
  }, 120000);

  it("a closed fd as stdin, stdout or stderr, at low numbers the addon's own pipes would take, is refused (100 runs)", async () => {
    let seq = 0;
    await fc.assert(
      fc.asyncProperty(closedStdioCaseArb, (c) => checkCase(c, ++seq)),
      params(100),
    );
  }, 120000);
});
