/**
 * Mistakes refused before any fork, and failures that name what failed:
 * unknown option names (a typo `{ timout: 100 }` used to mean "no timeout"), setRlimit with
 * soft above hard, addArgPair('', v); an rlimit failure names its resource; a hook library that
 * cannot be loaded reports dlopen's own text.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command, type CommandError, pidWait, setDryRun } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { useTmpDir } from '../helpers/tmp';

// The error `p` throws or rejects with, or null; `p` may be a function that throws at once.
async function settled(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p);
    return null;
  } catch (e) {
    return e;
  }
}

describe('refused before any fork', () => {
  useInvariants();
  const tmp = useTmpDir();

  // A command that leaves a marker file if it ever runs.
  const marking = (): { cmd: Command; ran: () => boolean } => {
    const marker = path.join(tmp.path, `ran-${Math.random().toString(36).slice(2)}`);
    return { cmd: new Command('/bin/sh', '-c', 'touch "$1"', 'sh', marker), ran: () => fs.existsSync(marker) };
  };

  it('an unknown option name of run/runSync/runAsync/wait/abort: TypeError naming the method and the option, no child', async () => {
    const cases: [string, (c: Command) => unknown][] = [
      ['Command.run', (c) => c.run({ timout: 100 } as never)],
      ['Command.runSync', (c) => c.runSync({ statuss: true } as never)],
      ['Command.runAsync', (c) => c.runAsync({ autoreap: false } as never)],
    ];
    for (const [method, call] of cases) {
      const { cmd, ran } = marking();
      const e = (await settled(() => call(cmd))) as Error & { code?: string };
      expect(e, method).toBeInstanceOf(TypeError);
      expect(e.code).toBe('ERR_INVALID_ARG_VALUE');
      expect(e.message).toMatch(
        new RegExp(`^${method.replace('.', '\\.')}: argument 'options' has an unknown option '\\w+' \\(did you mean '\\w+'\\? known: `),
      );
      expect(ran(), `${method} forked`).toBe(false);
      expect(cmd.pid).toBeNull();
    }
    const e = (await settled(new Command('true').run({ timout: 100 } as never))) as Error;
    expect(e.message).toContain("unknown option 'timout' (did you mean 'timeout'?");
  });

  it('wait() and abort() refuse unknown options before touching the child; pidWait and toString too', async () => {
    const cmd = new Command('sleep', '5');
    cmd.runAsync();
    try {
      const w = (await settled(cmd.wait({ timeOut: 5 } as never))) as Error;
      expect(w).toBeInstanceOf(TypeError);
      expect(w.message).toMatch(/^Command\.wait: argument 'options' has an unknown option 'timeOut' \(did you mean 'timeout'\?/);
      const a = (await settled(cmd.abort({ grase: 5 } as never))) as Error;
      expect(a).toBeInstanceOf(TypeError);
      expect(a.message).toMatch(/^Command\.abort: argument 'options' has an unknown option 'grase' \(did you mean 'grace'\?/);
      expect(cmd.pid, 'the child still runs').not.toBeNull();
      expect(fs.existsSync(`/proc/${cmd.pid}`)).toBe(true);
    } finally {
      await cmd.abort();
    }
    expect(((await settled(pidWait(1, { stauts: true } as never))) as Error).message).toMatch(/^pidWait: argument 'options' has an unknown option 'stauts'/);
    expect(() => new Command('true').toString({ linebreak: true } as never)).toThrow(
      /^Command\.toString: argument 'options' has an unknown option 'linebreak' \(did you mean 'linebreaks'\?/,
    );
    expect(() => setDryRun({ logs: [] } as never)).toThrow(/^setDryRun: argument 'options' has an unknown option 'logs'/);
    // Known names with undefined values, and inherited keys, are fine.
    await new Command('true').run({ timeout: undefined, status: undefined });
    await new Command('true').run(Object.create({ timout: 1 }) as never);
  });

  it('setRlimit with soft above hard: RangeError naming the resource and both values', () => {
    const e = (() => {
      try {
        new Command('true').setRlimit('MEMLOCK', 2048, 1024);
      } catch (x) {
        return x as Error;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(RangeError);
    expect(e?.message).toBe("Command.setRlimit: argument 'soft' must not be above argument 'hard' (soft 2048 > hard 1024 for RLIMIT_MEMLOCK)");
    expect(() => new Command('true').setRlimit('CORE', Infinity, 0)).toThrow(/soft unlimited > hard 0 for RLIMIT_CORE/);
    expect(() => new Command('true').setRlimit('CORE', 0, Infinity).setRlimit('CORE', 5, 5).setRlimit('CORE', Infinity)).not.toThrow();
  });

  it("addArgPair('', value) is refused: '=value' is no pair", () => {
    expect(() => new Command('true').addArgPair('', 'v')).toThrow(/^Command\.addArgPair: argument 'name' must not be empty$/);
    expect(new Command('true').addArgPair('-a', '').toString()).toBe('true -a=');
  });
});

describe('failures name what failed', () => {
  useInvariants();

  it('an rlimit the kernel refuses names the resource and the values, not just value 7', async () => {
    const over = Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8')) + 1;
    const e = (await settled(new Command('/bin/true').setMaxFiles(over).run())) as CommandError;
    expect(e.message).toBe(`Child process (/bin/true) failed at stage 'rlimit': EPERM (Operation not permitted): RLIMIT_NOFILE (soft ${over}, hard ${over})`);
    expect({ stage: e.stage, code: e.code, value: e.value }).toEqual({ stage: 'rlimit', code: 'EPERM', value: 7 });
  });

  it("a hook library that cannot be loaded reports dlopen's text (and dlsym's), with code ERR_DLOPEN_FAILED", async () => {
    const missing = (await settled(new Command('/bin/true').setPreExecHook({ library: '/nonexistent/libhook.so', symbol: 'h' }).run())) as CommandError;
    expect(missing.message).toBe(
      "Child process (/bin/true) failed at stage 'hook': cannot load pre-exec hook: /nonexistent/libhook.so: cannot open shared object file: No such file or directory",
    );
    expect({ stage: missing.stage, code: missing.code, path: missing.path, pid: missing.pid }).toEqual({
      stage: 'hook',
      code: 'ERR_DLOPEN_FAILED',
      path: '/nonexistent/libhook.so',
      pid: null,
    });
    let sync: CommandError | null = null;
    try {
      new Command('/bin/true').setPreExecHook({ library: 'libc.so.6', symbol: 'vircommand_no_such_symbol' }).runSync();
    } catch (e) {
      sync = e as CommandError;
    }
    expect(sync?.message).toMatch(/failed at stage 'hook': cannot load pre-exec hook: \S*libc\.so\.6: undefined symbol: vircommand_no_such_symbol$/);
  });
});
