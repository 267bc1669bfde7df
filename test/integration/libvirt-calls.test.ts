/**
 * The smaller libvirt 9-11 calls: addEnvFormat, addArgBuffer, getArgList,
 * getUID/getGID, getBinaryPath, toString's ToStringFull options, doAsyncIO. What the child
 * gets is read from the helper's report.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command, CommandError } from '../../src/index';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { parseReport } from '../helpers/report';
import { useTmpDir } from '../helpers/tmp';

useInvariants();
const tmp = useTmpDir('vc-calls-');

function fdFlags(fd: number): number {
  const m = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').match(/^flags:\s*([0-7]+)/m);
  return m ? parseInt(m[1], 8) : -1;
}

describe('arguments and environment (virCommandAddEnvFormat, AddArgBuffer, GetArgList)', () => {
  it('the child gets addEnvFormat entries and one argument per addArgBuffer', async () => {
    const log = path.join(tmp.path, 'report');
    await new Command(HELPER, '--log', log, '--no-stdio')
      .addEnvFormat('DISK%d=%s,size=%uM', 0, 'vda', 512)
      .addEnvFormat('LEVEL=%03d', 7)
      .addArgBuffer('file=', '/var/a b', ',format=raw')
      .addArgBuffer()
      .run();
    const r = parseReport(fs.readFileSync(log, 'utf8'));
    expect(r.env).toEqual(['DISK0=vda,size=512M', 'LEVEL=007']);
    expect(r.args.slice(1)).toEqual(['file=/var/a b,format=raw', '']);
  });

  it('addEnvFormat replaces an entry of the same name in place, as addEnvString', () => {
    const cmd = new Command('true').addEnvPair('A', '1').addEnvPair('B', '2').addEnvFormat('A=%s', 'x');
    expect(cmd.toString()).toBe('A=x B=2 true');
  });

  it('bad formats, values or results throw at once, naming the method', () => {
    expect(() => new Command('true').addEnvFormat('NOEQUALS%d', 1)).toThrow(/Command\.addEnvFormat: the formatted entry must have the form NAME=value/);
    expect(() => new Command('true').addEnvFormat('=%s', 'x')).toThrow(TypeError);
    expect(() => new Command('true').addEnvFormat('A=%d', 'x')).toThrow(/Command\.addEnvFormat/);
    expect(() => new Command('true').addEnvFormat('A=%s', 'a\0b')).toThrow(/NUL/);
    expect(() => new Command('true').addArgBuffer('a', 5 as unknown as string)).toThrow(/Command\.addArgBuffer.*parts\[1\]/);
  });

  it('getArgList() is a copy of argv[1..]', () => {
    const cmd = new Command('/bin/echo', 'a').addArgPair('-b', 'c');
    const list = cmd.getArgList();
    expect(list).toEqual(['a', '-b=c']);
    list.push('changed');
    expect(cmd.getArgList()).toEqual(['a', '-b=c']);
    expect(new Command('true').getArgList()).toEqual([]);
  });
});

describe('ids, binary path, ToStringFull, doAsyncIO', () => {
  it('getUID()/getGID(): -1 until set, then the value', () => {
    const cmd = new Command('true');
    expect([cmd.getUID(), cmd.getGID()]).toEqual([-1, -1]);
    cmd.setUID(65534).setGID(100);
    expect([cmd.getUID(), cmd.getGID()]).toEqual([65534, 100]);
  });

  it('getBinaryPath(): a name through the PATH, a path as given, ENOENT for a miss', () => {
    const found = new Command('sh').getBinaryPath();
    expect(path.isAbsolute(found)).toBe(true);
    expect(fs.statSync(found).isFile()).toBe(true);
    expect(new Command('./relative/prog').getBinaryPath()).toBe('./relative/prog');
    let err: unknown;
    try {
      new Command('vircommand-no-such-program').getBinaryPath();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).code).toBe('ENOENT');
    expect((err as CommandError).message).toBe("Cannot find 'vircommand-no-such-program' in path");
  });

  it('toString({ linebreaks, stripPath }) is virCommandToStringFull(cmd, linebreaks, stripCommandPath)', () => {
    const cmd = new Command('/usr/bin/qemu-system-x86_64', '-name', 'vm 1', '-S').addEnvPair('LC_ALL', 'C');
    expect(cmd.toString({ stripPath: true })).toBe("LC_ALL=C qemu-system-x86_64 -name 'vm 1' -S");
    expect(cmd.toString({ linebreaks: true, stripPath: true })).toBe("LC_ALL=C \\\nqemu-system-x86_64 \\\n-name 'vm 1' \\\n-S");
    expect(cmd.toString()).toBe("LC_ALL=C /usr/bin/qemu-system-x86_64 -name 'vm 1' -S");
  });

  it('doAsyncIO(): runAsync() pipes made for the caller get a non-blocking parent end, as with DoAsyncIO', async () => {
    const plain = { fd: -1 };
    const cmd1 = new Command('true').setOutputFD(plain);
    cmd1.runAsync();
    const async = { fd: -1 };
    const cmd2 = new Command('true').setOutputFD(async).doAsyncIO();
    cmd2.runAsync();
    try {
      expect(fdFlags(plain.fd) & fs.constants.O_NONBLOCK).toBe(0);
      expect(fdFlags(async.fd) & fs.constants.O_NONBLOCK).toBe(fs.constants.O_NONBLOCK);
    } finally {
      fs.closeSync(plain.fd);
      fs.closeSync(async.fd);
      await cmd1.wait();
      await cmd2.wait();
    }
  });
});
