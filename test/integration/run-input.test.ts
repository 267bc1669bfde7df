/**
 * run({ input }) (execa's `input`): a string, bytes or a Readable as the child's stdin for one run;
 * with run()'s capture, one call feeds a stream in and returns the output.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Command, CommandError } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { isAlive, waitFor } from '../helpers/proc';

useInvariants();

const MiB = 2 ** 20;

/** `total` bytes in 256 KiB chunks, each different, hashed as they are produced. */
function source(total: number, hash: crypto.Hash): Readable {
  let off = 0;
  let k = 0;
  return new Readable({
    read() {
      if (off >= total) return void this.push(null);
      const c = crypto.randomBytes(Math.min(256 * 1024, total - off));
      c.writeUInt32LE(k++, 0);
      off += c.length;
      hash.update(c);
      this.push(c);
    },
  });
}

describe('run({ input })', () => {
  it("a string is the child's stdin (run and runSync)", async () => {
    expect((await new Command('cat').run({ input: 'hello\nworld\n' })).stdout).toBe('hello\nworld\n');
    expect(new Command('cat').runSync({ input: 'sync\n' }).stdout).toBe('sync\n');
  });

  it('a Buffer or Uint8Array goes in byte for byte, NUL bytes included', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0, 0x0a, 0xfe]);
    expect((await new Command('cat').run({ input: bytes, encoding: 'buffer' })).stdout).toEqual(bytes);
    expect((await new Command('cat').run({ input: new Uint8Array(bytes), encoding: 'buffer' })).stdout).toEqual(bytes);
    expect(new Command('cat').runSync({ input: bytes, encoding: 'buffer' }).stdout).toEqual(bytes);
  });

  it('a Readable of 64 MiB is piped in; the output captured in the same call is equal (sha256)', async () => {
    const inHash = crypto.createHash('sha256');
    const r = await new Command('cat').run({ input: source(64 * MiB, inHash), encoding: 'buffer' });
    expect(r.stdout.length).toBe(64 * MiB);
    expect(crypto.createHash('sha256').update(r.stdout).digest('hex')).toBe(inHash.digest('hex'));
  });

  it("a Readable that errors: the child is terminated and reaped, the run rejects with the stream's error", async () => {
    const boom = new Error('source broke');
    let sent = 0;
    const src = new Readable({
      read() {
        if (sent++ < 4) this.push(Buffer.alloc(64 * 1024, 0x61));
        else setTimeout(() => this.destroy(boom), 50);
      },
    });
    const cmd = new Command('cat');
    const running = cmd.run({ input: src });
    const pid = cmd.pid as number; // a run with a stream input spawns at once
    expect(pid).toBeGreaterThan(0);
    const err = await running.catch((e: unknown) => e);
    expect(err).toBe(boom);
    expect(isAlive(pid)).toBe(false);
    // the invariants check (afterEach) finds no child and no fd left
  });

  it('a child that reads only part of a Readable (head): the run succeeds, the rest is not read', async () => {
    const endless = new Readable({
      read() {
        this.push(Buffer.alloc(64 * 1024, 0x62));
      },
    });
    const r = await new Command('head', '-c', '10').run({ input: endless });
    expect(r.stdout).toBe('b'.repeat(10));
    // The run ends with the child; the source is destroyed when the pipeline sees its sink
    // closed, which a loaded machine may do a few ticks after the run settled.
    expect(await waitFor(() => endless.destroyed, 5000)).toBe(true);
  });

  it('a child that exits without reading an endless Readable: the run ends, no hang', async () => {
    const endless = new Readable({
      read() {
        this.push(Buffer.alloc(64 * 1024));
      },
    });
    const r = await new Command('true').run({ input: endless });
    expect(r.status).toBe(0);
  });

  it('runRegex() and runNul() take an input too', async () => {
    const got: string[] = [];
    await new Command('cat').runRegex([/^(\w+)=(\d+)$/], (g) => got.push(g.join(':')), { input: 'a=1\nb=x\nc=3\n' });
    expect(got).toEqual(['a:1', 'c:3']);
    const fields: string[] = [];
    await new Command('cat').runNul(1, ([f]) => fields.push(f), { input: Readable.from([Buffer.from('x\0y\0')]) });
    expect(fields).toEqual(['x', 'y']);
  });

  it('misuse: with setInputBuffer() or setInputFD(), a stream to runSync(), a wrong type', async () => {
    const twice = await new Command('cat')
      .setInputBuffer('x')
      .run({ input: 'y' })
      .catch((e: unknown) => e);
    expect(twice).toBeInstanceOf(CommandError);
    expect((twice as CommandError).code).toBe('ERR_COMMAND_USAGE');
    expect((twice as CommandError).message).toMatch(/cannot specify input twice \(options\.input and setInputBuffer\/setInputFD\)/);
    const fd = fs.openSync('/dev/null', 'r');
    try {
      expect(() => new Command('cat').setInputFD(fd).runSync({ input: 'y' })).toThrow(/cannot specify input twice/);
    } finally {
      fs.closeSync(fd);
    }
    expect(() => new Command('cat').runSync({ input: Readable.from(['x']) as never })).toThrow(TypeError);
    expect(() => new Command('cat').runSync({ input: Readable.from(['x']) as never })).toThrow(/Command\.runSync: argument 'options\.input'/);
    await expect(new Command('cat').run({ input: 42 as never })).rejects.toThrow(/Command\.run: argument 'options\.input'/);
    const daemon = await new Command('true')
      .daemonize()
      .run({ input: 'x' })
      .catch((e: unknown) => e);
    expect((daemon as CommandError).message).toMatch(/cannot mix string I\/O with daemon/);
  });

  it('the input is for one run: the next run of the command has none', async () => {
    const cmd = new Command('cat');
    expect((await cmd.run({ input: 'once' })).stdout).toBe('once');
    expect((await cmd.run()).stdout).toBe('');
  });
});
