/**
 * How a run's streams end, in the patterns people write with child_process, execa and readline:
 * a 'data' listener then `await wait()`; pipe() into a Writable then wait(); for await over
 * cmd.stdout; readline over cmd.stdout; a break; abort(), free(), a timeout or an AbortSignal in
 * the middle of a loop over lines(). Nothing read is lost, nothing hangs, and the loop ends the
 * way readline's ends when the child is killed (the reason is on wait()).
 */
import readline from 'node:readline';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { Command, CommandError } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { expectChildOk, runNodeChild } from '../helpers/node-child';
import { isAlive, sleep } from '../helpers/proc';

const inv = useInvariants();

// 20,000 lines "1".."20000": 108,894 bytes, more than a pipe holds, written in several chunks.
const SEQ_N = 20000;
const SEQ_BYTES = 108894;
// A small output, written at once just before the child exits: its exit and its output reach us
// together, which is when a wait() that only waits for the exit resolved too early.
const SMALL = `seq 1 100`;
const SMALL_BYTES = 292;

describe('wait() after reading: every byte read before it resolves', () => {
  it("'data' listener then await wait(): 200 runs lose nothing", async () => {
    const short: number[] = [];
    for (let i = 0; i < 200; i++) {
      const cmd = new Command('/bin/sh', '-c', SMALL);
      cmd.runAsync({ stdout: 'pipe' });
      let got = 0;
      cmd.stdout!.on('data', (c: Buffer) => (got += c.length));
      await cmd.wait();
      if (got !== SMALL_BYTES) short.push(got);
    }
    expect(short, `${short.length} of 200 runs resolved wait() before the listener had all output`).toEqual([]);
  }, 120_000);

  it('stdout and stderr both listened to: wait() resolves after both ended', async () => {
    for (let i = 0; i < 100; i++) {
      const cmd = new Command('/bin/sh', '-c', `${SMALL}; ${SMALL} >&2`);
      cmd.runAsync({ stdout: 'pipe', stderr: 'pipe' });
      let out = 0;
      let err = 0;
      cmd.stdout!.on('data', (c: Buffer) => (out += c.length));
      cmd.stderr!.on('data', (c: Buffer) => (err += c.length));
      await cmd.wait();
      expect([out, err]).toEqual([SMALL_BYTES, SMALL_BYTES]);
    }
  }, 60_000);

  it('pipe() into a slow Writable then await wait(): the Writable had every byte', async () => {
    const cmd = new Command('seq', '1', String(SEQ_N));
    cmd.runAsync({ stdout: 'pipe' });
    let got = 0;
    const sink = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _enc, cb) {
        got += chunk.length;
        setTimeout(cb, 1); // slower than the child: backpressure pauses stdout
      },
    });
    cmd.stdout!.pipe(sink);
    await cmd.wait();
    expect(got).toBe(SEQ_BYTES);
  });

  it('a failing run: wait() rejects only after the listener has all output', async () => {
    for (let i = 0; i < 100; i++) {
      const cmd = new Command('/bin/sh', '-c', `${SMALL}; exit 3`);
      cmd.runAsync({ stdout: 'pipe' });
      let got = 0;
      cmd.stdout!.on('data', (c: Buffer) => (got += c.length));
      const err = await cmd.wait().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CommandError);
      expect((err as CommandError).exitStatus).toBe(3);
      expect(got).toBe(SMALL_BYTES);
    }
  });

  it('a stream never read is not waited for: wait() resolves with the pipe full, the output still readable after', async () => {
    // 200,000 lines (1.3 MB): more than the pipe and the socket hold, so the child cannot exit
    // before we read; wait() alone would hang if it waited for this stream.
    const cmd = new Command('/bin/sh', '-c', 'seq 1 200000 >/dev/null; echo done');
    cmd.runAsync({ stdout: 'pipe' });
    expect((await cmd.wait()).status).toBe(0);
    const lines: string[] = [];
    for await (const l of cmd.lines()) lines.push(l);
    expect(lines).toEqual(['done']);
  });

  it('a grandchild holding the pipe open does not hang wait(): it stops waiting once nothing comes', async () => {
    // The shell exits at once; its background sleep keeps stdout's write end.
    const cmd = new Command('/bin/sh', '-c', 'sleep 60 & echo $!');
    cmd.runAsync({ stdout: 'pipe' });
    let text = '';
    cmd.stdout!.on('data', (c: Buffer) => (text += c.toString()));
    await cmd.wait();
    const grandchild = Number(text.trim());
    expect(grandchild).toBeGreaterThan(0);
    expect(cmd.stdout!.destroyed).toBe(false); // only the waiting stopped; the stream is the reader's
    process.kill(grandchild, 'SIGKILL');
    cmd.stdout!.destroy();
    inv.keepChild(grandchild); // not our child (the shell's, reparented): nothing to reap here
  });

  it('for await over cmd.stdout, then wait(): all chunks, status 0', async () => {
    const cmd = new Command('seq', '1', String(SEQ_N));
    cmd.runAsync({ stdout: 'pipe' });
    let got = 0;
    for await (const c of cmd.stdout!) got += (c as Buffer).length;
    expect((await cmd.wait()).status).toBe(0);
    expect(got).toBe(SEQ_BYTES);
  });

  it('readline.createInterface over cmd.stdout, wait() started first: every line', async () => {
    const cmd = new Command('seq', '1', String(SEQ_N));
    cmd.runAsync({ stdout: 'pipe' });
    const waiting = cmd.wait();
    let n = 0;
    for await (const _ of readline.createInterface({ input: cmd.stdout!, crlfDelay: Infinity })) n++;
    expect((await waiting).status).toBe(0);
    expect(n).toBe(SEQ_N);
  });

  it("readline's 'line' events, then await wait(): 100 runs, every line seen when wait() resolves", async () => {
    for (let i = 0; i < 100; i++) {
      const cmd = new Command('/bin/sh', '-c', SMALL);
      cmd.runAsync({ stdout: 'pipe' });
      let n = 0;
      readline.createInterface({ input: cmd.stdout!, crlfDelay: Infinity }).on('line', () => n++);
      await cmd.wait();
      expect(n).toBe(100);
    }
  });

  it('lines() with wait() started first: every line, in order', async () => {
    const cmd = new Command('seq', '1', String(SEQ_N));
    cmd.runAsync({ stdout: 'pipe' });
    const waiting = cmd.wait();
    let expected = 1;
    let bad = 0;
    for await (const l of cmd.lines()) if (l !== String(expected++)) bad++;
    expect((await waiting).status).toBe(0);
    expect([expected - 1, bad]).toEqual([SEQ_N, 0]);
  });

  it('lines() splits UTF-8 characters cut between chunks correctly', async () => {
    // 3-byte characters with no newline for 200 KB: chunk borders fall inside characters.
    const cmd = new Command('/bin/sh', '-c', 'i=0; while [ $i -lt 4 ]; do head -c 60000 /dev/zero | tr "\\0" "x" | sed "s/x/€/g"; echo; i=$((i+1)); done');
    cmd.runAsync({ stdout: 'pipe' });
    const got: string[] = [];
    for await (const l of cmd.lines()) got.push(l);
    await cmd.wait();
    expect(got).toEqual(Array(4).fill('€'.repeat(60000)));
  });
});

describe('lines() shares the event loop', () => {
  it('a fast loop over 2,000,000 lines lets timers run: never 200,000 lines between two timer turns', async () => {
    // Counted in lines, not timed. libuv reads up to 32 chunks of 64 KiB in one poll callback;
    // consuming all their lines in that callback's microtasks held the loop for 262,144 lines
    // (2 MiB of 8-byte lines) at a time. lines() gives the loop a turn after a few ms of work.
    const cmd = new Command('seq', '1', '2000000');
    cmd.runAsync({ stdout: 'pipe' });
    let n = 0;
    let atLastTick = 0;
    let most = 0;
    const tick = setInterval(() => {
      most = Math.max(most, n - atLastTick);
      atLastTick = n;
    }, 1);
    try {
      for await (const _ of cmd.lines()) n++;
    } finally {
      clearInterval(tick);
    }
    most = Math.max(most, n - atLastTick);
    await cmd.wait();
    expect(n).toBe(2000000);
    expect(most, `${most} lines were consumed without a timer turn`).toBeLessThan(200000);
  });
});

describe('leaving a loop over lines()', () => {
  it("break out of lines({ stream: 'all' }) returns at once; abort() after it is clean (no unhandled error)", () => {
    // In a node child: an unhandled ERR_STREAM_PREMATURE_CLOSE would crash it.
    const r = runNodeChild(`
      const cmd = new vc.Command('/bin/sh', '-c', 'echo first; exec sleep 30');
      cmd.runAsync({ stdout: 'pipe', stderr: 'pipe' });
      const t0 = Date.now();
      let first;
      for await (const line of cmd.lines({ stream: 'all' })) { first = line; break; }
      const breakMs = Date.now() - t0;
      await new Promise((r) => setTimeout(r, 300));
      await cmd.abort();
      await new Promise((r) => setTimeout(r, 100));
      emit({ first, breakMs, stdoutAfterAbort: cmd.stdout });
    `);
    const res = expectChildOk(r) as { first: string; breakMs: number; stdoutAfterAbort: null };
    expect(r.stderr).toBe('');
    expect(res.first).toBe('first');
    expect(res.stdoutAfterAbort).toBeNull();
    // The child sleeps 30 s: returning means the break did not wait for it.
    expect(res.breakMs).toBeLessThan(20_000);
  });

  it('break destroys both streams: the child writing on dies of SIGPIPE', async () => {
    const cmd = new Command('/bin/sh', '-c', 'while :; do echo o; echo e >&2; done');
    cmd.runAsync({ stdout: 'pipe', stderr: 'pipe' });
    const { stdout, stderr } = cmd;
    for await (const _ of cmd.lines({ stream: 'all' })) break;
    expect(stdout!.destroyed && stderr!.destroyed).toBe(true);
    const err = await cmd.wait().catch((e: unknown) => e);
    expect((err as CommandError).signal).toBe('SIGPIPE');
  });

  async function loopUntil(cmd: Command, end: () => void | Promise<void>, stream: 'stdout' | 'all' = 'stdout'): Promise<{ lines: number; thrown: unknown }> {
    let lines = 0;
    let thrown: unknown = null;
    try {
      for await (const _ of cmd.lines({ stream })) {
        if (++lines === 3) void end();
      }
    } catch (err) {
      thrown = err;
    }
    return { lines, thrown };
  }

  it('abort() during the loop: the loop ends normally, wait() says ABORT_ERR', async () => {
    const cmd = new Command('/bin/sh', '-c', 'while :; do echo x; done');
    cmd.runAsync({ stdout: 'pipe', stderr: 'pipe' });
    const waiting = cmd.wait().catch((e: unknown) => e);
    const { lines, thrown } = await loopUntil(cmd, () => cmd.abort(), 'all');
    expect(thrown).toBeNull();
    expect(lines).toBeGreaterThanOrEqual(3);
    expect(((await waiting) as CommandError).code).toBe('ABORT_ERR');
  });

  it('free() during the loop: the loop ends normally, wait() rejects with ABORT_ERR', async () => {
    const cmd = new Command('/bin/sh', '-c', 'while :; do echo x; done');
    cmd.runAsync({ stdout: 'pipe' });
    const waiting = cmd.wait().catch((e: unknown) => e);
    const { thrown } = await loopUntil(cmd, () => cmd.free());
    expect(thrown).toBeNull();
    expect(((await waiting) as CommandError).code).toBe('ABORT_ERR');
  });

  it('a wait() timeout during the loop: the loop ends normally, wait() says ETIMEDOUT', async () => {
    const cmd = new Command('/bin/sh', '-c', 'while :; do echo x; sleep 0.01; done');
    cmd.runAsync({ stdout: 'pipe' });
    const waiting = cmd.wait({ timeout: 300 }).catch((e: unknown) => e);
    const { lines, thrown } = await loopUntil(cmd, () => {});
    expect(thrown).toBeNull();
    expect(lines).toBeGreaterThanOrEqual(3);
    expect(((await waiting) as CommandError).code).toBe('ETIMEDOUT');
  });

  it('an AbortSignal during the loop: the loop ends normally, wait() says ABORT_ERR with the reason', async () => {
    const cmd = new Command('/bin/sh', '-c', 'while :; do echo x; done');
    cmd.runAsync({ stdout: 'pipe' });
    const ac = new AbortController();
    const waiting = cmd.wait({ signal: ac.signal }).catch((e: unknown) => e);
    const { thrown } = await loopUntil(cmd, () => ac.abort('enough'));
    expect(thrown).toBeNull();
    const err = (await waiting) as CommandError;
    expect(err.code).toBe('ABORT_ERR');
    expect(err.cause).toBe('enough');
  });

  it('abort() during a for await over cmd.stdout: that loop ends normally too (EOF, as after child_process kill())', async () => {
    const cmd = new Command('/bin/sh', '-c', 'while :; do echo x; done');
    cmd.runAsync({ stdout: 'pipe' });
    const out = cmd.stdout!;
    const waiting = cmd.wait().catch((e: unknown) => e);
    let thrown: unknown = null;
    let chunks = 0;
    try {
      for await (const _ of out) if (++chunks === 2) void cmd.abort();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeNull();
    expect(((await waiting) as CommandError).code).toBe('ABORT_ERR');
    await sleep(0);
    expect(out.destroyed).toBe(true);
  });

  it('await abort() inside the loop body over lines(): no deadlock, the loop ends', async () => {
    const cmd = new Command('/bin/sh', '-c', 'while :; do echo x; done');
    cmd.runAsync({ stdout: 'pipe' });
    const waiting = cmd.wait().catch((e: unknown) => e);
    let n = 0;
    for await (const _ of cmd.lines()) if (++n === 3) await cmd.abort();
    expect(n).toBeGreaterThanOrEqual(3);
    expect(((await waiting) as CommandError).code).toBe('ABORT_ERR');
  });

  it('pipeline(cmd.stdout, Writable) then wait(): the standard stream recipe loses nothing', async () => {
    const cmd = new Command('seq', '1', String(SEQ_N));
    cmd.runAsync({ stdout: 'pipe' });
    let got = 0;
    await pipeline(
      cmd.stdout!,
      new Writable({
        write(c: Buffer, _e, cb) {
          got += c.length;
          cb();
        },
      }),
    );
    expect((await cmd.wait()).status).toBe(0);
    expect(got).toBe(SEQ_BYTES);
    expect(isAlive(cmd.pid ?? -1)).toBe(false);
    await sleep(0);
  });
});
