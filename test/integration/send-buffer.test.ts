/**
 * setSendBuffer(fd, data) (libvirt's virCommandSetSendBuffer): the child reads `data` from fd
 * `fd`, fed by runSync()'s poll loop and by the event loop for run() and runAsync(). Observed
 * from the real child: the helper echoes what it reads from --readfd N (libvirt's
 * commandhelper), and reports the fds it holds; sha256sum reads the large buffers.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command, CommandError } from '../../src/index';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { describeRoot } from '../helpers/root';
import { parseReport } from '../helpers/report';
import { useTmpDir } from '../helpers/tmp';

useInvariants();
const tmp = useTmpDir('vc-send-');

const echoed = (data: string): string => `BEGIN STDOUT\n${data}END STDOUT\n`;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
// 17 MiB, not a multiple of the pipe size, with a pattern so an offset error shows.
const BIG = Buffer.alloc(17 * 2 ** 20 + 4099, 'libvirt-send-buffer/');

function usage(fn: () => unknown): CommandError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CommandError);
    return e as CommandError;
  }
  throw new Error('expected a CommandError');
}

describe('setSendBuffer: the child reads the data at the fd number given', () => {
  it('runSync(), run() and runAsync() deliver it at that number (helper --readfd)', async () => {
    const make = (fd: number, text: string): Command => new Command(HELPER, '--readfd', String(fd)).setSendBuffer(fd, text).setOutputBuffer({});
    expect(make(3, 'sync data\n').runSync().stdout).toBe(echoed('sync data\n'));
    expect((await make(9, 'async data\n').run()).stdout).toBe(echoed('async data\n'));
    const bg = make(12, 'background data\n');
    bg.runAsync();
    expect((await bg.wait()).stdout).toBe(echoed('background data\n'));
  });

  it('the child holds the read end at that number and nothing else of ours', async () => {
    const log = path.join(tmp.path, 'fds');
    await new Command(HELPER, '--log', log, '--no-stdio').setSendBuffer(7, 'x').run();
    const fds = [...parseReport(fs.readFileSync(log, 'utf8')).fds.keys()].sort((a, b) => a - b);
    expect(fds).toEqual([0, 1, 2, 7]);
    expect(parseReport(fs.readFileSync(log, 'utf8')).fds.get(7)).toMatch(/^pipe:/);
  });

  it('several buffers at the numbers our own pipes take next all arrive intact', async () => {
    // The spawn's own pipes (status, captures, the send pipes themselves) take the lowest free
    // numbers: targets there must not clobber them (spawn_fds.cc AvoidSendTargets), nor one
    // buffer's source another's target.
    const probe = Array.from({ length: 8 }, () => fs.openSync('/dev/null', 'r'));
    for (const fd of probe) fs.closeSync(fd);
    const fds = probe.filter((fd) => fd >= 3);
    const cmd = new Command(HELPER);
    for (const fd of fds) cmd.addArgList('--readfd', String(fd)).setSendBuffer(fd, `data for fd ${fd}\n`);
    const expected = echoed(fds.map((fd) => `data for fd ${fd}\n`).join(''));
    expect(cmd.runSync().stdout).toBe(expected);
    expect((await cmd.run()).stdout).toBe(expected);
    cmd.setOutputBuffer({}).runAsync();
    expect((await cmd.wait()).stdout).toBe(expected);
  });

  it("one buffer's target at the number another buffer's pipe takes: neither is clobbered", async () => {
    // run() makes, in order: the stdout and stderr capture pipes, the status pipe, then one
    // pipe per send buffer, each at the lowest free numbers. So free[6] and free[8] are the
    // read ends of the two send pipes: aiming the first buffer at free[8] would overwrite the
    // second's source in the child, unless the spawn moves sources off every target first.
    const probe = Array.from({ length: 12 }, () => fs.openSync('/dev/null', 'r'));
    for (const fd of probe) fs.closeSync(fd);
    const [a, b] = [probe[8], probe[10]];
    const r = await new Command(HELPER, '--readfd', String(a), '--readfd', String(b)).setSendBuffer(a, 'first\n').setSendBuffer(b, 'second\n').run();
    expect(r.stdout).toBe(echoed('first\nsecond\n'));
  });

  it('with stdin and output buffers, > 64 KiB each (libvirt test27)', () => {
    const one = `${'1'.repeat(131070)}\n`;
    const two = `${'2'.repeat(131070)}\n`;
    const input = `${'H'.repeat(131070)}\n`;
    const out = {};
    const err = {};
    new Command(HELPER, '--readfd', '3', '--readfd', '5')
      .setSendBuffer(3, one)
      .setSendBuffer(5, two)
      .setInputBuffer(input)
      .setOutputBuffer(out)
      .setErrorBuffer(err)
      .runSync();
    expect(out).toEqual({ value: `BEGIN STDOUT\n${input}${one}${two}END STDOUT\n` });
    expect(err).toEqual({ value: `BEGIN STDERR\n${input}${one}${two}END STDERR\n` });
  });

  it('17 MiB arrive whole with runSync(), run() and runAsync()', async () => {
    const want = `${sha256(BIG)}  -\n`;
    const make = (): Command => new Command('/bin/sh', '-c', 'sha256sum <&6').setSendBuffer(6, BIG);
    expect(make().runSync().stdout).toBe(want);
    expect((await make().run()).stdout).toBe(want);
    const bg = make().setOutputBuffer({});
    bg.runAsync();
    expect((await bg.wait()).stdout).toBe(want);
  });

  it('is written while the output is drained: a child that writes 8 MiB before reading does not deadlock', async () => {
    // The send pipe holds 1 MiB: a loop that wrote the buffer before reading stdout would wait
    // forever on a child waiting for its stdout to drain.
    const script = 'head -c 8388608 /dev/zero; sha256sum <&4';
    const want = sha256(BIG);
    const sync = new Command('/bin/sh', '-c', script).setSendBuffer(4, BIG).runSync({ encoding: 'buffer' });
    expect(sync.stdout.length).toBe(8388608 + 68);
    expect(sync.stdout.subarray(8388608).toString()).toBe(`${want}  -\n`);
    const run = await new Command('/bin/sh', '-c', script).setSendBuffer(4, BIG).run({ encoding: 'buffer' });
    expect(run.stdout.subarray(8388608).toString()).toBe(`${want}  -\n`);
  });

  it('a child that never reads 17 MiB and exits: no hang, no error, nothing left open', async () => {
    expect(new Command('true').setSendBuffer(5, BIG).runSync().status).toBe(0);
    expect((await new Command('true').setSendBuffer(5, BIG).run()).status).toBe(0);
    const bg = new Command('true').setSendBuffer(5, BIG);
    bg.runAsync();
    expect((await bg.wait()).status).toBe(0);
    // One that reads a little, then closes it (EPIPE for us, not an error).
    const r = await new Command('/bin/sh', '-c', 'head -c 5 <&5; exec 5<&-; sleep 0.1').setSendBuffer(5, BIG).run();
    expect(r.stdout).toBe('libvi');
  });

  it('kept for every run of the command (libvirt sends once)', async () => {
    const cmd = new Command('/bin/sh', '-c', 'cat <&3').setSendBuffer(3, 'again');
    expect((await cmd.run()).stdout).toBe('again');
    expect((await cmd.run()).stdout).toBe('again');
    expect(cmd.runSync().stdout).toBe('again');
  });

  it('through the fork() path too (handshake)', async () => {
    const cmd = new Command('/bin/sh', '-c', 'cat <&3').setSendBuffer(3, 'after handshake').setOutputBuffer({}).requireHandshake();
    cmd.runAsync();
    await cmd.handshakeWait();
    cmd.handshakeNotify();
    expect((await cmd.wait()).stdout).toBe('after handshake');
  });

  it('doAsyncIO() + runAsync() with input and output buffers (libvirt test21)', async () => {
    const out = {};
    const err = {};
    const cmd = new Command(HELPER).setInputBuffer('Hello world\n').setOutputBuffer(out).setErrorBuffer(err).doAsyncIO();
    cmd.runAsync();
    await cmd.wait();
    expect(out).toEqual({ value: 'BEGIN STDOUT\nHello world\nEND STDOUT\n' });
    expect(err).toEqual({ value: 'BEGIN STDERR\nHello world\nEND STDERR\n' });
  });
});

describeRoot('setSendBuffer with a new user namespace (root)', () => {
  it('a target at the number the id-map pipe takes: the child still waits for its maps, then reads', async () => {
    // run() makes the capture pipes (free[0-3]), the status pipe (free[4-5]), the send pipe
    // (free[6-7]), then the id-map pipe, whose read end (free[8]) the child reads at step 6,
    // after the send buffers are mapped at step 2.
    const probe = Array.from({ length: 10 }, () => fs.openSync('/dev/null', 'r'));
    for (const fd of probe) fs.closeSync(fd);
    const target = probe[8];
    const r = await new Command(HELPER, '--readfd', String(target))
      .unshare(['user'])
      .setUidMappings([{ inside: 0, outside: 0, count: 1 }])
      .setSendBuffer(target, 'in a user namespace\n')
      .run();
    expect(r.stdout).toBe(echoed('in a user namespace\n'));
  });
});

describe('setSendBuffer: misuse', () => {
  it('throws at once for an fd below 3 or data that is not bytes', () => {
    expect(() => new Command('true').setSendBuffer(2, 'x')).toThrow(RangeError);
    expect(() => new Command('true').setSendBuffer(2, 'x')).toThrow(/Command\.setSendBuffer.*'fd'/);
    expect(() => new Command('true').setSendBuffer(3, 5 as unknown as string)).toThrow(TypeError);
  });

  it('the run refuses two buffers on one fd, a clash with passFD, a daemon and exec()', () => {
    expect(usage(() => new Command('true').setSendBuffer(3, 'a').setSendBuffer(3, 'b').runSync()).message).toMatch(/two send buffers on fd 3/);
    const fd = fs.openSync('/dev/null', 'r');
    try {
      const cmd = new Command('true').setSendBuffer(fd, 'a').passFD(fd);
      expect(usage(() => cmd.runSync()).message).toMatch(new RegExp(`fd ${fd} is both passed`));
    } finally {
      fs.closeSync(fd);
    }
    expect(usage(() => new Command('true').setSendBuffer(3, 'a').daemonize().runSync()).code).toBe('ERR_COMMAND_USAGE');
    expect(usage(() => new Command('true').setSendBuffer(3, 'a').exec()).code).toBe('ERR_COMMAND_USAGE');
  });
});
