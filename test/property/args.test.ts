/**
 * Property tests of the arguments: random argument lists
 * through `new Command()`, Command.newArgs() and addArg / addArgList /
 * addArgSet / addArgPair / addArgFormat('%s'). Every call either throws at
 * once the TypeError/RangeError that names the method and the argument (a
 * NUL byte, an empty program, an empty set), leaving the command as it was,
 * or records the arguments; the helper then reports exactly that argv, byte
 * for byte (UTF-8), and nothing is spawned before the run.
 */
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Command, setDryRun } from '../../src/index';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { useTmpDir } from '../helpers/tmp';
import { hugeText, maybeNul, params, shortText, textList, utf8 } from './support/arbitraries';
import { type ArgErrorSpec, expectArgError, expectBytes, HELPER_OPTIONS, ourChildren, readRawReport, useSpawnCounter } from './support/harness';

useInvariants();
const tmp = useTmpDir('vc-prop-args-');
const spawns = useSpawnCounter();
afterEach(() => setDryRun(null));

// ------------------------------------------------------------------------------ the model

/** How the command is made: argv[0] is the program, then `--log LOG`, then `args`. */
interface Ctor {
  how: 'new' | 'newArgs';
  program: string;
  args: string[];
}

type Op =
  | { m: 'addArg'; value: string }
  | { m: 'addArgList'; args: string[] }
  | { m: 'addArgSet'; args: string[] }
  | { m: 'addArgPair'; name: string; value: string }
  | { m: 'addArgFormat'; value: string };

const nulError = (method: string, what: string): ArgErrorSpec => ({
  ctor: TypeError,
  code: 'ERR_INVALID_ARG_VALUE',
  message: `${method}: ${what} must not contain NUL bytes`,
});
const emptyError = (method: string, what: string, ctor: typeof TypeError | typeof RangeError = TypeError): ArgErrorSpec => ({
  ctor,
  code: 'ERR_INVALID_ARG_VALUE',
  message: `${method}: ${what} must not be empty`,
});

/** The error the constructor must throw, checking argv in order: the program, then each argument. */
function ctorError(c: Ctor, argv: readonly string[]): ArgErrorSpec | null {
  const method = c.how === 'new' ? 'new Command' : 'Command.newArgs';
  for (let i = 0; i < argv.length; i++) {
    const what = c.how === 'newArgs' ? `argv[${i}]` : i === 0 ? "argument 'program'" : `args[${i - 1}]`;
    if (argv[i].includes('\0')) return nulError(method, what);
    if (i === 0 && argv[i] === '') return emptyError(method, what);
  }
  return null;
}

/** The error an op must throw, or the arguments it appends. */
function opOutcome(op: Op): { error: ArgErrorSpec } | { append: string[] } {
  // Every index in order: a hole of a sparse array is undefined, then a NUL byte.
  const firstBad = (list: string[], method: string): { error: ArgErrorSpec } | null => {
    for (let i = 0; i < list.length; i++) {
      if (!(i in list))
        return { error: { ctor: TypeError, code: 'ERR_INVALID_ARG_TYPE', message: `${method}: args[${i}] must be a string (received undefined)` } };
      if (list[i].includes('\0')) return { error: nulError(method, `args[${i}]`) };
    }
    return null;
  };
  switch (op.m) {
    case 'addArg':
      return op.value.includes('\0') ? { error: nulError('Command.addArg', "argument 'value'") } : { append: [op.value] };
    case 'addArgList':
      return firstBad(op.args, 'Command.addArgList') ?? { append: op.args };
    case 'addArgSet':
      if (op.args.length === 0) return { error: emptyError('Command.addArgSet', "argument 'args'", RangeError) };
      return firstBad(op.args, 'Command.addArgSet') ?? { append: op.args };
    case 'addArgPair':
      if (op.name.includes('\0')) return { error: nulError('Command.addArgPair', "argument 'name'") };
      if (op.name === '') return { error: emptyError('Command.addArgPair', "argument 'name'") }; // '=value' is no pair
      if (op.value.includes('\0')) return { error: nulError('Command.addArgPair', "argument 'value'") };
      return { append: [`${op.name}=${op.value}`] };
    case 'addArgFormat':
      return op.value.includes('\0') ? { error: nulError('Command.addArgFormat', 'the formatted argument') } : { append: [op.value] };
  }
}

function apply(cmd: Command, op: Op): void {
  switch (op.m) {
    case 'addArg':
      cmd.addArg(op.value);
      break;
    case 'addArgList':
      cmd.addArgList(...op.args);
      break;
    case 'addArgSet':
      cmd.addArgSet(op.args);
      break;
    case 'addArgPair':
      cmd.addArgPair(op.name, op.value);
      break;
    case 'addArgFormat':
      cmd.addArgFormat('%s', op.value);
      break;
  }
}

/**
 * Builds the command call by call, asserting each call's error (synchronous, exact) and
 * that nothing was spawned. Returns the command and the argv it must run with, or null
 * when the constructor threw.
 */
function build(c: Ctor, ops: readonly Op[], log: string): { cmd: Command; argv: string[] } | null {
  const argv = [c.program, '--log', log, ...c.args];
  const spawned = spawns.count;
  let cmd: Command | null = null;
  const make = (): void => {
    cmd = c.how === 'new' ? new Command(argv[0], ...argv.slice(1)) : Command.newArgs(argv);
  };
  if (expectArgError(make, ctorError(c, argv), `${c.how}(${JSON.stringify(argv).slice(0, 200)})`)) {
    expect(spawns.count - spawned, 'spawns after a refused constructor').toBe(0);
    return null;
  }
  const built = cmd as unknown as Command;
  const want = [...argv];
  for (const op of ops) {
    const outcome = opOutcome(op);
    expectArgError(() => apply(built, op), 'error' in outcome ? outcome.error : null, `${op.m}(${JSON.stringify(op).slice(0, 200)})`);
    if ('append' in outcome) want.push(...outcome.append);
  }
  expect(spawns.count - spawned, 'spawns while building').toBe(0);
  return { cmd: built, argv: want };
}

// ------------------------------------------------------------------------------ arbitraries

/** A word for the helper's argv: any text but the helper's own option names. */
const word = (nulWeight: number): fc.Arbitrary<string> =>
  maybeNul(
    shortText.filter((s) => !HELPER_OPTIONS.has(s)),
    nulWeight,
  );

function ctorArb(nulWeight: number, maxHuge: number): fc.Arbitrary<Ctor> {
  const programArb = fc.oneof(
    { arbitrary: fc.constant(HELPER), weight: 12 },
    { arbitrary: fc.constant(''), weight: 1 },
    { arbitrary: fc.constantFrom(`${HELPER}\0`, `\0${HELPER}`, `${HELPER.slice(0, 5)}\0${HELPER.slice(5)}`), weight: 1 },
  );
  return fc.record({
    how: fc.constantFrom('new' as const, 'newArgs' as const),
    program: programArb,
    args: textList({ maxLength: 5, maxHuge, item: word(nulWeight) }),
  });
}

function opArb(nulWeight: number, maxHuge: number): fc.Arbitrary<Op> {
  const w = word(nulWeight);
  const big = fc.oneof({ arbitrary: w, weight: 20 }, { arbitrary: hugeText(), weight: maxHuge > 0 ? 1 : 0 });
  // now and then a sparse array: its holes are arguments undefined
  const list = fc.oneof(
    { arbitrary: textList({ maxLength: 4, maxHuge: 0, item: w }), weight: 12 },
    { arbitrary: fc.sparseArray(w, { maxLength: 4 }), weight: 1 },
  );
  return fc.oneof(
    fc.record({ m: fc.constant('addArg' as const), value: big }),
    fc.record({ m: fc.constant('addArgList' as const), args: list }),
    fc.record({ m: fc.constant('addArgSet' as const), args: list }),
    fc.record({ m: fc.constant('addArgPair' as const), name: maybeNul(shortText, nulWeight), value: maybeNul(shortText, nulWeight) }),
    fc.record({ m: fc.constant('addArgFormat' as const), value: w }),
  );
}

// ------------------------------------------------------------------------------ properties

describe('arguments: refused at once, or passed byte for byte', () => {
  it('dry runs: each call throws its exact error or appends exactly its arguments; nothing spawns (400 runs)', () => {
    fc.assert(
      fc.property(ctorArb(2, 0), fc.array(opArb(2, 0), { maxLength: 8 }), (c, ops) => {
        const calls: string[][] = [];
        setDryRun({ callback: ({ argv }) => void calls.push(argv) });
        try {
          const b = build(c, ops, '/nonexistent/log');
          if (b === null) return;
          const spawned = spawns.count;
          b.cmd.runSync();
          expect(calls).toEqual([b.argv]);
          expect(spawns.count - spawned, 'spawns in a dry run').toBe(0);
        } finally {
          setDryRun(null);
        }
      }),
      params(400),
    );
  });

  it('the helper reports exactly the argv asked for, as UTF-8 bytes, under run() and runSync() (150 runs)', async () => {
    let seq = 0;
    await fc.assert(
      fc.asyncProperty(ctorArb(8, 1), fc.array(opArb(8, 1), { maxLength: 6 }), fc.constantFrom('runSync' as const, 'run' as const), async (c, ops, mode) => {
        const log = path.join(tmp.path, `args-${++seq}.log`);
        const before = spawns.count;
        const b = build(c, ops, log);
        if (b === null) {
          expect(ourChildren()).toEqual([]);
          return;
        }
        const r = mode === 'runSync' ? b.cmd.runSync() : await b.cmd.run();
        expect(r.status).toBe(0);
        expect(spawns.count - before, 'spawns for one run').toBe(1);
        const got = readRawReport(log);
        expectBytes(got.args, b.argv.slice(3).map(utf8), `argv of ${mode}`);
      }),
      params(150),
    );
  });
});
