/**
 * Streams (issue 12 item 2): runAsync({ stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' }) gives
 * cmd.stdin (Writable) and cmd.stdout / cmd.stderr (Readable) over the parent's pipe ends;
 * cmd.lines(); backpressure; early close; EPIPE; abort()/free() while streaming.
 *
 * Size knob (test/helpers/scale.ts): VC_TEST_SCALE=full streams 1 GiB through cat; a quick run
 * 64 MiB (a shared 2-core machine). Nothing here is timed: backpressure is checked by what the child managed to write
 * (/proc/<pid>/io wchar) against what we read, and our RSS.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { Command, CommandError } from '../../src/index';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { procStat, sleep, waitFor } from '../helpers/proc';
import { scaled } from '../helpers/scale';

useInvariants();

const MiB = 2 ** 20;
/** The 1 GiB under VC_TEST_SCALE=full (npm run test:all); 64 MiB in a quick run. */
const CAT_BYTES = scaled(1024 * MiB, 64 * MiB);

const CHUNK = 256 * 1024;

/** `total` bytes in 256 KiB chunks, each chunk different (its index in its first bytes). */
function* source(total: number): Generator<Buffer> {
  const base = crypto.createHash('sha512').update('vircommand').digest();
  const chunk = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK; i += base.length) base.copy(chunk, i);
  for (let off = 0, k = 0; off < total; off += CHUNK, k++) {
    const c = Buffer.from(chunk.subarray(0, Math.min(CHUNK, total - off)));
    c.writeUInt32LE(k, 0);
    yield c;
  }
}

function wchar(pid: number): number {
  const m = /^wchar:\s*(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'));
  return m ? Number(m[1]) : -1;
}

function rss(): number {
  return process.memoryUsage.rss();
}

describe('runAsync with pipe streams', () => {
  it(`streams ${CAT_BYTES / MiB} MiB through cat: stdin Writable -> cat -> stdout Readable, bytes and sha256 equal, RSS bounded`, async () => {
    const cmd = new Command('cat');
    cmd.runAsync({ stdin: 'pipe', stdout: 'pipe' });
    expect(cmd.stdin).not.toBeNull();
    expect(cmd.stdout).not.toBeNull();
    expect(cmd.stderr).toBeNull();
    const rss0 = rss();
    let peak = rss0;
    const inHash = crypto.createHash('sha256');
    const outHash = crypto.createHash('sha256');
    let outBytes = 0;
    let buffered = 0;
    const feeding = pipeline(
      Readable.from(
        (function* () {
          for (const c of source(CAT_BYTES)) {
            inHash.update(c);
            yield c;
          }
        })(),
      ),
      cmd.stdin!,
    );
    for await (const chunk of cmd.stdout!) {
      outHash.update(chunk as Buffer);
      outBytes += (chunk as Buffer).length;
      if ((outBytes & (4 * MiB - 1)) < (chunk as Buffer).length) peak = Math.max(peak, rss());
      buffered = Math.max(buffered, cmd.stdout!.readableLength + cmd.stdin!.writableLength);
    }
    await feeding;
    const r = await cmd.wait();
    expect(r.status).toBe(0);
    expect(outBytes).toBe(CAT_BYTES);
    expect(outHash.digest('hex')).toBe(inHash.digest('hex'));
    // Backpressure both ways: what the streams hold at any time stays at a few chunks.
    expect(buffered, `the streams held up to ${buffered} bytes`).toBeLessThan(2 * MiB);
    // RSS: garbage not yet collected makes it grow some tens of MiB whatever the size (34 MiB
    // for 64 MiB, 50 for 1 GiB, measured); only the 1 GiB run can tell that from buffering.
    console.log(`[streams] ${CAT_BYTES / MiB} MiB through cat: RSS grew by ${((peak - rss0) / MiB).toFixed(1)} MiB, streams held <= ${buffered} bytes`);
    if (CAT_BYTES >= 1024 * MiB) expect(peak - rss0, `RSS grew by ${((peak - rss0) / MiB).toFixed(1)} MiB`).toBeLessThan(128 * MiB);
  }, 600_000);

  it('a slow reader: the child blocks in write() instead of our memory growing', async () => {
    // 256 MiB of zeros; we read 4 MiB of it, slowly.
    const cmd = new Command('head', '-c', String(256 * MiB), '/dev/zero');
    const pid = cmd.runAsync({ stdout: 'pipe' });
    const rss0 = rss();
    let read = 0;
    let written = -1;
    for await (const chunk of cmd.stdout!) {
      read += (chunk as Buffer).length;
      await sleep(2);
      if (read >= 4 * MiB) {
        // Read while the child lives (blocked in write()): once the break has closed the pipe it
        // dies of SIGPIPE, and a dead process's /proc/PID/io is readable only with
        // CAP_SYS_PTRACE (EACCES as a non-root user).
        written = wchar(pid);
        break; // destroys the stream
      }
    }
    // The child could only be ahead of us by what the pipe and the socket hold.
    expect(written, `child wrote ${written} bytes, we read ${read}`).toBeLessThan(read + 4 * MiB);
    expect(rss() - rss0).toBeLessThan(32 * MiB);
    const err = await cmd.wait().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).signal).toBe('SIGPIPE');
  });

  it("the slow reader's child sleeps in pipe_write while we do not read (state S, wchar flat)", async () => {
    const cmd = new Command('head', '-c', String(64 * MiB), '/dev/zero');
    const pid = cmd.runAsync({ stdout: 'pipe' });
    cmd.stdout!.pause();
    // Node stops reading once its buffer is full; then the pipe fills.
    let last = -1;
    expect(
      await waitFor(
        () => {
          const w = wchar(pid);
          const same = w === last;
          last = w;
          return same && procStat(pid)?.state === 'S';
        },
        5000,
        50,
      ),
    ).toBe(true);
    expect(last).toBeLessThan(4 * MiB);
    let n = 0;
    cmd.stdout!.on('data', (c: Buffer) => (n += c.length));
    cmd.stdout!.resume();
    expect((await cmd.wait()).status).toBe(0);
    await waitFor(() => cmd.stdout!.readableEnded, 5000);
    expect(n).toBe(64 * MiB);
  });

  it('early close: the reader destroys stdout after N bytes; the child dies of SIGPIPE, wait() reports it', async () => {
    const cmd = new Command('/bin/sh', '-c', 'while :; do echo line; done');
    cmd.runAsync({ stdout: 'pipe' });
    let got = 0;
    await new Promise<void>((resolve) => {
      cmd.stdout!.on('data', (c: Buffer) => {
        got += c.length;
        if (got >= 100_000) {
          cmd.stdout!.destroy();
          resolve();
        }
      });
    });
    const err = (await cmd.wait().catch((e: unknown) => e)) as CommandError;
    expect(err).toBeInstanceOf(CommandError);
    expect(err.signal).toBe('SIGPIPE');
    expect(err.message).toMatch(/signal 13|SIGPIPE/);
  });

  it('early close with SIGPIPE ignored by the child: it sees EPIPE and exits with its own status', async () => {
    const cmd = new Command('/bin/sh', '-c', 'trap "" PIPE; exec yes');
    cmd.runAsync({ stdout: 'pipe' });
    for await (const _ of cmd.stdout!) break;
    const r = await cmd.wait({ status: true });
    expect(r.signal).toBeNull();
    expect(r.status).not.toBe(0); // yes: "standard output: Broken pipe", exit 1
  });

  it('writing to stdin after the child exited fails the stream with EPIPE, not the process', async () => {
    const cmd = new Command('/bin/true');
    cmd.runAsync({ stdin: 'pipe' });
    await cmd.wait();
    const errs: string[] = [];
    const cbErr = await new Promise<Error | null | undefined>((resolve) => cmd.stdin!.write(Buffer.alloc(MiB), resolve));
    cmd.stdin!.on('error', (e: NodeJS.ErrnoException) => errs.push(e.code ?? ''));
    expect((cbErr as NodeJS.ErrnoException | null)?.code).toBe('EPIPE');
    await sleep(20);
    expect(cmd.stdin!.destroyed).toBe(true);
  });

  it('wait() does not consume the streams: stdout is still there to read after the status', async () => {
    const cmd = new Command('/bin/sh', '-c', 'printf "one\\ntwo\\n"; echo err >&2; exit 3');
    cmd.runAsync({ stdout: 'pipe', stderr: 'pipe' });
    const r = await cmd.wait({ status: true });
    expect(r.status).toBe(3);
    expect(r.stdout).toBe(''); // not captured: the stream had it
    expect(r.stderr).toBe('');
    const out: string[] = [];
    for await (const l of cmd.lines()) out.push(l);
    const err: string[] = [];
    for await (const l of cmd.lines({ stream: 'stderr' })) err.push(l);
    expect(out).toEqual(['one', 'two']);
    expect(err).toEqual(['err']);
  });

  it("lines(): a last line without a newline is included; { stream: 'all' } has both streams' lines", async () => {
    const a = new Command('printf', 'a\\n\\nb\\nlast');
    a.runAsync({ stdout: 'pipe' });
    const got: string[] = [];
    for await (const l of a.lines()) got.push(l);
    expect(got).toEqual(['a', '', 'b', 'last']);
    await a.wait();

    const b = new Command('/bin/sh', '-c', 'echo o1; echo e1 >&2; echo o2; echo e2 >&2');
    b.runAsync({ stdout: 'pipe', stderr: 'pipe' });
    const all: string[] = [];
    for await (const l of b.lines({ stream: 'all' })) all.push(l);
    expect([...all].sort()).toEqual(['e1', 'e2', 'o1', 'o2']);
    await b.wait();

    const c = new Command('/bin/sh', '-c', 'echo o1; echo e1 >&2; echo o2');
    c.runAsync({ stdout: 'pipe', stderr: 'stdout' });
    expect(c.stderr).toBeNull();
    const merged: string[] = [];
    for await (const l of c.lines()) merged.push(l);
    expect(merged).toEqual(['o1', 'e1', 'o2']); // one pipe: in the order written
    await c.wait();
  });

  it("the child's ends are blocking, ours are not (helper reports its fd flags)", async () => {
    const cmd = new Command(HELPER, '--log', '-', '--no-stdio');
    cmd.runAsync({ stdin: 'pipe', stdout: 'pipe' });
    const text: string[] = [];
    for await (const l of cmd.lines()) text.push(l);
    await cmd.wait();
    cmd.stdin!.destroy();
    const flags = new Map(
      text
        .filter((l) => l.startsWith('FDFLAGS:'))
        .map((l) => {
          const [fd, fl] = l.slice(8).split(' ');
          return [Number(fd), parseInt(fl, 8)] as const;
        }),
    );
    expect((flags.get(0) as number) & 0o4000).toBe(0);
    expect((flags.get(1) as number) & 0o4000).toBe(0);
  });

  it('abort() while streaming destroys the streams and reaps the child; no fd is left', async () => {
    const cmd = new Command('/bin/sh', '-c', 'while :; do echo x; done');
    cmd.runAsync({ stdin: 'pipe', stdout: 'pipe', stderr: 'pipe' });
    const { stdin, stdout, stderr } = cmd;
    await new Promise((r) => stdout!.once('data', r));
    await cmd.abort();
    expect(stdin!.destroyed && stdout!.destroyed && stderr!.destroyed).toBe(true);
    expect(cmd.stdout).toBeNull();
    // the invariants check (afterEach) finds no fd or child left
  });

  it('free() while streaming destroys the streams and kills the child', async () => {
    const cmd = new Command('/bin/sh', '-c', 'while :; do echo x; done');
    cmd.runAsync({ stdout: 'pipe' });
    const out = cmd.stdout!;
    await new Promise((r) => out.once('data', r));
    cmd.free();
    expect(out.destroyed).toBe(true);
  });

  it('Symbol.asyncDispose (await using) while streaming destroys the streams and reaps the child', async () => {
    const cmd = new Command('/bin/sh', '-c', 'while :; do echo x; done');
    cmd.runAsync({ stdin: 'pipe', stdout: 'pipe' });
    const { stdin, stdout } = cmd;
    await new Promise((r) => stdout!.once('data', r));
    await cmd[Symbol.asyncDispose]();
    expect(stdin!.destroyed && stdout!.destroyed).toBe(true);
  });

  it("the next run destroys the last run's streams; a run without pipes has none", async () => {
    const cmd = new Command('/bin/echo', 'x');
    cmd.runAsync({ stdout: 'pipe' });
    const first = cmd.stdout!;
    await cmd.wait();
    await cmd.run();
    expect(first.destroyed).toBe(true);
    expect(cmd.stdout).toBeNull();
  });

  it('misuse: a pipe for a stream already configured, a bad value, lines() without a pipe', async () => {
    expect(() => new Command('true').setOutputBuffer().runAsync({ stdout: 'pipe' })).toThrow(/cannot specify output twice/);
    expect(() => new Command('true').setInputBuffer('x').runAsync({ stdin: 'pipe' })).toThrow(/cannot specify input twice/);
    expect(() => new Command('true').runAsync({ stderr: 'stdout' })).toThrow(/needs stdout: 'pipe'/);
    expect(() => new Command('true').runAsync({ stdout: 'inherit' as 'pipe' })).toThrow(TypeError);
    expect(() => new Command('true').runAsync({ stdout: 'inherit' as 'pipe' })).toThrow(/Command.runAsync: argument 'options.stdout'/);
    const cmd = new Command('true');
    expect(() => cmd.lines()).toThrow(/stdout is not a pipe/);
    expect(() => cmd.lines({ stream: 'x' as 'all' })).toThrow(TypeError);
  });
});
