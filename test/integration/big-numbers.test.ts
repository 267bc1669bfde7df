/**
 * Large numeric values reach the real child as given: timers past
 * setTimeout's 2^31-1 ms, a kill grace past 2^31 ms (an int wrapped it negative: SIGKILL with no
 * SIGTERM), rlimits past 2^53 as bigints, ids past 2^31. test/unit/numeric-limits.test.ts has
 * the table of which values are accepted.
 */
import { describe, expect, it } from 'vitest';
import { Command, type CommandError } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { describeRoot } from '../helpers/root';

// A shell that answers SIGTERM with "TERM" on stdout and exit status 3, and otherwise waits.
const TERM_CATCHER = ['/bin/sh', '-c', 'trap "echo TERM; exit 3" TERM; echo up; while :; do sleep 0.02; done'] as const;

async function rejection(p: Promise<unknown>): Promise<CommandError> {
  try {
    await p;
  } catch (e) {
    return e as CommandError;
  }
  throw new Error('expected a rejection');
}

function thrown(fn: () => unknown): CommandError {
  try {
    fn();
  } catch (e) {
    return e as CommandError;
  }
  throw new Error('expected a throw');
}

// The child's own /proc/self/limits line for `label`: [soft, hard] as printed.
async function limitLine(cmd: Command, label: string): Promise<string[]> {
  const { stdout } = await cmd.run();
  const line = String(stdout)
    .split('\n')
    .find((l) => l.startsWith(label));
  if (!line) throw new Error(`no '${label}' line in:\n${stdout}`);
  return line.slice(26).trim().split(/\s+/).slice(0, 2);
}

describe('timers past 2^31-1 ms', () => {
  useInvariants();

  it('run({ timeout: 2 ** 31 }) lets a short child finish (setTimeout would have fired after 1 ms)', async () => {
    for (const timeout of [2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER]) {
      const r = await new Command('/bin/sh', '-c', 'sleep 0.2; echo done').run({ timeout });
      expect(r.stdout, `timeout ${timeout}`).toBe('done\n');
    }
  });

  it('runSync({ timeout: 2 ** 31 }) too', () => {
    const r = new Command('/bin/sh', '-c', 'sleep 0.1; echo done').runSync({ timeout: 2 ** 31 });
    expect(r.stdout).toBe('done\n');
  });

  it('a killGrace of 2^31 ms and more still sends SIGTERM first (it wrapped to a negative grace: SIGKILL at once)', async () => {
    for (const killGrace of [2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      const e = await rejection(new Command(...TERM_CATCHER).run({ timeout: 200, killGrace }));
      expect(e.code, `run killGrace ${killGrace}`).toBe('ETIMEDOUT');
      expect({ stdout: e.stdout, exit: e.exitStatus, signal: e.signal }).toEqual({ stdout: 'up\nTERM\n', exit: 3, signal: null });
      const s = thrown(() => new Command(...TERM_CATCHER).runSync({ timeout: 200, killGrace }));
      expect({ code: s.code, stdout: s.stdout, exit: s.exitStatus, signal: s.signal }, `runSync killGrace ${killGrace}`).toEqual({
        code: 'ETIMEDOUT',
        stdout: 'up\nTERM\n',
        exit: 3,
        signal: null,
      });
    }
  });

  it('abort({ grace: 2 ** 31 }) sends SIGTERM first', async () => {
    const out = {} as { value?: string | Buffer };
    const cmd = new Command(...TERM_CATCHER).setOutputBuffer(out);
    cmd.runAsync();
    const waited = cmd.wait({ status: true }).catch((e: CommandError) => e);
    await new Promise((r) => setTimeout(r, 200));
    await cmd.abort({ grace: 2 ** 31 });
    const e = (await waited) as CommandError;
    expect(e.code).toBe('ABORT_ERR');
    expect({ exit: e.exitStatus, signal: e.signal }).toEqual({ exit: 3, signal: null });
    expect(out.value).toBe('up\nTERM\n');
  });
});

describe('rlimits past 2^53', () => {
  useInvariants();

  it('a bigint soft limit reaches the child exactly; 2n ** 64n - 1n and "unlimited" are unlimited', async () => {
    // A clean environment: under the ASan pass an inherited LD_PRELOAD of libasan would make cat
    // set its own RLIMIT_CORE to 0 (ASan's disable_coredump) before it reads the limits.
    const cat = (): Command => new Command('cat', '/proc/self/limits').addEnvPair('PATH', '/usr/bin:/bin');
    expect(await limitLine(cat().setRlimit('FSIZE', 2n ** 62n + 1n, 2n ** 64n - 1n), 'Max file size')).toEqual(['4611686018427387905', 'unlimited']);
    expect(await limitLine(cat().setRlimit('FSIZE', 2 ** 32, 'unlimited'), 'Max file size')).toEqual(['4294967296', 'unlimited']);
    expect(await limitLine(cat().setMaxCoreSize(2 ** 53 - 1), 'Max core file size')).toEqual(['9007199254740991', '9007199254740991']);
  });
});

describeRoot('ids past 2^31 (root)', () => {
  useInvariants();

  it("setUID(2 ** 31) and setGID(2 ** 32 - 2) are the child's ids", async () => {
    const { stdout } = await new Command('cat', '/proc/self/status')
      .setUID(2 ** 31)
      .setGID(2 ** 32 - 2)
      .setGroups([2 ** 31 + 1])
      .run();
    const field = (name: string): string[] =>
      (
        String(stdout)
          .split('\n')
          .find((l) => l.startsWith(`${name}:`)) ?? ''
      )
        .split(/\s+/)
        .slice(1, 3);
    expect(field('Uid')).toEqual(['2147483648', '2147483648']);
    expect(field('Gid')).toEqual(['4294967294', '4294967294']);
    expect(field('Groups')[0]).toBe('2147483649');
  });
});
