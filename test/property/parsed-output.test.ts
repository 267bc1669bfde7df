/**
 * Property tests of runRegex()/runNul() splitting: random output (newlines, \r, NUL, multi-byte
 * and invalid UTF-8, runs long enough to cross the pipe's chunks at any byte) written by `cat`
 * must come back record for record as libvirt splits it: runRegex's lines as g_strsplit at '\n'
 * (each line decoded on its own), runNul's fields as getdelim at NUL, in Buffers byte for byte.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { params } from './support/arbitraries';

useInvariants();

// Pieces the output is built from: single bytes that split UTF-8 sequences, whole characters,
// delimiters, and long runs (so records and sequences straddle 64 KiB chunks).
const piece = fc.oneof(
  fc.constantFrom('\n', '\r\n', '\0', 'a', 'é', '€', '😀', '\u2028').map((s) => Buffer.from(s)),
  fc.constantFrom(0xc3, 0xe2, 0x82, 0xf0, 0x9f, 0xff, 0x80).map((b) => Buffer.from([b])),
  fc.tuple(fc.constantFrom('x', 'é', '😀\n', 'ab\0'), fc.integer({ min: 1, max: 40_000 })).map(([s, n]) => Buffer.from(s.repeat(n))),
);
const output = fc.array(piece, { maxLength: 30 }).map((parts) => Buffer.concat(parts));

// libvirt's splits, the reference.
function gStrsplit(data: Buffer): string[] {
  if (data.length === 0) return [];
  const out: string[] = [];
  let start = 0;
  for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, start)) {
    out.push(data.subarray(start, i).toString('utf8'));
    start = i + 1;
  }
  out.push(data.subarray(start).toString('utf8'));
  return out;
}

function getdelim(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = data.indexOf(0); i !== -1; i = data.indexOf(0, start)) {
    out.push(data.subarray(start, i));
    start = i + 1;
  }
  if (start < data.length) out.push(data.subarray(start));
  return out;
}

describe('runRegex/runNul split random output as libvirt does, whatever the chunking', () => {
  it('runRegex: every line, whole (a RegExp taking all of it), in order', async () => {
    await fc.assert(
      fc.asyncProperty(output, async (data) => {
        const lines: string[] = [];
        await new Command('cat').setInputBuffer(data).runRegex([/^([^]*)$/], ([line], i) => {
          expect(i).toBe(lines.length);
          lines.push(line);
        });
        // `[^]*` is greedy: the group is the whole line, a final \r included.
        expect(lines).toEqual(gStrsplit(data));
      }),
      params(20),
    );
  }, 120_000);

  it('runNul: every field, as Buffers byte for byte and as strings', async () => {
    await fc.assert(
      fc.asyncProperty(output, async (data) => {
        const bufs: Buffer[] = [];
        await new Command('cat').setInputBuffer(data).runNul(
          1,
          ([f]) => {
            bufs.push(f);
          },
          { encoding: 'buffer' },
        );
        expect(bufs).toEqual(getdelim(data));
        const strs: string[] = [];
        await new Command('cat').setInputBuffer(data).runNul(2, (f) => {
          strs.push(...f);
        });
        expect(strs).toEqual(getdelim(data).map((b) => b.toString('utf8')));
      }),
      params(20),
    );
  }, 120_000);
});
