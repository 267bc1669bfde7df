/**
 * fast-check arbitraries and run parameters shared by the property tests.
 *
 * Strings mix full Unicode (any code point, lone surrogates included), ASCII
 * controls, graphemes, the characters a POSIX shell treats specially, the
 * empty string and, for a few runs, huge strings (up to 100 KiB of UTF-8).
 * NUL bytes are put in on purpose by `withNul` only; `text` never has one.
 *
 * Replaying a failure: fast-check prints `{ seed, path }` with the
 * counterexample; run again with VC_FC_SEED=<seed> VC_FC_PATH=<path> to get
 * exactly that case. VC_FC_RUNS=<n> overrides every property's numRuns.
 * Under the quick `npm test` each property runs a quarter of its numRuns (at
 * least 25); under `npm run test:all` all of them (test/helpers/scale.ts).
 */
import fc from 'fast-check';
import { scaled } from '../../helpers/scale';

/** fast-check parameters: `numRuns` (scaled) unless VC_FC_RUNS says otherwise; a replay when VC_FC_SEED is set. */
export function params<T>(numRuns: number): fc.Parameters<T> {
  const runs = process.env.VC_FC_RUNS ? Number(process.env.VC_FC_RUNS) : scaled(numRuns, Math.min(numRuns, Math.max(25, Math.ceil(numRuns / 4))));
  const p: fc.Parameters<T> = { numRuns: runs };
  if (process.env.VC_FC_SEED) {
    p.seed = Number(process.env.VC_FC_SEED);
    if (process.env.VC_FC_PATH) p.path = process.env.VC_FC_PATH;
  }
  return p;
}

/** Characters with a meaning to /bin/sh, or otherwise awkward: quotes, controls, separators, '=', non-ASCII. */
export const AWKWARD_CHARS: readonly string[] = [
  ...'\r\t\n !"#$&\'()*;<>?[\\]^`{|}~=%,-./:@+',
  '\x01',
  '\x1b',
  '\x7f',
  '\x0b',
  '\x0c',
  'é',
  '€',
  '😀',
  'Á',
  '\u0085',
  '\u00a0',
  '\u2028',
  '\ufeff',
  '\u0301',
  // lone surrogates: not representable in UTF-8; Node (Buffer, process.env, child_process)
  // and the addon alike write U+FFFD for them
  '\ud800',
  '\udfff',
];

/** The bytes a string becomes in argv or environ: UTF-8, as Buffer.from() encodes it. */
export function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

const noNul = (s: string): string => s.replace(/\0/g, '');

/** Letters, digits and '_': what a shell expands after '$', '~' or in a name. */
const WORD_CHARS = fc.constantFrom(...'abcxyzABCXYZ019_');

/**
 * A short string without NUL: full Unicode, ASCII controls, graphemes, shell specials alone or
 * among plain word characters (`a$b`, `~`, `c*`: one unquoted special is enough to change a
 * word in sh), or ''.
 */
export const shortText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 24 }).map(noNul),
  fc.string({ unit: fc.oneof({ arbitrary: WORD_CHARS, weight: 4 }, { arbitrary: fc.constantFrom(...AWKWARD_CHARS), weight: 1 }), maxLength: 12 }),
  fc
    .tuple(fc.string({ unit: WORD_CHARS, maxLength: 3 }), fc.constantFrom(...AWKWARD_CHARS), fc.string({ unit: WORD_CHARS, maxLength: 3 }))
    .map(([a, c, b]) => a + c + b),
  fc.constantFrom(...AWKWARD_CHARS),
  fc.constantFrom(...AWKWARD_CHARS),
  fc.string({ unit: 'binary-ascii', maxLength: 24 }).map(noNul),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.string({ unit: fc.constantFrom(...AWKWARD_CHARS), maxLength: 16 }),
  fc.string({ unit: fc.oneof(fc.constantFrom(...AWKWARD_CHARS), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }).map(noNul)), maxLength: 16 }),
  fc.constant(''),
);

/** A huge string without NUL: a random unit repeated up to `maxBytes` bytes of UTF-8 (default 100 KiB). */
export function hugeText(maxBytes = 100 * 1024): fc.Arbitrary<string> {
  return fc
    .tuple(
      fc
        .string({ unit: fc.oneof(fc.constantFrom(...AWKWARD_CHARS), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), minLength: 1, maxLength: 6 })
        .map(noNul),
      // the top of the range a third of the time: the largest sizes are the interesting ones
      fc.oneof(
        { arbitrary: fc.integer({ min: 1024, max: maxBytes }), weight: 2 },
        { arbitrary: fc.integer({ min: maxBytes - 1024, max: maxBytes }), weight: 1 },
      ),
    )
    .map(([unit, bytes]) => {
      const u = unit === '' ? 'x' : unit;
      return u.repeat(Math.max(1, Math.floor(bytes / utf8(u).length)));
    });
}

/** `s` with a NUL put in at some position. */
export function withNul(s: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(s, fc.nat(), fc.constantFrom('\0', '\0\0', 'a\0', '\0=')).map(([t, at, nul]) => {
    const cut = t.length === 0 ? 0 : at % (t.length + 1);
    return t.slice(0, cut) + nul + t.slice(cut);
  });
}

/** Mostly `clean`, sometimes with a NUL (weight 1 in `1 + cleanWeight`). */
export function maybeNul(clean: fc.Arbitrary<string>, cleanWeight = 9): fc.Arbitrary<string> {
  return fc.oneof({ arbitrary: clean, weight: cleanWeight }, { arbitrary: withNul(clean), weight: 1 });
}

/**
 * A list of short strings with at most `maxHuge` huge ones (of `hugeBytes`, default 100 KiB, at
 * most) put in at random places (the helper's report is 1 MiB at most, and the kernel takes
 * 128 KiB per string).
 */
export function textList(opts: { maxLength: number; maxHuge: number; hugeBytes?: number; item?: fc.Arbitrary<string> }): fc.Arbitrary<string[]> {
  const item = opts.item ?? shortText;
  // about one list in five has huge strings
  const none = fc.constant([] as [string, number][]);
  const huge =
    opts.maxHuge <= 0
      ? none
      : fc.oneof(
          { arbitrary: none, weight: 4 },
          { arbitrary: fc.array(fc.tuple(hugeText(opts.hugeBytes), fc.nat()), { minLength: 1, maxLength: opts.maxHuge }), weight: 1 },
        );
  return fc.tuple(fc.array(item, { maxLength: opts.maxLength }), huge).map(([list, huge]) => {
    const out = [...list];
    for (const [h, at] of huge) out.splice(at % (out.length + 1), 0, h);
    return out;
  });
}

/** Names of Object.prototype members: a lookup that forgets hasOwn finds them in process.env. */
export const PROTOTYPE_NAMES: readonly string[] = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

/** The first index of an element with a NUL byte, or -1. */
export function nulAt(list: readonly string[]): number {
  return list.findIndex((s) => s.includes('\0'));
}
