/**
 * runRegex() and runNul() (issue 13 item 2): libvirt's virCommandRunRegex / virCommandRunNul,
 * parsing stdout while it streams. The matching rules are libvirt's (libvirt-facts.md, "Regex
 * and NUL helpers"): each line split as g_strsplit does, the prefix stripped, every regex
 * searched in the same line, the groups concatenated; NUL fields as getdelim does, the leftover
 * fields in one last call.
 */
import { describe, expect, it } from 'vitest';
import { Command, CommandError, setDryRun } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { liveChildren, sleep } from '../helpers/proc';
import { sanitizerSkip } from '../adversarial/support/common';

useInvariants();

const MiB = 2 ** 20;

/** A command that writes exactly `text` (cat fed from an input buffer: NUL bytes too). */
function writes(text: string): Command {
  return new Command('cat').setInputBuffer(text);
}

async function regexCalls(text: string, regexes: (RegExp | string)[], options?: Parameters<Command['runRegex']>[2]): Promise<[string[], number][]> {
  const calls: [string[], number][] = [];
  await writes(text).runRegex(regexes, (g, i) => {
    calls.push([g, i]);
  }, options);
  return calls;
}

describe('runRegex: libvirt\'s matching', () => {
  it('applies every regex to the same line, in order, and concatenates their groups', async () => {
    const text = 'vol1 10 GiB\nvol2 x GiB\nvol3 30 MiB\n';
    expect(await regexCalls(text, [/^(\S+) /, / (\d+) /, /(\w)iB$/])).toEqual([
      [['vol1', '10', 'G'], 0],
      [['vol3', '30', 'M'], 2],
    ]);
  });

  it('a line that fails any regex gets no call; the line index counts every line', async () => {
    expect(await regexCalls('a1\nb\nc3\n', [/([a-z])/, /(\d)/])).toEqual([[['a', '1'], 0], [['c', '3'], 2]]);
  });

  it('splits as g_strsplit: the text after the last newline is a line even when empty; empty output has none', async () => {
    expect(await regexCalls('a\n', [/^(.*)$/])).toEqual([[['a'], 0], [[''], 1]]);
    expect(await regexCalls('a\nb', [/^(.*)$/])).toEqual([[['a'], 0], [['b'], 1]]);
    expect(await regexCalls('', [/^(.*)$/])).toEqual([]);
    expect(await regexCalls('\n\n', [/^$/])).toEqual([[[], 0], [[], 1], [[], 2]]);
  });

  it('strips the prefix from lines that start with it; other lines are matched whole', async () => {
    const text = 'PV: /dev/a\n/dev/b\nxPV: /dev/c\n';
    expect(await regexCalls(text, [/^(\S+)$/], { prefix: 'PV: ' })).toEqual([[['/dev/a'], 0], [['/dev/b'], 1]]);
  });

  it('a group that took no part in the match is \'\'; `groups` takes the first n groups of each regex', async () => {
    expect(await regexCalls('b\n', [/(a)?(b)/])).toEqual([[['', 'b'], 0]]);
    expect(await regexCalls('k=v;x\n', [/(\w)=(\w)/, /;(\w)/], { groups: [1, 0] })).toEqual([[['k'], 0]]);
  });

  it('a global or sticky regex does not carry lastIndex from one line to the next; strings are regexes', async () => {
    expect(await regexCalls('ab\nab\nab\n', [/b/g, 'a(b)'])).toEqual([[['b'], 0], [['b'], 1], [['b'], 2]]);
  });

  it('no regexes: every line matches with no groups (libvirt with nregex 0)', async () => {
    expect(await regexCalls('x\ny', [])).toEqual([[[], 0], [[], 1]]);
  });

  it('resolves as run(): a non-zero exit throws, { status: true } returns it, stderr is quoted', async () => {
    const sh = (s: string) => new Command('/bin/sh', '-c', s);
    const err = (await sh('echo a; echo oops >&2; exit 3').runRegex([/(a)/], () => {}).catch((e: unknown) => e)) as CommandError;
    expect(err).toBeInstanceOf(CommandError);
    expect(err.exitStatus).toBe(3);
    expect(err.message).toMatch(/oops/);
    const seen: string[] = [];
    const r = await sh('echo a; exit 3').runRegex([/(a)/], ([g]) => { seen.push(g); }, { status: true });
    expect(r.status).toBe(3);
    expect(seen).toEqual(['a']);
    expect(r.stdout).toBe(''); // not captured: the stream had it
  });

  it('a callback that throws stops the run: the child is killed and reaped, the run rejects with that error', async () => {
    const cmd = new Command('/bin/sh', '-c', 'while :; do echo line; done');
    const boom = new Error('enough');
    let n = 0;
    const err = await cmd.runRegex([/line/], () => {
      if (++n === 1000) throw boom;
    }).catch((e: unknown) => e);
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
    const err = await cmd.runRegex([/line/], async () => {
      await sleep(1);
      throw new Error('async stop');
    }).catch((e: unknown) => e);
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

  it('under a dry run, parses the stdout the dry-run callback answers (as libvirt\'s tests do)', async () => {
    const log: string[] = [];
    setDryRun({ log, callback: () => ({ stdout: 'PV /dev/a vg0\nPV /dev/b vg1\n', status: 0 }) });
    try {
      const got: string[][] = [];
      const r = await new Command('pvs', '--noheadings').runRegex([/^PV (\S+) (\S+)$/], (g) => { got.push(g); });
      expect(got).toEqual([['/dev/a', 'vg0'], ['/dev/b', 'vg1']]);
      expect(r.stdout).toBe(''); // not captured: the stream had it
      expect(log).toEqual(['pvs --noheadings']);
      setDryRun({ callback: () => ({ stdout: 'a\0b\0c' }) });
      const fields: unknown[] = [];
      await new Command('x').runNul(2, (f) => { fields.push(f); });
      expect(fields).toEqual([['a', 'b'], ['c']]);
      setDryRun({ callback: () => ({ stdout: 'x\n' }) });
      await expect(new Command('x').runRegex([/x/], () => { throw new Error('cb'); })).rejects.toThrow('cb');
    } finally {
      setDryRun(null);
    }
  });

  it('misuse: an output already configured is refused as libvirt\'s output buffer would be', async () => {
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
    let bytes = 0;
    await cmd.runRegex([/ (\d+)$/], ([num]) => {
      n++;
      bytes += 100;
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

describe('runNul: libvirt\'s fields', () => {
  async function nulCalls(text: string, n: number): Promise<string[][]> {
    const calls: string[][] = [];
    await writes(text).runNul(n, (f) => {
      calls.push(f as string[]);
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

  it('newlines are data; encoding \'buffer\' gives Buffers', async () => {
    expect(await nulCalls('a\nb\0c', 2)).toEqual([['a\nb', 'c']]);
    const got: Buffer[][] = [];
    await writes('x\0y').runNul(2, (f) => {
      got.push(f as Buffer[]);
    }, { encoding: 'buffer' });
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
    const err = await cmd.runNul(3, () => {
      throw new Error('stop');
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe('stop');
  });
});
