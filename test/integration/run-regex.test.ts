/**
 * runRegex() and runNul() (issue 13 item 2): libvirt's virCommandRunRegex / virCommandRunNul,
 * parsing stdout while it streams. The matching rules are libvirt's (libvirt-facts.md, "Regex
 * and NUL helpers"): each line split as g_strsplit does, the prefix stripped, every regex
 * searched in the same line, the groups concatenated; NUL fields as getdelim does, the leftover
 * fields in one last call.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Command, CommandError, setDryRun } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { liveChildren, sleep } from '../helpers/proc';
import { sanitizerSkip } from '../adversarial/support/common';
import { buildC, BUILD_DIR, FIXTURE_DIR } from '../helpers/build-helper';

useInvariants();

const MiB = 2 ** 20;

/** A command that writes exactly `text` (cat fed from an input buffer: NUL bytes too). */
function writes(text: string): Command {
  return new Command('cat').setInputBuffer(text);
}

async function regexCalls(text: string, regexes: (RegExp | string)[], options?: Parameters<Command['runRegex']>[2]): Promise<[string[], number][]> {
  const calls: [string[], number][] = [];
  await writes(text).runRegex(
    regexes,
    (g, i) => {
      calls.push([g, i]);
    },
    options,
  );
  return calls;
}

describe("runRegex: libvirt's matching", () => {
  it('applies every regex to the same line, in order, and concatenates their groups', async () => {
    const text = 'vol1 10 GiB\nvol2 x GiB\nvol3 30 MiB\n';
    expect(await regexCalls(text, [/^(\S+) /, / (\d+) /, /(\w)iB$/])).toEqual([
      [['vol1', '10', 'G'], 0],
      [['vol3', '30', 'M'], 2],
    ]);
  });

  it('a line that fails any regex gets no call; the line index counts every line', async () => {
    expect(await regexCalls('a1\nb\nc3\n', [/([a-z])/, /(\d)/])).toEqual([
      [['a', '1'], 0],
      [['c', '3'], 2],
    ]);
  });

  it('splits as g_strsplit: the text after the last newline is a line even when empty; empty output has none', async () => {
    expect(await regexCalls('a\n', [/^(.*)$/])).toEqual([
      [['a'], 0],
      [[''], 1],
    ]);
    expect(await regexCalls('a\nb', [/^(.*)$/])).toEqual([
      [['a'], 0],
      [['b'], 1],
    ]);
    expect(await regexCalls('', [/^(.*)$/])).toEqual([]);
    expect(await regexCalls('\n\n', [/^$/])).toEqual([
      [[], 0],
      [[], 1],
      [[], 2],
    ]);
  });

  it('strips the prefix from lines that start with it; other lines are matched whole', async () => {
    const text = 'PV: /dev/a\n/dev/b\nxPV: /dev/c\n';
    expect(await regexCalls(text, [/^(\S+)$/], { prefix: 'PV: ' })).toEqual([
      [['/dev/a'], 0],
      [['/dev/b'], 1],
    ]);
  });

  it("a group that took no part in the match is ''; `groups` takes the first n groups of each regex", async () => {
    expect(await regexCalls('b\n', [/(a)?(b)/])).toEqual([[['', 'b'], 0]]);
    expect(await regexCalls('k=v;x\n', [/(\w)=(\w)/, /;(\w)/], { groups: [1, 0] })).toEqual([[['k'], 0]]);
  });

  it('a global or sticky regex does not carry lastIndex from one line to the next; strings are regexes', async () => {
    expect(await regexCalls('ab\nab\nab\n', [/b/g, 'a(b)'])).toEqual([
      [['b'], 0],
      [['b'], 1],
      [['b'], 2],
    ]);
  });

  it('no regexes: every line matches with no groups (libvirt with nregex 0)', async () => {
    expect(await regexCalls('x\ny', [])).toEqual([
      [[], 0],
      [[], 1],
    ]);
  });

  it('resolves as run(): a non-zero exit throws, { status: true } returns it, stderr is quoted', async () => {
    const sh = (s: string) => new Command('/bin/sh', '-c', s);
    const err = (await sh('echo a; echo oops >&2; exit 3')
      .runRegex([/(a)/], () => {})
      .catch((e: unknown) => e)) as CommandError;
    expect(err).toBeInstanceOf(CommandError);
    expect(err.exitStatus).toBe(3);
    expect(err.message).toMatch(/oops/);
    const seen: string[] = [];
    const r = await sh('echo a; exit 3').runRegex(
      [/(a)/],
      ([g]) => {
        seen.push(g);
      },
      { status: true },
    );
    expect(r.status).toBe(3);
    expect(seen).toEqual(['a']);
    expect(r.stdout).toBe(''); // not captured: the stream had it
  });

  it('a callback that throws stops the run: the child is killed and reaped, the run rejects with that error', async () => {
    const cmd = new Command('/bin/sh', '-c', 'while :; do echo line; done');
    const boom = new Error('enough');
    let n = 0;
    const err = await cmd
      .runRegex([/line/], () => {
        if (++n === 1000) throw boom;
      })
      .catch((e: unknown) => e);
    expect(err).toBe(boom);
    expect(liveChildren()).toEqual([]);
  });

  it('an async callback is awaited (the child waits meanwhile); a rejection stops the run', async () => {
    const order: string[] = [];
    await writes('1\n2\n3\n').runRegex([/(\d)/], async ([d]) => {
      order.push(`start ${d}`);
      await sleep(5);
      order.push(`end ${d}`);
    });
    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    const cmd = new Command('/bin/sh', '-c', 'while :; do echo line; done');
    const err = await cmd
      .runRegex([/line/], async () => {
        await sleep(1);
        throw new Error('async stop');
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('async stop');
  });

  it('checks its arguments at once', () => {
    const cmd = new Command('true');
    expect(() => cmd.runRegex('x' as unknown as RegExp[], () => {})).toThrow(/Command.runRegex: argument 'regexes'/);
    expect(() => cmd.runRegex(['('], () => {})).toThrow(/argument 'regexes\[0\]' is not a valid regular expression/);
    expect(() => cmd.runRegex([3 as unknown as RegExp], () => {})).toThrow(TypeError);
    expect(() => cmd.runRegex([/a/], 'f' as unknown as () => void)).toThrow(/argument 'callback'/);
    expect(() => cmd.runRegex([/(a)/], () => {}, { groups: [2] })).toThrow(RangeError);
    expect(() => cmd.runRegex([/(a)/], () => {}, { groups: [] })).toThrow(/options.groups/);
    expect(() => cmd.runRegex([/a/], () => {}, { prefix: 3 as unknown as string })).toThrow(/options.prefix/);
    expect(() => cmd.runRegex([/a/], () => {}, { prefx: 'x' } as never)).toThrow(/unknown option 'prefx' \(did you mean 'prefix'/);
    expect(() => cmd.runNul(1, () => {}, { encodng: 'buffer' } as never)).toThrow(/Command.runNul: .*unknown option 'encodng'/);
  });

  it("under a dry run, parses the stdout the dry-run callback answers (as libvirt's tests do)", async () => {
    const log: string[] = [];
    setDryRun({ log, callback: () => ({ stdout: 'PV /dev/a vg0\nPV /dev/b vg1\n', status: 0 }) });
    try {
      const got: string[][] = [];
      const r = await new Command('pvs', '--noheadings').runRegex([/^PV (\S+) (\S+)$/], (g) => {
        got.push(g);
      });
      expect(got).toEqual([
        ['/dev/a', 'vg0'],
        ['/dev/b', 'vg1'],
      ]);
      expect(r.stdout).toBe(''); // not captured: the stream had it
      expect(log).toEqual(['pvs --noheadings']);
      setDryRun({ callback: () => ({ stdout: 'a\0b\0c' }) });
      const fields: unknown[] = [];
      await new Command('x').runNul(2, (f) => {
        fields.push(f);
      });
      expect(fields).toEqual([['a', 'b'], ['c']]);
      setDryRun({ callback: () => ({ stdout: 'x\n' }) });
      await expect(
        new Command('x').runRegex([/x/], () => {
          throw new Error('cb');
        }),
      ).rejects.toThrow('cb');
    } finally {
      setDryRun(null);
    }
  });

  it("misuse: an output already configured is refused as libvirt's output buffer would be", async () => {
    const cmd = new Command('true').setOutputBuffer();
    await expect(cmd.runRegex([/a/], () => {})).rejects.toThrow(/cannot specify output twice/);
  });

  it('100 MiB of lines: parsed as they stream, RSS stays bounded (a capture would hold it all)', async () => {
    const line = `${'x'.repeat(90)} 12345678`; // 100 bytes with its newline
    const total = 100 * MiB;
    const cmd = new Command('/bin/sh', '-c', `yes "$0" | head -c ${total}`, line);
    const rss0 = process.memoryUsage.rss();
    let peak = rss0;
    let n = 0;
    await cmd.runRegex([/ (\d+)$/], ([num]) => {
      n++;
      if (num !== '12345678') throw new Error(`bad group ${num}`);
      if ((n & 0xffff) === 0) peak = Math.max(peak, process.memoryUsage.rss());
    });
    // head cuts the last line short: it has no number and no newline, so it does not match.
    expect(n).toBe(Math.floor(total / 100));
    const why = sanitizerSkip('the RSS bound');
    if (why !== null) console.warn(`[skip] 100 MiB through runRegex: ${why}`);
    else expect(peak - rss0, `RSS grew by ${((peak - rss0) / MiB).toFixed(1)} MiB`).toBeLessThan(40 * MiB);
  }, 120_000);
});

describe('runRegex/runNul: what the callback keeps holds only itself', () => {
  function exposeGc(): () => void {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  }

  it('groups and fields kept from 100 MiB of output do not keep the chunks they were cut from', async () => {
    const gc = exposeGc();
    const line = `${'x'.repeat(90)} 12345678`; // 100 bytes with its newline
    const script = `yes "$0" | head -c ${100 * MiB}`;
    for (const nul of [false, true]) {
      const kept: string[] = [];
      let i = 0;
      const keep = (s: string | Buffer): void => {
        if (i++ % 100 === 0) kept.push(s as string); // about 1 MiB of the 100
      };
      gc();
      const heap0 = process.memoryUsage().heapUsed;
      if (nul) await new Command('/bin/sh', '-c', `${script} | tr '\\n' '\\0'`, line).runNul(1, ([f]) => keep(f));
      else await new Command('/bin/sh', '-c', script, line).runRegex([/^(x+ \d+)$/], ([g]) => keep(g));
      gc();
      const grown = process.memoryUsage().heapUsed - heap0;
      expect(kept.length).toBeGreaterThan(10_000);
      expect(grown, `${nul ? 'runNul' : 'runRegex'}: heap grew by ${(grown / MiB).toFixed(1)} MiB`).toBeLessThan(20 * MiB);
    }
  }, 120_000);

  it('a million async callbacks: memory stays flat while the call runs', async () => {
    const gc = exposeGc();
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    let peak = 0;
    let n = 0;
    await new Command('seq', '1', '1000000').runRegex([/^\d+$/], async () => {
      if (++n % 100_000 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - heap0);
      }
    });
    expect(n).toBe(1_000_000);
    expect(peak, `heap grew by ${(peak / MiB).toFixed(1)} MiB`).toBeLessThan(20 * MiB);
  }, 120_000);
});

describe("runNul: libvirt's fields", () => {
  async function nulCalls(text: string, n: number): Promise<string[][]> {
    const calls: string[][] = [];
    await writes(text).runNul(n, (f) => {
      calls.push(f);
    });
    return calls;
  }

  it('calls with every numColumns fields, then once with the fewer fields left', async () => {
    expect(await nulCalls('a\0b\0c\0d\0e\0', 2)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(await nulCalls('a\0b\0', 2)).toEqual([['a', 'b']]);
  });

  it('splits as getdelim: an empty field counts, text after the last NUL is a field, empty output has none', async () => {
    expect(await nulCalls('a\0\0b', 1)).toEqual([['a'], [''], ['b']]);
    expect(await nulCalls('\0', 1)).toEqual([['']]);
    expect(await nulCalls('', 3)).toEqual([]);
  });

  it("newlines are data; encoding 'buffer' gives Buffers", async () => {
    expect(await nulCalls('a\nb\0c', 2)).toEqual([['a\nb', 'c']]);
    const got: Buffer[][] = [];
    await writes('x\0y').runNul(
      2,
      (f) => {
        got.push(f);
      },
      { encoding: 'buffer' },
    );
    expect(got).toEqual([[Buffer.from('x'), Buffer.from('y')]]);
  });

  it('a non-zero exit rejects as run() does (libvirt waits with no status slot)', async () => {
    const err = await new Command('/bin/sh', '-c', 'printf "a\\0"; exit 2').runNul(1, () => {}).catch((e: unknown) => e);
    expect((err as CommandError).exitStatus).toBe(2);
  });

  it('checks numColumns at once (libvirt refuses 0)', () => {
    expect(() => new Command('true').runNul(0, () => {})).toThrow(RangeError);
    expect(() => new Command('true').runNul(0, () => {})).toThrow(/Command.runNul: argument 'numColumns'/);
    expect(() => new Command('true').runNul(1, null as unknown as () => void)).toThrow(TypeError);
  });

  it('a callback that throws kills the child and rejects with that error', async () => {
    const cmd = new Command('/bin/sh', '-c', 'while :; do printf "f\\0"; done');
    const err = await cmd
      .runNul(3, () => {
        throw new Error('stop');
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('stop');
  });
});

/** Runs `fn`, failing the test if it has not settled after `ms` (the bug it guards is a hang). */
async function settlesWithin<T>(what: string, ms: number, p: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} had not settled after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([
      p.then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      ),
      hang,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const never = (): Promise<never> => new Promise<never>(() => {});
const sh = (script: string): Command => new Command('/bin/sh', '-c', script);

describe('runRegex/runNul: the call ends on a timeout or an abort, whatever the callback does', () => {
  it("a timeout ends the call while the callback's promise never settles, after the child exited or while it runs", async () => {
    for (const cmd of [new Command('echo', 'a'), sh('echo a; exec sleep 30')]) {
      const { error } = await settlesWithin('runRegex', 10_000, cmd.runRegex([/a/], never, { timeout: 300 }));
      expect(error).toBeInstanceOf(CommandError);
      expect((error as CommandError).code).toBe('ETIMEDOUT');
      expect((error as CommandError).timedOut).toBe(true);
    }
    const { error } = await settlesWithin('runNul', 10_000, sh('printf "a\\0b\\0"; exec sleep 30').runNul(1, never, { timeout: 300 }));
    expect((error as CommandError).code).toBe('ETIMEDOUT');
    expect(liveChildren()).toEqual([]);
  });

  it("an AbortSignal ends the call while the callback's promise never settles", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('changed my mind')), 200);
    const { error } = await settlesWithin('runRegex', 10_000, sh('echo a; exec sleep 30').runRegex([/a/], never, { signal: ac.signal }));
    expect((error as CommandError).code).toBe('ABORT_ERR');
    expect((error as CommandError).cause).toBe(ac.signal.reason);
    expect(liveChildren()).toEqual([]);
  });

  it('abort() rejects the call with a CommandError ABORT_ERR while lines stream, and reaps the child', async () => {
    for (const nul of [false, true]) {
      const cmd = nul ? sh('while :; do printf "f\\0"; done') : sh('while :; do echo line; done');
      let calls = 0;
      const p = nul
        ? cmd.runNul(2, () => {
            calls++;
          })
        : cmd.runRegex([/line/], () => {
            calls++;
          });
      while (calls < 100) await sleep(5);
      await cmd.abort();
      const { error } = await settlesWithin('the aborted call', 10_000, p);
      expect(error, nul ? 'runNul' : 'runRegex').toBeInstanceOf(CommandError);
      expect((error as CommandError).code).toBe('ABORT_ERR');
      expect(liveChildren()).toEqual([]);
    }
  });

  it("abort() ends the call also once the child has exited and the callback's promise is still pending", async () => {
    const cmd = new Command('echo', 'a');
    let called!: () => void;
    const inCallback = new Promise<void>((resolve) => (called = resolve));
    const p = cmd.runRegex([/a/], () => {
      called();
      return never();
    });
    await inCallback;
    await sleep(100); // the child has exited by now
    await cmd.abort();
    const { error } = await settlesWithin('the aborted call', 10_000, p);
    expect((error as CommandError).code).toBe('ABORT_ERR');
  });

  it('a timeout fires on time while the callback parses a burst of lines (the parse yields to the event loop)', async () => {
    // 285 lines arrive at once; each callback takes 20 ms: 5.7 s of parsing if nothing yields.
    let calls = 0;
    const { error } = await settlesWithin(
      'runRegex',
      30_000,
      sh('seq 1 285; exec sleep 30').runRegex(
        [/\d/],
        () => {
          calls++;
          const until = Date.now() + 20;
          while (Date.now() < until) {
            /* a slow parser */
          }
        },
        { timeout: 300 },
      ),
    );
    expect((error as CommandError).code).toBe('ETIMEDOUT');
    expect(calls, 'lines parsed before the timeout ended the call').toBeLessThan(285 / 2);
    expect(liveChildren()).toEqual([]);
  });
});

describe("runRegex/runNul: the callback's error and the output are never lost", () => {
  it("a callback's error is what the call rejects with, whatever its code, also after the child exited", async () => {
    const mine = Object.assign(new Error('mine'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
    const err = await new Command('printf', 'a\\nb\\n')
      .runRegex([/./], async (_g, i) => {
        await sleep(50); // the child has exited meanwhile
        if (i === 1) throw mine;
      })
      .catch((e: unknown) => e);
    expect(err).toBe(mine);
    const err2 = await new Command('printf', 'a\\0')
      .runNul(1, () => {
        throw mine;
      })
      .catch((e: unknown) => e);
    expect(err2).toBe(mine);
  });

  it('a slow callback gets every line, also those still in the pipe when the child exits', async () => {
    let n = 0;
    await new Command('seq', '1', '100000').runRegex([/^\d+$/], async (_g, i) => {
      n++;
      if (i % 10_000 === 0) await sleep(250);
    });
    expect(n).toBe(100_000);
  }, 60_000);
});

describe('runRegex: a grandchild holding the pipe', () => {
  it('cannot hang the call: once the child has exited and no data came for a while, what was read counts', async () => {
    const got: string[] = [];
    const { value, error } = await settlesWithin(
      'runRegex',
      10_000,
      sh('echo a; (exec sleep 3 > /dev/null 2>&1 &); (exec sleep 3 &); echo b').runRegex([/^(\w)$/], ([g]) => {
        got.push(g);
      }),
    );
    expect(error).toBeUndefined();
    expect(value?.status).toBe(0);
    expect(got).toEqual(['a', 'b']);
  });
});

describe("runRegex: libvirt's parse after a successful run ({ parse: 'after-exit' })", () => {
  it('a failing run never calls the callback; the default streaming parse has called it by then', async () => {
    const streamed: string[] = [];
    const e1 = (await sh('echo a; exit 3')
      .runRegex([/(a)/], ([g]) => {
        streamed.push(g);
      })
      .catch((e: unknown) => e)) as CommandError;
    expect(e1.exitStatus).toBe(3);
    expect(streamed).toEqual(['a']);
    const after: string[] = [];
    const e2 = (await sh('echo a; exit 3')
      .runRegex(
        [/(a)/],
        ([g]) => {
          after.push(g);
        },
        { parse: 'after-exit' },
      )
      .catch((e: unknown) => e)) as CommandError;
    expect(e2.exitStatus).toBe(3);
    expect(after).toEqual([]);
  });

  it('parses once the child has exited; with { status: true } a non-zero exit is parsed too, as libvirt with an exitstatus slot', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vc-regex-'));
    try {
      const marker = path.join(dir, 'exited');
      const seen: [string, boolean][] = [];
      // the marker is made after the output: it exists only once the child is done
      const cmd = new Command('/bin/sh', '-c', 'echo a; echo b; sleep 0.2; : > "$0"; exit 3', marker);
      const r = await cmd.runRegex(
        [/(\w)/],
        ([g]) => {
          seen.push([g, fs.existsSync(marker)]);
        },
        { parse: 'after-exit', status: true },
      );
      expect(r.status).toBe(3);
      expect(seen).toEqual([
        ['a', true],
        ['b', true],
      ]);
      fs.rmSync(marker);
      const streamed: [string, boolean][] = [];
      await new Command('/bin/sh', '-c', 'echo a; sleep 0.2; : > "$0"', marker).runRegex([/(\w)/], ([g]) => {
        streamed.push([g, fs.existsSync(marker)]);
      });
      expect(streamed).toEqual([['a', false]]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a timeout still ends an after-exit call, and a bad parse option is refused at once', async () => {
    const { error } = await settlesWithin(
      'runRegex',
      10_000,
      sh('echo a; exec sleep 30').runRegex([/a/], () => {}, { parse: 'after-exit', timeout: 300 }),
    );
    expect((error as CommandError).code).toBe('ETIMEDOUT');
    expect(() => new Command('true').runRegex([/a/], () => {}, { parse: 'later' as never })).toThrow(/Command.runRegex: argument 'options.parse'/);
  });
});

describe("runRegex: lines and patterns as libvirt's GRegex matches them", () => {
  it('a line ending in \\r\\n matches `$` before the \\r, and `.` does not take the \\r (GRegex: any newline ends a line)', async () => {
    const text = 'vda 10\r\nvdb 20\r\n';
    expect(await regexCalls(text, ['^(\\S+) (\\d+)$'])).toEqual([
      [['vda', '10'], 0],
      [['vdb', '20'], 1],
    ]);
    expect(await regexCalls(text, [/^(\S+) (\d+)$/])).toEqual([
      [['vda', '10'], 0],
      [['vdb', '20'], 1],
    ]);
    expect(await regexCalls(text, ['^(.*)$'])).toEqual([
      [['vda 10'], 0],
      [['vdb 20'], 1],
      [[''], 2],
    ]);
    expect(await regexCalls(text, [/^(.*)$/])).toEqual([
      [['vda 10'], 0],
      [['vdb 20'], 1],
      [[''], 2],
    ]);
  });

  it('translates PCRE: POSIX classes, \\Z, (?P<name>...), (?P=name), a leading (?i), \\Q...\\E, Unicode \\d and \\w', async () => {
    expect(await regexCalls('disk12 x\n', ['^([[:alpha:]]+)([[:digit:]]+) '])).toEqual([[['disk', '12'], 0]]);
    expect(await regexCalls('end\r\nendx\n', ['end\\Z'])).toEqual([[[], 0]]);
    expect(await regexCalls('ab=ab\nab=ac\n', ['^(?P<k>\\w+)=(?P=k)$'])).toEqual([[['ab'], 0]]);
    expect(await regexCalls('VDA 1\nvdb 2\n', ['(?i)^(vd[a-z]) (\\d)'])).toEqual([
      [['VDA', '1'], 0],
      [['vdb', '2'], 1],
    ]);
    expect(await regexCalls('a.*b\naxxb\n', ['^a\\Q.*\\Eb$'])).toEqual([[[], 0]]);
    expect(await regexCalls('é٣ x\n', ['^(\\w)(\\d) '])).toEqual([[['é', '٣'], 0]]);
  });

  it('emulates atomic groups and possessive quantifiers (never retried), the groups numbered as PCRE numbers them', async () => {
    // a++ takes every 'a' and gives none back: "a++a" matches nothing, "a++b" matches
    expect(await regexCalls('aaa\naab\n', ['^a++a', '^(a++)b'])).toEqual([]);
    expect(await regexCalls('aab\n', ['^(a++)b'])).toEqual([[['aa'], 0]]);
    // (?>a|ab) keeps its first choice: "abc" fails where (?:a|ab)c would match
    expect(await regexCalls('abc\nac\n', ['^(?>a|ab)c$'])).toEqual([[[], 1]]);
    // the emulation's own groups do not shift the ones handed to the callback, nor a backreference
    expect(await regexCalls('x"a b"y\n', ['^(x)"([^"]*+)"(y)$'])).toEqual([[['x', 'a b', 'y'], 0]]);
    expect(await regexCalls('abbc\n', ['^(a)(?>(b))\\2(c)$'], { groups: [3] })).toEqual([[['a', 'b', 'c'], 0]]);
  });

  it("string patterns match as the installed GLib's GRegex matches them (libvirt's compile flags), groups included", async () => {
    const gm = buildC({ src: path.join(FIXTURE_DIR, 'gregex-match.c'), out: path.join(BUILD_DIR, 'gregex-match'), label: 'gregex-match' }).path;
    const probe = spawnSync(gm, ['x', 'x'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.warn(
        `[skip] GRegex comparison: ${probe.stdout.trim() === 'NOGLIB' ? 'libglib-2.0.so.0 is not installed' : `gregex-match failed: ${probe.stderr}`}`,
      );
      return;
    }
    const subjects = [
      'name\r',
      'vda 10\r',
      'vda 10',
      'a\rb',
      'ABC abc',
      'x\vy',
      'x\fy',
      'x\u0085y',
      'end\r',
      'end\v',
      'ab١23',
      'héllo wörld',
      'éfoo bar',
      '  tab\there',
      'a.b',
      'aab',
      'ab=ab',
      'x"a b"y',
      'PV /dev/sda1 vg0\r',
      '12:34:56',
      'Straße',
      'a\u180eb',
      'a\u00a0b',
      '',
    ];
    const patterns = [
      '^(.*)$',
      '^(\\S+) (\\d+)$',
      '(.)$',
      'a.b',
      '(?s)a.b',
      '([[:digit:]]+)',
      '([[:alpha:]]+)',
      '([[:alnum:]_]+)',
      '([[:space:]]+)',
      '(\\w+)',
      '(\\s+)',
      '(\\S+)$',
      '\\bfoo\\b',
      '(end)\\Z',
      'end\\z',
      '(?i)(abc)',
      '(?P<k>\\w+)=(?P=k)',
      '(a++)b',
      '(?>a|ab)b',
      '"([^"]*+)"',
      '(\\h+)',
      '(\\v)',
      '(?m)^b',
      '[^\\d]+',
      '\\x{e9}',
      '(a)?b',
      '(\\d+):(\\d+)(?::(\\d+))?',
      '^\\s*(\\S+)\\s*$',
      '(?x) v d a',
      '[[:^digit:]]+',
    ];
    const text = subjects.join('\n');
    for (const pattern of patterns) {
      const ref = spawnSync(gm, [pattern, ...subjects], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n');
      const expected = ref.map((l) => {
        if (!l.startsWith('MATCH')) return l;
        const groups = l
          .split(' ')
          .slice(2)
          .map((h) => (h === '-' ? '' : Buffer.from(h, 'hex').toString('utf8')));
        return `MATCH ${JSON.stringify(groups)}`;
      });
      const got: string[] = subjects.map(() => 'NOMATCH');
      await writes(text).runRegex([pattern], (groups, line) => {
        got[line] = `MATCH ${JSON.stringify(groups)}`;
      });
      expect(got, `pattern ${JSON.stringify(pattern)}`).toEqual(expected);
    }
  });

  it('refuses at call time, naming the pattern and construct, what it cannot match as GRegex would', () => {
    const cmd = new Command('true');
    const refused: [string | RegExp, RegExp][] = [
      ['(a)++b', /regexes\[0\]' cannot be matched as libvirt's GRegex would: the possessive quantifier \+\+ on a group with captures/],
      ['(?|(a)|(b))', /the branch-reset group/],
      ['a(?i)b', /case-insensitivity for part of a pattern/],
      ['[[:punct:]]', /the POSIX class \[:punct:\]/],
      ['\\1(a)', /a group not opened before it/],
      [/[[:digit:]]+/, /\[:digit:\] is a POSIX class; in a JavaScript RegExp it is a set of characters/],
      // eslint-disable-next-line no-useless-escape -- the escape JavaScript ignores is what this case is about
      [/x\Z/, /\\Z is a PCRE escape; in a JavaScript RegExp it is the letter 'Z'/],
    ];
    for (const [pattern, why] of refused) {
      expect(() => cmd.runRegex([pattern], () => {}), String(pattern)).toThrow(why);
      expect(() => cmd.runRegex([/ok/, pattern], () => {}), String(pattern)).toThrow(/Command.runRegex: argument 'regexes\[1\]'/);
    }
    expect(liveChildren()).toEqual([]);
  });
});
