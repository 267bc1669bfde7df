/**
 * The handshake: after runAsync(), handshakeWait() resolves
 * once the child has done every step but exec and waits; the parent acts on
 * the pid (here: moves it into a cgroup v2 group through cgroup.procs); then
 * handshakeNotify() lets it exec, and the program reports the new cgroup.
 * A child that fails before the handshake rejects handshakeWait() with the
 * stage that failed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command, CommandError } from '../../src/index';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { isAlive, waitFor } from '../helpers/proc';
import { parseReport } from '../helpers/report';
import { describeRoot } from '../helpers/root';
import { cgroup2Root } from '../helpers/cgroup';

useInvariants();


const v2Line = (text: string) => text.split('\n').find((l) => l.startsWith('0::'));

/** Field 19 of /proc/<pid>/stat (nice). */
function niceOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

describe('handshake', () => {
  it('the child waits after its last step and before exec until handshakeNotify()', async () => {
    const out: { value?: string | Buffer } = {};
    const cmd = new Command(HELPER, '--log', '-', '--no-stdio').setNice(3).requireHandshake().setOutputBuffer(out);
    const pid = cmd.runAsync();
    try {
      await cmd.handshakeWait();
      // Set up (nice applied) but not yet exec'd: still a copy of this node binary.
      expect(isAlive(pid)).toBe(true);
      expect(niceOf(pid)).toBe(3);
      expect(fs.readlinkSync(`/proc/${pid}/exe`)).toBe(fs.realpathSync(process.execPath));
      await new Promise((res) => setTimeout(res, 100));
      expect(fs.readlinkSync(`/proc/${pid}/exe`)).not.toBe(fs.realpathSync(HELPER));
      cmd.handshakeNotify();
      const r = await cmd.wait();
      expect(r.exitStatus).toBe(0);
      const rep = parseReport(String(out.value ?? r.stdout));
      expect(rep.pid).toBe(pid);
      expect(rep.nice).toBe(3);
    } finally {
      await cmd.abort();
    }
  });

  it('a child that fails before the handshake (bad cwd) rejects handshakeWait() with stage chdir', async () => {
    const cmd = new Command('true').setWorkingDirectory('/nonexistent/vc-handshake').requireHandshake();
    const pid = cmd.runAsync();
    const err = await cmd.handshakeWait().then(() => null, (e: unknown) => e as CommandError);
    expect(err).toBeInstanceOf(CommandError);
    expect(err!.stage).toBe('chdir');
    expect(err!.code).toBe('ENOENT');
    await cmd.wait().catch(() => undefined);
    expect(await waitFor(() => !isAlive(pid), 1000)).toBe(true);
  });

  it('abort() while the child waits at the handshake kills and reaps it', async () => {
    const cmd = new Command('true').requireHandshake();
    const pid = cmd.runAsync();
    await cmd.handshakeWait();
    expect(isAlive(pid)).toBe(true);
    await cmd.abort();
    expect(isAlive(pid)).toBe(false);
  });
});

describeRoot('handshake with a cgroup move (root)', () => {
  it('the parent moves the waiting child into a cgroup; after notify the program reports it', async (ctx) => {
    const found = cgroup2Root();
    if ('reason' in found) {
      console.warn(`[skip] handshake cgroup move: ${found.reason}`);
      ctx.skip();
      return;
    }
    const rel = `vc-handshake-${process.pid}-${Date.now()}`;
    const dir = path.join(found.root, rel);
    fs.mkdirSync(dir);
    const out: { value?: string | Buffer } = {};
    const cmd = new Command('cat', '/proc/self/cgroup').requireHandshake().setOutputBuffer(out);
    try {
      const pid = cmd.runAsync();
      await cmd.handshakeWait();
      const before = v2Line(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
      expect(before).not.toBe(`0::/${rel}`);
      fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid));
      expect(v2Line(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'))).toBe(`0::/${rel}`);
      cmd.handshakeNotify();
      const r = await cmd.wait();
      expect(v2Line(String(out.value ?? r.stdout))).toBe(`0::/${rel}`);
    } finally {
      await cmd.abort();
      await waitFor(() => fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim() === '', 2000);
      fs.rmdirSync(dir);
    }
  });
});
