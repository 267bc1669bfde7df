/**
 * The shape of a run's results and errors, with real children: errors carry exitCode (execa's
 * name) beside exitStatus, a message that quotes stderr without ending in a newline, and a
 * shortMessage without stderr; results always carry stdout/stderr ('' or an empty Buffer for
 * a stream the run did not capture), as their type says.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Command, CommandError } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { commandRejection as rejection } from '../helpers/rejection';

describe('CommandError shape', () => {
  useInvariants();

  it('a non-zero exit: message quotes stderr without its final newline; shortMessage has no stderr; exitCode = exitStatus', async () => {
    const cmd = new Command('/bin/sh', '-c', 'echo one >&2; echo two >&2; exit 3');
    const short = "Child process (/bin/sh -c 'echo one >&2; echo two >&2; exit 3') unexpected exit status 3";
    for (const e of [
      await rejection(cmd.run()),
      (() => {
        try {
          cmd.runSync();
        } catch (x) {
          return x as CommandError;
        }
        throw new Error('no throw');
      })(),
    ]) {
      expect(e.message).toBe(`${short}: one\ntwo`);
      expect(e.shortMessage).toBe(short);
      expect(e.stderr).toBe('one\ntwo\n');
      expect({ exitCode: e.exitCode, exitStatus: e.exitStatus }).toEqual({ exitCode: 3, exitStatus: 3 });
    }
  });

  it('stderr of only newlines or spaces adds nothing; a signal death has exitCode null', async () => {
    const e = await rejection(new Command('/bin/sh', '-c', 'printf "\\n \\n" >&2; exit 4').run());
    expect(e.message).toBe(`${e.shortMessage}`);
    expect(e.message).toMatch(/unexpected exit status 4$/);
    const k = await rejection(new Command('/bin/sh', '-c', 'kill -KILL $$').run());
    expect(k).toMatchObject({ exitCode: null, exitStatus: null, signal: 'SIGKILL', shortMessage: k.message });
    expect(k.message).toMatch(/unexpected fatal signal 9$/);
  });

  it('a failed stage: shortMessage is the message; exitCode is the env(1) status', async () => {
    const e = await rejection(new Command('/bin/true').setWorkingDirectory('/no/such/dir').run());
    expect(e).toMatchObject({ stage: 'chdir', code: 'ENOENT', exitCode: 125, exitStatus: 125, shortMessage: e.message });
    expect(e.message.endsWith('\n')).toBe(false);
    const missing = await rejection(new Command('/no/such/program').run());
    expect(missing).toMatchObject({ stage: 'exec', code: 'ENOENT', exitCode: 127 });
  });
});

describe('RunResult output is always present', () => {
  useInvariants();

  it('a stream sent to an fd is empty in the result, typed by encoding', async () => {
    const devnull = fs.openSync('/dev/null', 'w');
    try {
      const sh = (): Command => new Command('/bin/sh', '-c', 'echo out; echo err >&2');
      const r = await sh().setOutputFD(devnull).run();
      expect({ stdout: r.stdout, stderr: r.stderr }).toEqual({ stdout: '', stderr: 'err\n' });
      const b = sh().setErrorFD(devnull).runSync({ encoding: 'buffer' });
      expect(Buffer.isBuffer(b.stderr) && b.stderr.length).toBe(0);
      expect(b.stdout).toEqual(Buffer.from('out\n'));
    } finally {
      fs.closeSync(devnull);
    }
  });

  it('runAsync() + wait(): the /dev/null streams are empty strings; merged stderr is empty', async () => {
    const cmd = new Command('/bin/sh', '-c', 'echo out; echo err >&2');
    cmd.runAsync();
    const r = await cmd.wait();
    expect({ stdout: r.stdout, stderr: r.stderr }).toEqual({ stdout: '', stderr: '' });
    const both: { value?: string | Buffer } = {};
    const m = await new Command('/bin/sh', '-c', 'echo out; echo err >&2').setOutputBuffer(both).setErrorBuffer(both).run();
    expect({ stdout: m.stdout, stderr: m.stderr, both: both.value }).toEqual({ stdout: 'out\nerr\n', stderr: '', both: 'out\nerr\n' });
  });
});
