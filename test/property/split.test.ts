/**
 * The text splitter runRegex() and lines() share (src/run/split.ts): taking a chunk's records
 * one at a time (next(), runRegex) or all at once (all(), lines()) gives the same records, for
 * any bytes cut into chunks anywhere (UTF-8 sequences split across chunks included), and the
 * same as splitting the whole decoded text at once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type KeepLast, TextSplitter } from '../../src/run/split';
import { params } from './support/arbitraries';

const bytes = fc
  .array(
    fc.oneof(
      fc.constantFrom('\n', '\r\n', 'a', 'é', '😀', '\n\n').map((s) => Buffer.from(s)),
      fc.constantFrom(0xc3, 0xf0, 0x9f, 0xff).map((b) => Buffer.from([b])),
    ),
    { maxLength: 60 },
  )
  .map((parts) => Buffer.concat(parts));

// The bytes cut at the given offsets.
function chunks(data: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let start = 0;
  for (const c of [...at, data.length]) {
    out.push(data.subarray(start, c));
    start = c;
  }
  return out;
}

// The records of `parts`, each chunk's taken by `take`: one at a time (next()) or all at once.
function splitWith(parts: Buffer[], keepLast: KeepLast, take: (s: TextSplitter) => string[]): string[] {
  const s = new TextSplitter('\n', keepLast);
  const out: string[] = [];
  for (const p of parts) {
    s.push(p);
    out.push(...take(s));
  }
  s.end();
  out.push(...take(s));
  return out;
}

function oneByOne(s: TextSplitter): string[] {
  const out: string[] = [];
  for (let r = s.next(); r !== undefined; r = s.next()) out.push(r);
  return out;
}

function reference(data: Buffer, keepLast: KeepLast): string[] {
  if (data.length === 0) return [];
  const recs = data.toString('utf8').split('\n');
  if (keepLast === 'nonEmpty' && recs[recs.length - 1] === '') recs.pop();
  return recs;
}

describe('TextSplitter', () => {
  for (const keepLast of ['always', 'nonEmpty'] as const) {
    it(`next() and all() give the same records as one split of the whole text (keepLast '${keepLast}')`, () => {
      fc.assert(
        fc.property(bytes, fc.array(fc.nat(), { maxLength: 8 }), (data, cuts) => {
          const parts = chunks(data, cuts);
          const want = reference(data, keepLast);
          expect(splitWith(parts, keepLast, oneByOne)).toEqual(want);
          expect(splitWith(parts, keepLast, (sp) => sp.all())).toEqual(want);
        }),
        params(400),
      );
    });
  }
});
