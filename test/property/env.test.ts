/**
 * Property tests of the environment: random sequences of
 * addEnvPair / addEnvString / addEnvPass / addEnvPassCommon / addEnvXDG with
 * names holding '=', NUL, nothing at all, Object.prototype keys, names that
 * collide, and values that are empty, huge or hold NUL. Each call either
 * throws at once the TypeError naming the method and the argument, changing
 * nothing, or records the entry. The rules checked (docs/running.md and docs/coming-from-child-process.md, src/env.ts,
 * libvirt's guide): no env call leaves the parent's environment to the
 * child; any successful one makes it clean, holding only what was added; a
 * later value for a name replaces the earlier one in place (the order is
 * that of first setting); addEnvPass adds the parent's value when the
 * parent has the variable, and nothing otherwise. The child's environ must
 * be exactly that, byte for byte.
 */
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Command, setDryRun } from '../../src/index';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { useTmpDir } from '../helpers/tmp';
import { hugeText, maybeNul, params, PROTOTYPE_NAMES, shortText, utf8 } from './support/arbitraries';
import { type ArgErrorSpec, expectArgError, expectBytes, ourChildren, readRawReport, sortBytes, useSpawnCounter } from './support/harness';

useInvariants();
const tmp = useTmpDir('vc-prop-env-');
const spawns = useSpawnCounter();
afterEach(() => setDryRun(null));

/** addEnvPassCommon's variables after LC_ALL=C, in order (libvirt's guide). */
const PASS_COMMON = ['LD_PRELOAD', 'LD_LIBRARY_PATH', 'PATH', 'HOME', 'USER', 'LOGNAME', 'TMPDIR'];

// ------------------------------------------------------------------------------ the model

type Op =
  | { m: 'addEnvPair'; name: string; value: string }
  | { m: 'addEnvString'; entry: string }
  /** `parent`: the parent's value during the call (set in process.env, then restored), or null for unset */
  | { m: 'addEnvPass'; name: string; parent: string | null }
  | { m: 'addEnvPassCommon' }
  | { m: 'addEnvXDG'; baseDir: string };

const valueError = (method: string, what: string, reason: string): ArgErrorSpec => ({
  ctor: TypeError,
  code: 'ERR_INVALID_ARG_VALUE',
  message: `${method}: ${what} ${reason}`,
});

/** checkEnvName's verdict: NUL, then empty, then '='. */
function nameError(method: string, name: string): ArgErrorSpec | null {
  if (name.includes('\0')) return valueError(method, "argument 'name'", 'must not contain NUL bytes');
  if (name === '') return valueError(method, "argument 'name'", 'must not be empty');
  if (name.includes('=')) return valueError(method, "argument 'name'", "must not contain '='");
  return null;
}

/** A name process.env can hold (setenv refuses '=' and cannot carry NUL). */
const settable = (name: string): boolean => nameError('', name) === null;

/** The environment a sequence of calls must give: ordered NAME -> value, or inherited. */
class EnvModel {
  clean = false;
  readonly entries: [string, string][] = [];

  set(name: string, value: string): void {
    const at = this.entries.findIndex(([n]) => n === name);
    if (at >= 0) this.entries[at] = [name, value];
    else this.entries.push([name, value]);
  }

  /** Applies `op` to the model; returns the error the builder must throw instead, if any. */
  apply(op: Op): ArgErrorSpec | null {
    switch (op.m) {
      case 'addEnvPair': {
        const e =
          nameError('Command.addEnvPair', op.name) ??
          (op.value.includes('\0') ? valueError('Command.addEnvPair', "argument 'value'", 'must not contain NUL bytes') : null);
        if (e) return e;
        this.clean = true;
        this.set(op.name, op.value);
        return null;
      }
      case 'addEnvString': {
        if (op.entry.includes('\0')) return valueError('Command.addEnvString', "argument 'entry'", 'must not contain NUL bytes');
        const eq = op.entry.indexOf('=');
        if (eq < 1) return valueError('Command.addEnvString', "argument 'entry'", 'must have the form NAME=value with a non-empty NAME');
        this.clean = true;
        this.set(op.entry.slice(0, eq), op.entry.slice(eq + 1));
        return null;
      }
      case 'addEnvPass': {
        const e = nameError('Command.addEnvPass', op.name);
        if (e) return e;
        this.clean = true;
        if (op.parent !== null) this.set(op.name, process.env[op.name] as string); // as the parent holds it (UTF-8 round trip)
        return null;
      }
      case 'addEnvPassCommon':
        this.clean = true;
        this.set('LC_ALL', 'C');
        for (const n of PASS_COMMON) if (Object.hasOwn(process.env, n)) this.set(n, process.env[n] as string);
        return null;
      case 'addEnvXDG':
        if (op.baseDir.includes('\0')) return valueError('Command.addEnvXDG', "argument 'baseDir'", 'must not contain NUL bytes');
        if (op.baseDir === '') return valueError('Command.addEnvXDG', "argument 'baseDir'", 'must not be empty');
        this.clean = true;
        this.set('XDG_DATA_HOME', `${op.baseDir}/.local/share`);
        this.set('XDG_CACHE_HOME', `${op.baseDir}/.cache`);
        this.set('XDG_CONFIG_HOME', `${op.baseDir}/.config`);
        return null;
    }
  }

  /** NAME=value strings in order, or null when the child inherits. */
  strings(): string[] | null {
    return this.clean ? this.entries.map(([n, v]) => `${n}=${v}`) : null;
  }
}

/** Runs `fn` with process.env[name] set to `value` (or unset for null), then restores it. */
function withParentVar<T>(name: string, value: string | null, fn: () => T): T {
  if (!settable(name)) return fn();
  const had = Object.hasOwn(process.env, name);
  const old = process.env[name];
  if (value === null) delete process.env[name];
  else process.env[name] = value;
  try {
    return fn();
  } finally {
    if (had) process.env[name] = old;
    else delete process.env[name];
  }
}

/**
 * Makes the call on `cmd`, asserting its error (synchronous, exact; an error depends on the
 * arguments only, so a fresh model tells it), and on success applies it to `model` too,
 * while the parent's variable is still as the builder saw it.
 */
function call(cmd: Command, op: Op, model: EnvModel): void {
  const act = (): void => {
    const want = new EnvModel().apply(op);
    const invoke = (): void => {
      switch (op.m) {
        case 'addEnvPair':
          cmd.addEnvPair(op.name, op.value);
          break;
        case 'addEnvString':
          cmd.addEnvString(op.entry);
          break;
        case 'addEnvPass':
          cmd.addEnvPass(op.name);
          break;
        case 'addEnvPassCommon':
          cmd.addEnvPassCommon();
          break;
        case 'addEnvXDG':
          cmd.addEnvXDG(op.baseDir);
          break;
      }
    };
    if (!expectArgError(invoke, want, `${op.m}(${JSON.stringify(op).slice(0, 200)})`)) model.apply(op);
  };
  if (op.m === 'addEnvPass') withParentVar(op.name, op.parent, act);
  else act();
}

// ------------------------------------------------------------------------------ arbitraries

/** Names: anything, a few that collide, Object.prototype keys, real variables, '=' inside, empty; sometimes a NUL. */
const envName: fc.Arbitrary<string> = maybeNul(
  fc.oneof(
    { arbitrary: shortText, weight: 6 },
    { arbitrary: fc.constantFrom('A', 'B', 'AB', 'A_B', 'a', 'Ä', 'LC_ALL', 'XDG_CACHE_HOME'), weight: 4 },
    { arbitrary: fc.constantFrom(...PROTOTYPE_NAMES), weight: 2 },
    { arbitrary: fc.constantFrom('PATH', 'HOME', 'TMPDIR', 'USER'), weight: 1 },
    { arbitrary: fc.tuple(shortText, shortText).map(([a, b]) => `${a}=${b}`), weight: 2 },
    { arbitrary: fc.constant(''), weight: 1 },
  ),
  12,
);

function opArb(withHuge: boolean): fc.Arbitrary<Op> {
  const plain = fc.oneof({ arbitrary: shortText, weight: 20 }, { arbitrary: hugeText(), weight: withHuge ? 1 : 0 });
  const value = maybeNul(plain, 12);
  return fc.oneof(
    { arbitrary: fc.record({ m: fc.constant('addEnvPair' as const), name: envName, value }), weight: 6 },
    {
      arbitrary: fc
        .oneof(
          fc.tuple(envName, value).map(([n, v]) => `${n}=${v}`),
          maybeNul(shortText, 12), // often without '=' or starting with it
        )
        .map((entry) => ({ m: 'addEnvString' as const, entry })),
      weight: 3,
    },
    { arbitrary: fc.record({ m: fc.constant('addEnvPass' as const), name: envName, parent: fc.option(plain, { freq: 2 }) }), weight: 3 },
    { arbitrary: fc.constant({ m: 'addEnvPassCommon' as const }), weight: 1 },
    { arbitrary: fc.record({ m: fc.constant('addEnvXDG' as const), baseDir: maybeNul(shortText, 12) }), weight: 1 },
  );
}

/** The parent's environment as NAME=value strings (what the child inherits). */
function parentEnv(): string[] {
  return Object.entries(process.env).map(([n, v]) => `${n}=${v}`);
}

// ------------------------------------------------------------------------------ properties

describe('environment: refused at once, or exactly what was asked', () => {
  it('dry runs: exact errors, entries in first-set order with later values in place; nothing spawns (400 runs)', () => {
    fc.assert(
      fc.property(fc.array(opArb(false), { maxLength: 10 }), (ops) => {
        const calls: (string[] | null)[] = [];
        setDryRun({ callback: ({ env }) => void calls.push(env) });
        try {
          const spawned = spawns.count;
          const cmd = new Command('/bin/true');
          const model = new EnvModel();
          for (const op of ops) call(cmd, op, model);
          cmd.runSync();
          expect(calls).toEqual([model.strings()]);
          expect(spawns.count - spawned, 'spawns in a dry run').toBe(0);
        } finally {
          setDryRun(null);
        }
      }),
      params(400),
    );
  });

  it('the helper reports exactly the environ asked for, as UTF-8 bytes, under run() and runSync() (150 runs)', async () => {
    let seq = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb(true), { maxLength: 8 }), fc.constantFrom('runSync' as const, 'run' as const), async (ops, mode) => {
        const log = path.join(tmp.path, `env-${++seq}.log`);
        const spawned = spawns.count;
        const cmd = new Command(HELPER, '--log', log);
        const model = new EnvModel();
        for (const op of ops) call(cmd, op, model);
        expect(spawns.count - spawned, 'spawns while building').toBe(0);
        const want = model.strings() ?? parentEnv();
        // the helper's report holds 1 MiB (escaped: up to twice the bytes); several huge values rarely meet
        fc.pre(want.reduce((n, e) => n + 2 * utf8(e).length, 0) < 900 * 1024);
        const r = mode === 'runSync' ? cmd.runSync() : await cmd.run();
        expect(r.status).toBe(0);
        expect(spawns.count - spawned, 'spawns for one run').toBe(1);
        expect(ourChildren()).toEqual([]);
        expectBytes(sortBytes(readRawReport(log).env), sortBytes(want.map(utf8)), `environ of ${mode}${model.clean ? '' : ' (inherited)'}`);
      }),
      params(150),
    );
  });
});
