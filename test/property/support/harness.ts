/**
 * What the property tests observe with: a count of the addon's spawn calls
 * (the only code that forks), the helper's argv and environ read byte for
 * byte from its report, and checks of thrown argument errors.
 */
import fs from 'node:fs';
import { afterEach, beforeEach, expect } from 'vitest';
import { loadNative, setNativeBinding } from '../../../src/native';
import { childrenOf, splitBytes } from '../../helpers/proc';

/** Options of the test helper (test/fixtures/helper.c) it acts on wherever they appear in argv. */
export const HELPER_OPTIONS: ReadonlySet<string> = new Set([
  '--log',
  '--readfd',
  '--fd',
  '--exit',
  '--signal',
  '--sleep',
  '--flood',
  '--bind-probe',
  '--create',
  '--check-daemonize',
  '--close-stdin',
  '--no-stdio',
  '--block',
  '--write-fdnum',
  '--setuid0-probe',
  '--rawsock-probe',
]);

export interface SpawnCounter {
  /** addon calls that may create a process (runSync, spawn, execInPlace) since the test began */
  readonly count: number;
}

/**
 * Puts a pass-through in front of the real addon for each test of the file, counting
 * the calls that can fork. Nothing else in the product creates a process, so a count
 * that did not move means no fork happened.
 */
export function useSpawnCounter(): SpawnCounter {
  let count = 0;
  beforeEach(() => {
    count = 0;
    const real = loadNative();
    const counted = new Set<PropertyKey>(['runSync', 'spawn', 'execInPlace']);
    setNativeBinding(
      new Proxy(real, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver) as unknown;
          if (!counted.has(prop) || typeof v !== 'function') return v;
          return (...args: unknown[]) => {
            count++;
            return (v as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      }),
    );
  });
  afterEach(() => setNativeBinding(null));
  return {
    get count() {
      return count;
    },
  };
}

/** Undoes the helper's escaping ("\\\\" and "\\n") on raw bytes. */
function unescapeBytes(b: Buffer): Buffer {
  const out = Buffer.alloc(b.length);
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] !== 0x5c) {
      out[n++] = b[i];
      continue;
    }
    const next = b[++i];
    if (next === 0x6e) out[n++] = 0x0a;
    else if (next === 0x5c) out[n++] = 0x5c;
    else throw new Error(`report: bad escape at byte ${i} of ${b.toString('latin1').slice(0, 200)}`);
  }
  return out.subarray(0, n);
}

/** The helper's ARG and ENV lines as bytes (argv[1..] without the leading `--log PATH`, environ sorted by name). */
export interface RawReport {
  args: Buffer[];
  env: Buffer[];
}

/** Reads and deletes a helper log, keeping argv and environ as bytes (report.ts decodes UTF-8, lossily). */
export function readRawReport(log: string): RawReport {
  const raw = fs.readFileSync(log);
  fs.rmSync(log, { force: true });
  const lines = splitBytes(raw, 0x0a);
  if (lines.length === 0 || lines[lines.length - 1].toString('latin1') !== 'END') {
    throw new Error(`helper log ${log} is truncated: ${raw.subarray(-300).toString('latin1')}`);
  }
  const args: Buffer[] = [];
  const env: Buffer[] = [];
  for (const line of lines) {
    const key = line.subarray(0, 4).toString('latin1');
    if (key === 'ARG:') args.push(unescapeBytes(line.subarray(4)));
    else if (key === 'ENV:') env.push(unescapeBytes(line.subarray(4)));
  }
  if (args[0]?.toString('latin1') === '--log') args.splice(0, 2);
  return { args, env };
}

/** Describes the first difference between two lists of byte strings, or returns null when equal. */
export function bytesDiff(got: readonly Buffer[], want: readonly Buffer[]): string | null {
  const show = (b: Buffer | undefined): string => {
    if (b === undefined) return '(none)';
    const hex = b.subarray(0, 48).toString('hex');
    return `${b.length} bytes ${hex}${b.length > 48 ? '...' : ''}`;
  };
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    const g = got[i];
    const w = want[i];
    if (g === undefined || w === undefined || !g.equals(w)) {
      let at = 0;
      if (g && w) while (at < g.length && at < w.length && g[at] === w[at]) at++;
      return `item ${i} of ${want.length} expected (got ${got.length}) differs at byte ${at}: got ${show(g?.subarray(Math.max(0, at - 8)))}, want ${show(w?.subarray(Math.max(0, at - 8)))}`;
    }
  }
  return null;
}

/** Asserts that two lists of byte strings are equal, with a readable message (not 100 KiB of diff). */
export function expectBytes(got: readonly Buffer[], want: readonly Buffer[], what: string): void {
  const d = bytesDiff(got, want);
  if (d !== null) expect.fail(`${what}: ${d}`);
}

/** Byte strings in a fixed order (for environ, which the helper sorts its own way). */
export function sortBytes(list: readonly Buffer[]): Buffer[] {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- Buffer.compare is static: no `this`
  return [...list].sort(Buffer.compare);
}

/** An argument error that a builder call should throw, or null when it should not throw. */
export interface ArgErrorSpec {
  ctor: typeof TypeError | typeof RangeError;
  code: 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' | 'ERR_OUT_OF_RANGE';
  /** the exact message */
  message: string;
}

/**
 * Calls `fn` and asserts it throws exactly `want` (class, code and message), synchronously,
 * or does not throw when `want` is null. Returns whether it threw.
 */
export function expectArgError(fn: () => unknown, want: ArgErrorSpec | null, what: string): boolean {
  let err: unknown = null;
  let threw = false;
  try {
    fn();
  } catch (e) {
    err = e;
    threw = true;
  }
  if (want === null) {
    if (threw) expect.fail(`${what}: threw ${String(err)}, expected no error`);
    return false;
  }
  if (!threw) expect.fail(`${what}: did not throw, expected ${want.ctor.name}: ${want.message}`);
  const e = err as Error & { code?: unknown };
  if (!(e instanceof want.ctor) || e.constructor !== want.ctor) expect.fail(`${what}: threw ${String(err)}, expected a ${want.ctor.name}`);
  expect(e.message, what).toBe(want.message);
  expect(e.code, what).toBe(want.code);
  return true;
}

/** Children of this process (none may be left behind by a case). */
export function ourChildren(): number[] {
  return childrenOf(process.pid).map((c) => c.pid);
}
