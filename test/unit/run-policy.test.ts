import { constants } from 'node:buffer';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Command, CommandError, PASS_FD_CLOSE_PARENT, pidWait, setDryRun } from '../../src/index';
import { type ChildHandle, type NativeBinding, type NativePlan, type NativeResult, setNativeBinding } from '../../src/native';
import { nativeResult } from '../helpers/native-result';

const { MAX_LENGTH } = constants;
const ENOENT = os.constants.errno.ENOENT;
const EACCES = os.constants.errno.EACCES;

function result(over: Partial<NativeResult> = {}): NativeResult {
  return nativeResult({ pid: 4242, ...over });
}

/** A stand-in addon: records plans; async children end when the test says so. */
class FakeNative implements NativeBinding {
  plans: NativePlan[] = [];
  syncAnswer: (plan: NativePlan) => NativeResult = () => result();
  children: { plan: NativePlan; done: (r: NativeResult) => void; terminated: number[]; released: boolean }[] = [];
  runSync(plan: NativePlan): NativeResult {
    this.plans.push(plan);
    return this.syncAnswer(plan);
  }
  spawn(plan: NativePlan, onDone: (r: NativeResult) => void): ChildHandle {
    this.plans.push(plan);
    const child = { plan, done: onDone, terminated: [] as number[], released: false };
    this.children.push(child);
    const pid = 5000 + this.children.length;
    return {
      pid,
      stdinFd: -1,
      stdoutFd: plan.stdout.type === 'pipe' ? 77 : -1,
      stderrFd: plan.stderr.type === 'pipe' ? 78 : -1,
      kill: () => true,
      terminate: (grace) => {
        child.terminated.push(grace);
        queueMicrotask(() => onDone(result({ pid, status: os.constants.signals.SIGTERM })));
      },
      abortSync: () => result({ pid, status: os.constants.signals.SIGKILL }),
      handshakeWait: (cb) => cb(null),
      handshakeNotify: () => {},
      release: () => void (child.released = true),
      ref: () => {},
      unref: () => {},
    };
  }
  pidWait(_pid: number, cb: (err: Error | null, status: number) => void): void {
    cb(null, 0);
  }
  pidKill(): boolean {
    return true;
  }
  getGroupList(): number[] {
    return [];
  }
}

let fake: FakeNative;
beforeEach(() => {
  fake = new FakeNative();
  setNativeBinding(fake);
});
afterEach(() => {
  setNativeBinding(null);
  setDryRun(null);
});

const sh = (): Command => new Command('/bin/sh', '-c', 'x');

describe('status policy', () => {
  it('resolves a zero exit with captured output', () => {
    fake.syncAnswer = () => result({ stdout: Buffer.from('out'), stderr: Buffer.from('err') });
    const r = sh().runSync();
    expect(r).toMatchObject({ pid: 4242, status: 0, exitStatus: 0, signal: null, stdout: 'out', stderr: 'err', command: '/bin/sh -c x' });
  });

  it('throws for a non-zero exit, with stderr in the message', () => {
    fake.syncAnswer = () => result({ status: 3 << 8, stderr: Buffer.from('boom\n') });
    const e = (() => {
      try {
        sh().runSync();
      } catch (err) {
        return err as CommandError;
      }
    })()!;
    expect(e).toBeInstanceOf(CommandError);
    expect(e.message).toBe('Child process (/bin/sh -c x) unexpected exit status 3: boom');
    expect(e.exitStatus).toBe(3);
    expect(e.stderr).toBe('boom\n');
  });

  it('returns the exit status with { status: true }, the raw one with rawStatus()', () => {
    fake.syncAnswer = () => result({ status: 3 << 8 });
    const cmd = sh();
    expect(cmd.runSync({ status: true }).status).toBe(3);
    cmd.rawStatus();
    expect(cmd.runSync({ status: true }).status).toBe(3 << 8);
  });

  it('throws for a death by signal unless rawStatus()', () => {
    fake.syncAnswer = () => result({ status: 9 });
    const cmd = sh();
    expect(() => cmd.runSync({ status: true })).toThrow('Child process (/bin/sh -c x) unexpected fatal signal 9');
    cmd.rawStatus();
    expect(cmd.runSync({ status: true })).toMatchObject({ status: 9, signal: 'SIGKILL', signalNumber: 9, exitStatus: null });
  });

  it('turns a failed exec into 127/126 with { status: true }, an error otherwise', () => {
    fake.syncAnswer = () => result({ status: null, failure: { stage: 'exec', errno: ENOENT, value: 0 } });
    const cmd = new Command('/no/such/program');
    expect(cmd.runSync({ status: true }).status).toBe(127);
    cmd.rawStatus();
    expect(cmd.runSync({ status: true }).status).toBe(127 << 8);
    const e = (() => {
      try {
        cmd.runSync();
      } catch (err) {
        return err as CommandError;
      }
    })()!;
    expect(e).toMatchObject({ stage: 'exec', errno: ENOENT, code: 'ENOENT', path: '/no/such/program', exitStatus: 127 });
    expect(e.message).toBe("Child process (/no/such/program) failed at stage 'exec': ENOENT (No such file or directory): /no/such/program");
    fake.syncAnswer = () => result({ status: null, failure: { stage: 'exec', errno: EACCES, value: 0 } });
    expect(new Command('/etc/passwd').runSync({ status: true }).status).toBe(126);
  });

  it('keeps other stage failures as errors even with { status: true }, with the path involved', () => {
    fake.syncAnswer = () => result({ status: null, failure: { stage: 'chdir', errno: ENOENT, value: 0 } });
    const e = (() => {
      try {
        sh().setWorkingDirectory('/gone').runSync({ status: true });
      } catch (err) {
        return err as CommandError;
      }
    })()!;
    expect(e).toMatchObject({ stage: 'chdir', code: 'ENOENT', path: '/gone', exitStatus: 125 });
  });

  it('converts a native spawn throw', async () => {
    fake.spawn = () => {
      throw Object.assign(new Error('spawn failed'), { stage: 'fork', errno: os.constants.errno.EAGAIN, value: 0 });
    };
    await expect(sh().run()).rejects.toMatchObject({ stage: 'fork', code: 'EAGAIN', exitStatus: null });
    expect(() => sh().runAsync()).toThrow(CommandError);
  });

  it('reports timeouts and maxBuffer regardless of status mode', () => {
    fake.syncAnswer = () => result({ status: 15, timedOut: true });
    expect(() => sh().runSync({ timeout: 10, status: true })).toThrow(expect.objectContaining({ code: 'ETIMEDOUT', timedOut: true }));
    expect(fake.plans.at(-1)).toMatchObject({ timeoutMs: 10, killGraceMs: 100, drainMs: 200 });
    fake.syncAnswer = () => result({ maxBufferExceeded: 'stdout' });
    expect(() => sh().runSync({ maxBuffer: 5, status: true })).toThrow(expect.objectContaining({ code: 'ERR_CHILD_MAX_BUFFER' }));
    expect(fake.plans.at(-1)?.stdout).toEqual({ type: 'capture', maxBuffer: 5 });
  });

  it('caps every capture at buffer.constants.MAX_LENGTH (no maxBuffer, or a larger one) and names that limit when it is passed', async () => {
    const limits = (): unknown[] => [fake.plans.at(-1)?.stdout, fake.plans.at(-1)?.stderr];
    const capped = { type: 'capture', maxBuffer: MAX_LENGTH };
    sh().runSync();
    expect(limits()).toEqual([capped, capped]);
    sh().runSync({ maxBuffer: 2 ** 53 - 1 });
    expect(limits()).toEqual([capped, capped]);
    sh().runSync({ maxBuffer: MAX_LENGTH - 1 });
    expect(limits()).toEqual([
      { type: 'capture', maxBuffer: MAX_LENGTH - 1 },
      { type: 'capture', maxBuffer: MAX_LENGTH - 1 },
    ]);
    const bg = sh().setOutputBuffer({});
    bg.runAsync();
    expect(fake.plans.at(-1)?.stdout).toEqual(capped);
    fake.syncAnswer = () => result({ maxBufferExceeded: 'stderr', stderr: Buffer.from('partial') });
    const e = (() => {
      try {
        sh().runSync({ encoding: 'buffer' });
      } catch (err) {
        return err as CommandError;
      }
      throw new Error('expected a throw');
    })();
    expect(e).toBeInstanceOf(CommandError);
    expect(e).toMatchObject({ code: 'ERR_CHILD_MAX_BUFFER', stderr: Buffer.from('partial') });
    expect(e.message).toContain(`stderr maxBuffer length exceeded (limit ${MAX_LENGTH} bytes: buffer.constants.MAX_LENGTH, the largest Buffer Node can make)`);
    // A maxBuffer of the caller's own is named as before.
    fake.syncAnswer = () => result({ maxBufferExceeded: 'stdout' });
    expect(() => sh().runSync({ maxBuffer: 5 })).toThrow(/stdout maxBuffer length exceeded \(limit 5 bytes\)$/);
  });
});

describe('async runs', () => {
  it('run() terminates on timeout and fails with ETIMEDOUT', async () => {
    const p = sh().run({ timeout: 5, killGrace: 7 });
    await expect(p).rejects.toMatchObject({ code: 'ETIMEDOUT', timedOut: true, signal: 'SIGTERM' });
    expect(fake.children[0].terminated).toEqual([7]);
    expect(fake.children[0].plan.timeoutMs).toBe(0);
  });

  it('run() terminates on abort and fails with ABORT_ERR', async () => {
    const ac = new AbortController();
    const p = sh().run({ signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ABORT_ERR' });
    const pre = AbortSignal.abort();
    await expect(sh().run({ signal: pre })).rejects.toMatchObject({ code: 'ABORT_ERR' });
    expect(fake.children).toHaveLength(1);
  });

  it('runAsync() returns the pid; concurrent waits share the end; the command can run again', async () => {
    const cmd = sh();
    expect(cmd.runAsync()).toBe(5001);
    expect(cmd.pid).toBe(5001);
    expect(fake.children[0].plan.stdout).toEqual({ type: 'null' });
    const w1 = cmd.wait();
    const w2 = cmd.wait({ status: true });
    fake.children[0].done(result({ pid: 5001, status: 2 << 8 }));
    await expect(w1).rejects.toMatchObject({ exitStatus: 2 });
    await expect(w2).resolves.toMatchObject({ status: 2 });
    expect(cmd.pid).toBeNull();
    cmd.runAsync();
    fake.children[1].done(result({ pid: 5002 }));
    await expect(cmd.wait()).resolves.toMatchObject({ status: 0 });
  });

  it('abort() terminates, never throws, and pending waits get ABORT_ERR', async () => {
    const cmd = sh();
    cmd.runAsync();
    const w = cmd.wait();
    await cmd.abort({ grace: 3 });
    expect(fake.children[0].terminated).toEqual([3]);
    await expect(w).rejects.toMatchObject({ code: 'ABORT_ERR' });
    await expect(cmd.abort()).resolves.toBeUndefined();
  });

  it('free() kills an auto-reaped child, or releases it for pidWait()', async () => {
    const a = sh();
    a.runAsync();
    a.free();
    expect(fake.children[0].released).toBe(false);
    const b = sh();
    const pid = b.runAsync({ autoReap: false });
    b.free();
    expect(fake.children[1].released).toBe(true);
    const c = sh();
    const pidC = c.runAsync({ autoReap: false });
    fake.children[2].done(result({ pid: pidC, status: 4 << 8 }));
    await Promise.resolve();
    c.free();
    await expect(pidWait(pidC, { status: true })).resolves.toBe(4);
    await expect(pidWait(pid)).resolves.toBe(0);
  });

  it('stores pipe read ends into FdRefs, one shared pipe for the same ref', async () => {
    const ref = { fd: -1 };
    const cmd = sh().setOutputFD(ref).setErrorFD(ref);
    const p = cmd.run();
    expect(fake.children[0].plan.stdout).toEqual({ type: 'pipe' });
    expect(fake.children[0].plan.stderr).toEqual({ type: 'stdout' });
    expect(ref.fd).toBe(77);
    fake.children[0].done(result());
    await p;
    const again = cmd.run();
    expect(fake.children[1].plan.stdout).toEqual({ type: 'pipe' });
    fake.children[1].done(result());
    await again;
  });
});

describe('buffers and fds', () => {
  it('fills BufferRefs after each run, also on failure; the same ref merges', () => {
    const out: { value?: string | Buffer } = { value: 'stale' };
    const cmd = sh().setOutputBuffer(out);
    expect(out.value).toBeUndefined();
    fake.syncAnswer = () => result({ status: 1 << 8, stdout: Buffer.from('partial') });
    expect(() => cmd.runSync()).toThrow(CommandError);
    expect(out.value).toBe('partial');
    fake.syncAnswer = () => result({ stdout: null });
    cmd.runSync({ encoding: 'buffer' });
    expect(out.value).toEqual(Buffer.alloc(0));

    const both: { value?: string | Buffer } = {};
    const merged = sh().setOutputBuffer(both).setErrorBuffer(both);
    fake.syncAnswer = () => result({ stdout: Buffer.from('a\nb\n') });
    const r = merged.runSync();
    expect(fake.plans.at(-1)?.stderr).toEqual({ type: 'stdout' });
    expect(both.value).toBe('a\nb\n');
    expect(r.stderr).toBe(''); // merged into stdout: nothing captured on its own
  });

  it('passes fds to the first spawn only and closes CLOSE_PARENT ones after it', () => {
    const keep = fs.openSync('/dev/null', 'r');
    const close = fs.openSync('/dev/null', 'r');
    try {
      const cmd = sh().passFD(keep).passFD(close, PASS_FD_CLOSE_PARENT).passFD(close, 0);
      fake.syncAnswer = () => result({ status: 1 << 8 });
      expect(() => cmd.runSync()).toThrow(CommandError);
      expect(fake.plans[0].passFds).toEqual([keep, close]);
      expect(() => fs.fstatSync(close)).toThrow(/EBADF/);
      expect(() => fs.fstatSync(keep)).not.toThrow();
      fake.syncAnswer = () => result();
      cmd.runSync();
      expect(fake.plans[1].passFds).toEqual([]);
    } finally {
      fs.closeSync(keep);
    }
  });

  it('refuses a closed fd given as stdin, stdout or stderr before any spawn (found by test/property/fds.test.ts)', async () => {
    // It used to reach native, which made the child's stdio from whatever its own pipes or
    // /dev/null put at that number (stdin = the stdout capture pipe, say), or failed in the
    // child at stage 'stdio' after the fork.
    const open = fs.openSync('/dev/null', 'r');
    const closed = fs.openSync('/dev/null', 'r');
    fs.closeSync(closed);
    try {
      const cases: [string, (c: Command) => Command][] = [
        ['setInputFD', (c) => c.setInputFD(closed)],
        ['setOutputFD', (c) => c.setOutputFD(closed)],
        ['setErrorFD', (c) => c.setErrorFD(closed)],
        ['setOutputFD', (c) => c.setOutputFD({ fd: closed })],
        ['setErrorFD', (c) => c.setErrorFD({ fd: closed })],
        [
          'setOutputFD',
          (c) => {
            const ref = { fd: closed };
            return c.setOutputFD(ref).setErrorFD(ref);
          },
        ],
      ];
      for (const [call, make] of cases) {
        for (const run of [(c: Command) => c.runSync(), (c: Command) => c.run(), (c: Command) => c.runAsync()]) {
          const e = await (async () => {
            try {
              await run(make(sh().passFD(open)));
            } catch (err) {
              return err as CommandError;
            }
          })();
          expect(e, call).toBeInstanceOf(CommandError);
          expect({ stage: e!.stage, code: e!.code, value: e!.value, message: e!.message }).toEqual({
            stage: 'validate',
            code: 'EBADF',
            value: closed,
            message: `Invalid use of command API: ${call} fd ${closed} is not open`,
          });
        }
      }
      expect(fake.plans).toEqual([]);
      // open fds pass; unconfigured streams are not the caller's and are not checked
      sh().setInputFD(open).setOutputFD(open).setErrorFD({ fd: open }).runSync();
      sh().runSync();
      expect(fake.plans.map((p) => [p.stdin, p.stdout, p.stderr])).toEqual([
        [
          { type: 'fd', fd: open },
          { type: 'fd', fd: open },
          { type: 'fd', fd: open },
        ],
        [{ type: 'null' }, { type: 'capture', maxBuffer: MAX_LENGTH }, { type: 'capture', maxBuffer: MAX_LENGTH }],
      ]);
    } finally {
      fs.closeSync(open);
    }
  });

  it('closes CLOSE_PARENT fds in free() when never run', () => {
    const fd = fs.openSync('/dev/null', 'r');
    sh().passFD(fd, PASS_FD_CLOSE_PARENT).free();
    expect(() => fs.fstatSync(fd)).toThrow(/EBADF/);
  });
});

describe('dry run', () => {
  it('logs, answers, and applies the status policy', async () => {
    const log: string[] = [];
    const calls: unknown[] = [];
    setDryRun({
      log,
      stripPath: true,
      callback: (call) => {
        calls.push(call);
        return { status: call.argv.includes('fail') ? 1 : 0, stdout: 'o', stderr: 'e' };
      },
    });
    const r = new Command('/sbin/iptables', '-L').setInputBuffer('in').run();
    await expect(r).resolves.toMatchObject({ status: 0, stdout: 'o', stderr: 'e', pid: 0 });
    expect(() => new Command('x', 'fail').runSync()).toThrow('Child process (x fail) unexpected exit status 1: e');
    expect(new Command('x', 'fail').runSync({ status: true }).status).toBe(1);
    expect(log).toEqual(['iptables -L', 'x fail', 'x fail']);
    expect(calls[0]).toEqual({ argv: ['/sbin/iptables', '-L'], env: null, input: Buffer.from('in') });
    expect(fake.plans).toHaveLength(0);
  });
});
