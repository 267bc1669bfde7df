/**
 * setInputBuffer() and setSendBuffer() keep a private copy of the bytes, made at the call: the
 * child reads exactly what was given then, whatever the caller does to its Uint8Array later
 * (change it, transfer its ArrayBuffer away with structuredClone and let the GC free it). Native
 * reads that copy in place during a run, so before the copy a transferred and collected buffer
 * fed the child whatever later reused that memory (a use-after-free in the root parent).
 * Observed from the real child: sha256sum of what it read.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { buildUnderTestEnv, expectChildOk, runNodeChild } from '../helpers/node-child';
import { useInvariants } from '../helpers/invariants';

useInvariants();

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

// 64 MiB with a pattern that changes every page, so bytes from elsewhere show in the hash.
function patterned(size: number): Uint8Array {
  const u8 = new Uint8Array(size);
  for (let i = 0; i < size; i += 512) u8[i] = (i >> 9) & 255;
  return u8;
}

// In a node child with --expose-gc (a crash there must not take the vitest worker with it), on
// the addon build under test (the ASan pass's, there: it reported the use-after-free): run()
// starts the child, which waits a second before reading; meanwhile the caller's ArrayBuffer is
// transferred to a clone that is dropped and collected, and 256 MiB of other bytes are allocated
// where its memory was. The child's hash of what it read is compared with the original's.
const TRANSFER_MID_RUN = `
  const { createHash } = require('crypto');
  const sha = (b) => createHash('sha256').update(b).digest('hex');
  const SIZE = 64 * 2 ** 20;
  let u8 = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i += 512) u8[i] = (i >> 9) & 255;
  const want = sha(u8);
  const cmd = ARGS.send
    ? new vc.Command('sh', '-c', 'sleep 1; exec sha256sum <&3').setSendBuffer(3, u8)
    : new vc.Command('sh', '-c', 'sleep 1; exec sha256sum').setInputBuffer(u8);
  const running = cmd.run();
  await new Promise((r) => setTimeout(r, 200));  // the spawn has happened: native feeds the pipe
  let moved = structuredClone(u8, { transfer: [u8.buffer] });
  const detached = u8.byteLength === 0;
  moved = null;
  u8 = null;
  for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 20)); }
  const other = [];
  for (let i = 0; i < 4; i++) other.push(Buffer.alloc(SIZE, 0x5a));
  const r = await running;
  emit({ want, got: r.stdout.split(' ')[0], detached, others: other.length });
`;

describe("input and send buffers are the command's own copy", () => {
  for (const send of [false, true]) {
    const what = send ? 'setSendBuffer(3, u8)' : 'setInputBuffer(u8)';
    it(`${what}: a 64 MiB ArrayBuffer transferred and collected while run() feeds it: the child reads exactly the original bytes`, () => {
      const r = runNodeChild(TRANSFER_MID_RUN, { args: { send }, env: { ...buildUnderTestEnv(), NODE_OPTIONS: '--expose-gc' }, timeoutMs: 60000 });
      const out = expectChildOk(r) as { want: string; got: string; detached: boolean };
      expect(out.detached).toBe(true); // the transfer really took the caller's memory away
      expect(out.got).toBe(out.want);
    });
  }

  it('runSync() after the Uint8Array was changed and then transferred away: the child reads the bytes given at the call', () => {
    for (const send of [false, true]) {
      const u8 = patterned(4 * 2 ** 20 + 3);
      const want = sha256(u8);
      const cmd = send ? new Command('sh', '-c', 'exec sha256sum <&3').setSendBuffer(3, u8) : new Command('sha256sum').setInputBuffer(u8);
      u8.fill(0x41);
      structuredClone(u8, { transfer: [u8.buffer as ArrayBuffer] });
      expect(u8.byteLength).toBe(0);
      expect(cmd.runSync().stdout.split(' ')[0]).toBe(want);
      // kept for every run, as before
      expect(cmd.runSync().stdout.split(' ')[0]).toBe(want);
    }
  });

  it('a Uint8Array whose ArrayBuffer is already detached is refused at the call, naming method and argument', () => {
    const u8 = new Uint8Array(1024).fill(1);
    structuredClone(u8, { transfer: [u8.buffer] });
    expect(() => new Command('cat').setInputBuffer(u8)).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringMatching(/^Command\.setInputBuffer: argument 'data' .*detached/),
      }),
    );
    expect(() => new Command('cat').setSendBuffer(3, u8)).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_INVALID_ARG_VALUE',
        message: expect.stringMatching(/^Command\.setSendBuffer: argument 'data' .*detached/),
      }),
    );
    // A Uint8Array that is simply empty is not detached: it sends nothing, as before.
    expect(new Command('sha256sum').setInputBuffer(new Uint8Array(0)).runSync().stdout.split(' ')[0]).toBe(sha256(new Uint8Array(0)));
  });

  it('a view on part of a SharedArrayBuffer: the child reads that part as it was at the call', () => {
    const shared = new Uint8Array(new SharedArrayBuffer(1 << 20)).fill(0x33);
    const view = shared.subarray(1000, 1000 + 70000);
    const want = sha256(Uint8Array.from(view));
    const cmd = new Command('sha256sum').setInputBuffer(view);
    shared.fill(0x44); // as another thread could, mid-run
    expect(cmd.runSync().stdout.split(' ')[0]).toBe(want);
  });
});
