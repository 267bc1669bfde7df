/**
 * The I/O surface tried in combinations the per-feature tests leave out, the way people combine
 * child_process, execa and readline patterns: an input stream with a timeout or an abort, a pipe
 * nobody reads beside one that is read, kill() under a 'data' listener, a run started while the
 * last run's stream is still read, free() or a throw inside a listener, `await using` around a
 * loop, callbacks that throw what is not an Error, waits that overlap. Each one must end: no
 * hang (every await has a guard that fails with what it was waiting for), no unhandled error or
 * rejection (vitest reports those), no zombie and no leaked fd (useInvariants).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { Command, CommandError } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { expectChildOk, runNodeChild } from '../helpers/node-child';
import { sleep } from '../helpers/proc';
import { makeTmpDir } from '../helpers/tmp';

useInvariants();

// Generous: a guard only tells a hang from a slow machine (2 busy cores), it measures nothing.
const GUARD_MS = 15_000;

/** `p`, or a failure naming what hung once GUARD_MS have passed. */
function guard<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what} did not settle within ${GUARD_MS} ms`)), GUARD_MS);
  });
  return Promise.race([p, hang]).finally(() => clearTimeout(timer));
}

/** What `p` rejects with (the test fails if it resolves). */
async function rejection(p: Promise<unknown>, what: string): Promise<unknown> {
  const out = await guard(
    p.then(
      (v) => ({ ok: true as const, v }),
      (e: unknown) => ({ ok: false as const, e }),
    ),
    what,
  );
  if (out.ok) throw new Error(`${what} should have rejected, but resolved`);
  return out.e;
}

/** An endless Readable of 'y\n' lines, as `yes` writes; counts what was read from it. */
function endless(): Readable & { pulled: number } {
  const line = Buffer.from('y\n'.repeat(8192));
  const r = new Readable({
    read() {
      r.pulled += line.length;
      this.push(line);
    },
  }) as Readable & { pulled: number };
  r.pulled = 0;
  return r;
}

// seq 1 20000: more than a pipe holds.
const SEQ_N = 20000;
const SEQ_BYTES = 108894;

describe('run({ input }) with an end that comes first', () => {
  it('an endless input Readable and a timeout: rejects ETIMEDOUT, the input stops being read', async () => {
    const input = endless();
    const err = (await rejection(new Command('/bin/sh', '-c', 'cat >/dev/null').run({ input, timeout: 300 }), 'run({ input, timeout })')) as CommandError;
    expect(err).toBeInstanceOf(CommandError);
    expect(err.code).toBe('ETIMEDOUT');
    const pulled = input.pulled;
    await sleep(100);
    expect(input.pulled, 'the input is still being read after the run ended').toBe(pulled);
  });

  it('a child that never reads its input Readable and a timeout: rejects ETIMEDOUT, no hang', async () => {
    const err = (await rejection(new Command('sleep', '30').run({ input: endless(), timeout: 300 }), 'run({ input }) of sleep')) as CommandError;
    expect(err.code).toBe('ETIMEDOUT');
  });

  it('runRegex() with an input Readable, aborted from the callback: ABORT_ERR, no further line', async () => {
    const cmd = new Command('cat');
    let seen = 0;
    let after = 0;
    const p = cmd.runRegex(
      [/^(y)$/],
      () => {
        if (++seen === 5) void cmd.abort();
        else if (seen > 5) after++;
      },
      { input: endless() },
    );
    const err = (await rejection(p, 'runRegex({ input }) then abort()')) as CommandError;
    expect(err).toBeInstanceOf(CommandError);
    expect(err.code).toBe('ABORT_ERR');
    expect(after).toBe(0);
  });

  it('runNul() with an input Readable and an AbortSignal: ABORT_ERR with the reason', async () => {
    const ac = new AbortController();
    let got = 0;
    const input = Readable.from(
      (function* () {
        for (;;) yield Buffer.from('a\0b\0');
      })(),
    );
    const p = new Command('cat').runNul(
      2,
      () => {
        if (++got === 3) ac.abort('stop');
      },
      { input, signal: ac.signal },
    );
    const err = (await rejection(p, 'runNul({ input, signal })')) as CommandError;
    expect(err.code).toBe('ABORT_ERR');
    expect(err.cause).toBe('stop');
  });
});

describe('one pipe read, another not', () => {
  it('lines() on stdout while stderr is a pipe nobody reads: every line, wait() resolves, stderr still readable', async () => {
    const cmd = new Command('/bin/sh', '-c', `seq 1 ${SEQ_N}; echo err >&2`);
    cmd.runAsync({ stdout: 'pipe', stderr: 'pipe' });
    let n = 0;
    for await (const _ of cmd.lines()) n++;
    expect(n).toBe(SEQ_N);
    expect((await guard(cmd.wait(), 'wait() with stderr unread')).status).toBe(0);
    const rest: Buffer[] = [];
    for await (const c of cmd.stderr!) rest.push(c as Buffer);
    expect(Buffer.concat(rest).toString()).toBe('err\n');
  });

  it('stderr unread and full, the child blocked on it: a wait() timeout ends the lines() loop and the run', async () => {
    // 200,000 bytes to stderr first: the child blocks once the stderr pipe is full, its stdout
    // line never comes. As with child_process, that is a deadlock; the timeout is the way out.
    const cmd = new Command('/bin/sh', '-c', 'head -c 200000 /dev/zero >&2; echo out');
    cmd.runAsync({ stdout: 'pipe', stderr: 'pipe' });
    const waiting = cmd.wait({ timeout: 300 }).catch((e: unknown) => e);
    const seen: string[] = [];
    await guard(
      (async () => {
        for await (const l of cmd.lines()) seen.push(l);
      })(),
      'the lines() loop',
    );
    expect(seen).toEqual([]);
    expect(((await guard(waiting, 'wait({ timeout })')) as CommandError).code).toBe('ETIMEDOUT');
    cmd.free(); // the unread stderr is the command's until then (its fd too)
  });
});

describe('a reader that stopped taking, and a wait() that ends the child', () => {
  // The reader pauses with data buffered (readline's close() pauses its input; an abandoned
  // lines() iterator leaves its sources paused): the child blocks on the full pipe until the
  // timeout or the signal ends it. The wait must then settle, as abort() does, not wait for a
  // reader that takes nothing.
  it('stdout paused after the first chunk, wait({ timeout }): rejects ETIMEDOUT', async () => {
    const cmd = new Command('seq', '1', '1000000');
    cmd.runAsync({ stdout: 'pipe' });
    cmd.stdout!.once('data', () => cmd.stdout!.pause());
    const err = (await rejection(cmd.wait({ timeout: 300 }), 'wait({ timeout }) with a paused reader')) as CommandError;
    expect(err.code).toBe('ETIMEDOUT');
    cmd.free();
  });

  it('a lines() iterator left after its first line, wait({ signal }) aborted: rejects ABORT_ERR', async () => {
    const cmd = new Command('seq', '1', '1000000');
    cmd.runAsync({ stdout: 'pipe' });
    const it = cmd.lines();
    expect((await guard(it.next(), 'the first line')).value).toBe('1');
    const ac = new AbortController();
    setTimeout(() => ac.abort('enough'), 300);
    const err = (await rejection(cmd.wait({ signal: ac.signal }), 'wait({ signal }) with an abandoned iterator')) as CommandError;
    expect(err.code).toBe('ABORT_ERR');
    await it.return(undefined);
  });

  it("the child already exited, its output paused in the stream: wait({ timeout }) still settles, with the child's status", async () => {
    // 13,893 bytes: all of it fits in the socket's buffer, so the child exits whatever the pipe size.
    const cmd = new Command('seq', '1', '3000');
    cmd.runAsync({ stdout: 'pipe' });
    cmd.stdout!.pause();
    await guard(
      (async () => {
        while (cmd.kill(0)) await sleep(20);
      })(),
      "the child's end",
    );
    const r = await guard(cmd.wait({ timeout: 300 }), 'wait({ timeout }) after the exit, the reader paused');
    expect(r.status).toBe(0);
    expect(cmd.stdout!.readableLength, 'the output is still there to read').toBe(13893);
    cmd.free();
  });

  it('a slow reader that keeps taking is still waited for after a timeout: it gets the rest', async () => {
    const cmd = new Command('/bin/sh', '-c', `seq 1 ${SEQ_N}; exec sleep 30`);
    cmd.runAsync({ stdout: 'pipe' });
    let got = 0;
    cmd.stdout!.on('data', (c: Buffer) => {
      got += c.length;
      cmd.stdout!.pause();
      setTimeout(() => cmd.stdout!.resume(), 5);
    });
    const err = (await rejection(cmd.wait({ timeout: 300 }), 'wait({ timeout }) with a slow reader')) as CommandError;
    expect(err.code).toBe('ETIMEDOUT');
    expect(got).toBe(SEQ_BYTES);
  });
});

describe('kill() and the streams', () => {
  it("kill() with a 'data' listener, then wait(): the signal is reported and every byte reached the listener", async () => {
    // The child ignores SIGTERM: kill() must not cut the stream under the listener.
    const cmd = new Command('/bin/sh', '-c', `trap '' TERM; seq 1 ${SEQ_N}`);
    cmd.runAsync({ stdout: 'pipe' });
    let got = 0;
    let killed = false;
    cmd.stdout!.on('data', (c: Buffer) => {
      got += c.length;
      if (!killed) killed = cmd.kill('SIGTERM');
    });
    expect((await guard(cmd.wait(), 'wait() after kill()')).status).toBe(0);
    expect(killed).toBe(true);
    expect(got).toBe(SEQ_BYTES);
  });

  it("kill('SIGKILL') with a 'data' listener: wait() rejects with SIGKILL after the stream ended; what came is whole lines", async () => {
    const cmd = new Command('/bin/sh', '-c', `seq 1 ${SEQ_N}; exec sleep 30`);
    cmd.runAsync({ stdout: 'pipe' });
    const chunks: Buffer[] = [];
    cmd.stdout!.on('data', (c: Buffer) => {
      chunks.push(c);
      if (Buffer.concat(chunks).length === SEQ_BYTES) cmd.kill('SIGKILL');
    });
    const err = (await rejection(cmd.wait(), 'wait() after kill(SIGKILL)')) as CommandError;
    expect(err.signal).toBe('SIGKILL');
    expect(cmd.stdout === null || cmd.stdout.readableEnded || cmd.stdout.destroyed).toBe(true);
    expect(Buffer.concat(chunks).length).toBe(SEQ_BYTES);
  });
});

describe('runs of one Command', () => {
  it("a new run while the last run's lines() loop still reads (a grandchild holds the pipe): that loop ends normally", async () => {
    const cmd = new Command('/bin/sh', '-c', '(sleep 2; echo late) & echo early');
    cmd.runAsync({ stdout: 'pipe' });
    const seen: string[] = [];
    const loop = (async () => {
      for await (const l of cmd.lines()) seen.push(l);
    })();
    await guard(cmd.wait(), 'wait() with a grandchild holding stdout');
    cmd.runAsync({ stdout: 'pipe' }); // destroys the last run's streams
    await guard(loop, "the last run's lines() loop");
    expect(seen).toEqual(['early']);
    const again: string[] = [];
    for await (const l of cmd.lines()) again.push(l);
    expect(again).toEqual(['early', 'late']); // this loop reads to the end: the grandchild's line too
    await guard(cmd.wait(), 'the second wait()');
    await cmd.abort(); // nothing runs: destroys the last streams
  });

  it("two runAsync() one after the other, the first's stdout read after the second started: it is destroyed, the loop ends", async () => {
    // 292 bytes: unread, they fit in the pipe and do not block the child (a bigger output would,
    // by backpressure, and wait() would wait for its exit).
    const cmd = new Command('seq', '1', '100');
    cmd.runAsync({ stdout: 'pipe' });
    const first = cmd.stdout!;
    await guard(cmd.wait(), 'the first wait()'); // nothing read yet: not waited for
    cmd.runAsync({ stdout: 'pipe' });
    expect(first.destroyed).toBe(true);
    let thrown: unknown = null;
    try {
      for await (const _ of first) {
        // only whether the loop ends or throws matters
      }
    } catch (err) {
      thrown = err;
    }
    // A destroyed Readable's loop: Node throws ERR_STREAM_PREMATURE_CLOSE, or ends; never hangs.
    expect(thrown === null || (thrown as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE').toBe(true);
    let n = 0;
    for await (const _ of cmd.lines()) n++;
    expect(n).toBe(100);
    expect((await guard(cmd.wait(), 'the second wait()')).status).toBe(0);
  });

  it('wait() twice at once: both settle with the same end', async () => {
    const cmd = new Command('/bin/sh', '-c', `seq 1 ${SEQ_N}; exit 3`);
    cmd.runAsync({ stdout: 'pipe' });
    let got = 0;
    cmd.stdout!.on('data', (c: Buffer) => (got += c.length));
    const [a, b] = await guard(Promise.all([cmd.wait({ status: true }), cmd.wait({ status: true })]), 'two wait()s');
    expect([a.status, b.status]).toEqual([3, 3]);
    expect(got).toBe(SEQ_BYTES);
  });

  it('wait() twice at once, one with a timeout: the timeout ends the child for both', async () => {
    const cmd = new Command('sleep', '30');
    cmd.runAsync({ stdout: 'pipe' });
    cmd.stdout!.on('data', () => {});
    const [a, b] = await guard(Promise.all([cmd.wait({ timeout: 200 }).catch((e: unknown) => e), cmd.wait().catch((e: unknown) => e)]), 'two wait()s');
    expect((a as CommandError).code).toBe('ETIMEDOUT');
    expect((b as CommandError).code).toBe('ETIMEDOUT');
  });

  it('lines() then wait({ status: true }): every line and the exit status', async () => {
    const cmd = new Command('/bin/sh', '-c', 'echo a; echo b >&2; printf c; exit 3');
    cmd.runAsync({ stdout: 'pipe', stderr: 'pipe' });
    const seen: string[] = [];
    for await (const l of cmd.lines({ stream: 'all' })) seen.push(l);
    expect(seen.sort()).toEqual(['a', 'b', 'c']);
    expect((await guard(cmd.wait({ status: true }), 'wait({ status })')).status).toBe(3);
  });
});

describe('ending a run from inside a reader', () => {
  it("free() inside a 'data' listener: no throw, the pending wait() rejects ABORT_ERR, the child is reaped", async () => {
    const cmd = new Command('seq', '1', '10000000');
    cmd.runAsync({ stdout: 'pipe' });
    const waiting = cmd.wait().catch((e: unknown) => e);
    let thrown: unknown = null;
    let calls = 0;
    cmd.stdout!.on('data', () => {
      calls++;
      try {
        cmd.free();
      } catch (err) {
        thrown = err;
      }
    });
    expect(((await guard(waiting, 'wait() after free() in a listener')) as CommandError).code).toBe('ABORT_ERR');
    expect(thrown).toBeNull();
    expect(calls).toBeGreaterThanOrEqual(1);
  });

  it('`await using` around a for await over lines(), left by a break: the child is killed and reaped', async () => {
    let pid = 0;
    let n = 0;
    await guard(
      (async () => {
        await using cmd = new Command('/bin/sh', '-c', 'while :; do echo x; done');
        pid = cmd.runAsync({ stdout: 'pipe' });
        for await (const _ of cmd.lines()) if (++n === 100) break;
      })(),
      'the await using block',
    );
    expect(n).toBe(100);
    expect(pid).toBeGreaterThan(0);
  });

  it('`await using` left by a throw from inside the loop: the throw comes out, the child is reaped', async () => {
    const err = await rejection(
      (async () => {
        await using cmd = new Command('/bin/sh', '-c', 'echo x; exec sleep 30');
        cmd.runAsync({ stdout: 'pipe', stderr: 'pipe' });
        for await (const _ of cmd.lines({ stream: 'all' })) throw new Error('left');
      })(),
      'the await using block',
    );
    expect((err as Error).message).toBe('left');
  });

  it('an AbortSignal already aborted before lines(): the loop ends at once, wait() says ABORT_ERR', async () => {
    const cmd = new Command('/bin/sh', '-c', 'while :; do echo x; done');
    cmd.runAsync({ stdout: 'pipe' });
    const ac = new AbortController();
    ac.abort('early');
    const waiting = cmd.wait({ signal: ac.signal }).catch((e: unknown) => e);
    let thrown: unknown = null;
    await guard(
      (async () => {
        try {
          for await (const _ of cmd.lines()) {
            /* take what came */
          }
        } catch (err) {
          thrown = err;
        }
      })(),
      'lines() after an aborted signal',
    );
    expect(thrown).toBeNull();
    const err = (await guard(waiting, 'wait({ signal })')) as CommandError;
    expect(err.code).toBe('ABORT_ERR');
    expect(err.cause).toBe('early');
  });

  it('runRegex() and runNul() with a signal aborted before the call: ABORT_ERR, no child', async () => {
    const ac = new AbortController();
    ac.abort();
    const cmd = new Command('echo', 'x');
    expect(
      (
        (await rejection(
          cmd.runRegex([/x/], () => {}, { signal: ac.signal }),
          'runRegex',
        )) as CommandError
      ).code,
    ).toBe('ABORT_ERR');
    expect(
      (
        (await rejection(
          cmd.runNul(1, () => {}, { signal: ac.signal }),
          'runNul',
        )) as CommandError
      ).code,
    ).toBe('ABORT_ERR');
    expect(cmd.pid).toBeNull();
  });
});

describe('callbacks that fail oddly', () => {
  for (const [name, value] of [
    ['a string', 'bad line'],
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
  ] as const) {
    it(`runRegex() callback throwing ${name}: the run rejects with that very value`, async () => {
      const p = new Command('seq', '1', '100000').runRegex([/(\d+)/], ([n]) => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a value that is not an Error is the case under test
        if (n === '3') throw value;
      });
      expect(await rejection(p, 'runRegex')).toBe(value);
    });

    it(`runNul() callback rejecting with ${name}: the run rejects with that very value`, async () => {
      const p = new Command('printf', 'a\\0b\\0c\\0').runNul(1, async ([f]) => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- a value that is not an Error is the case under test
        if (f === 'b') throw value;
      });
      expect(await rejection(p, 'runNul')).toBe(value);
    });
  }

  it('an async callback (a promise per line) over a burst: the timeout still fires on time', async () => {
    // 285 lines at once; each callback works 20 ms and returns a resolved promise. Awaiting
    // those takes microtasks only: unless the parse also yields after them, no timer runs
    // until all 285 are parsed (5.7 s).
    let calls = 0;
    const p = new Command('/bin/sh', '-c', 'seq 1 285; exec sleep 30').runRegex(
      [/\d/],
      async () => {
        calls++;
        const until = Date.now() + 20;
        while (Date.now() < until) {
          /* a slow parser */
        }
      },
      { timeout: 300 },
    );
    expect(((await rejection(p, 'runRegex with an async callback')) as CommandError).code).toBe('ETIMEDOUT');
    expect(calls, 'lines parsed before the timeout ended the call').toBeLessThan(285 / 2);
  });

  it('runNul({ encoding: "buffer", timeout }): Buffers before the timeout, then ETIMEDOUT', async () => {
    const got: Buffer[] = [];
    const p = new Command('/bin/sh', '-c', 'printf "a\\0b\\0"; exec sleep 30').runNul(
      1,
      ([f]) => {
        got.push(f);
      },
      { encoding: 'buffer', timeout: 300 },
    );
    const err = (await rejection(p, 'runNul with a timeout')) as CommandError;
    expect(err.code).toBe('ETIMEDOUT');
    expect(got.every((f) => Buffer.isBuffer(f))).toBe(true);
    expect(got.map((f) => f.toString())).toEqual(['a', 'b']);
  });

  it('runNul({ encoding: "buffer" }) with a callback that never settles and a timeout: ETIMEDOUT', async () => {
    const p = new Command('printf', 'a\\0b\\0').runNul(1, () => new Promise(() => {}), { encoding: 'buffer', timeout: 300 });
    expect(((await rejection(p, 'runNul with a pending callback')) as CommandError).code).toBe('ETIMEDOUT');
  });

  it("a 'data' listener that throws: the error is the process's uncaught exception (as with child_process), and wait() still ends", () => {
    const r = runNodeChild(`
      const caught = [];
      process.on('uncaughtException', (e) => caught.push(String(e && e.message)));
      const cmd = new vc.Command('seq', '1', '20000');
      cmd.runAsync({ stdout: 'pipe' });
      let first = true;
      cmd.stdout.on('data', () => { if (first) { first = false; throw new Error('listener'); } });
      const t = setTimeout(() => { emit({ caught, hung: true }); process.exit(0); }, 10000);
      const res = await cmd.wait();
      clearTimeout(t);
      emit({ caught, status: res.status });
    `);
    const res = expectChildOk(r) as { caught: string[]; status?: number; hung?: boolean };
    expect(res.hung, 'wait() hung after a listener threw').toBeUndefined();
    expect(res.caught).toEqual(['listener']);
    expect(res.status).toBe(0);
  });
});

describe('stream recipes', () => {
  it('pipeline(cmd.stdout, Transform, file stream) then wait(): the file has every byte', async () => {
    const dir = makeTmpDir('io-patterns-');
    const file = path.join(dir, 'out');
    const cmd = new Command('seq', '1', String(SEQ_N));
    cmd.runAsync({ stdout: 'pipe' });
    const upper = new Transform({
      transform(c: Buffer, _e, cb) {
        cb(null, c.toString().replace(/\n/g, ';\n'));
      },
    });
    await guard(pipeline(cmd.stdout!, upper, fs.createWriteStream(file)), 'pipeline');
    expect((await guard(cmd.wait(), 'wait()')).status).toBe(0);
    expect(fs.statSync(file).size).toBe(SEQ_BYTES + SEQ_N);
    fs.rmSync(dir, { recursive: true });
  });

  it('abort() in the middle of a pipeline(cmd.stdout, Transform, Writable): pipeline settles, abort() resolves', async () => {
    const cmd = new Command('/bin/sh', '-c', 'while :; do echo x; done');
    cmd.runAsync({ stdout: 'pipe' });
    let n = 0;
    const t = new Transform({
      transform(c: Buffer, _e, cb) {
        if (++n === 3) void cmd.abort();
        cb(null, c);
      },
    });
    const sink = new (await import('node:stream')).Writable({
      write(_c, _e, cb) {
        cb();
      },
    });
    const waiting = cmd.wait().catch((e: unknown) => e);
    await guard(
      pipeline(cmd.stdout!, t, sink).catch(() => {}),
      'pipeline under abort()',
    );
    expect(((await guard(waiting, 'wait()')) as CommandError).code).toBe('ABORT_ERR');
  });
});
