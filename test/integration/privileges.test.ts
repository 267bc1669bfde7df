/**
 * Capabilities, credentials, supplementary groups, resource limits and
 * no_new_privs, each observed from inside the child through the helper's
 * report of /proc/self/status and getrlimit, and by functional probes (bind 127.0.0.1:80, a raw socket,
 * setuid(0)).
 *
 * The report is written to stdout (`--log -`, `--no-stdio`) so that a child
 * running as nobody needs no writable directory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { HELPER, netRawHelperCopy } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { parseReport, type HelperReport } from '../helpers/report';
import { describeRoot } from '../helpers/root';
import { useTmpDir } from '../helpers/tmp';
import { commandRejection as rejection } from '../helpers/rejection';

useInvariants();
const tmp = useTmpDir('vc-priv-');

const NOBODY = 65534;
const CAP_CHOWN = 0;
const CAP_NET_BIND_SERVICE = 10;
const CAP_NET_RAW = 13;
const bit = (cap: number) => 1n << BigInt(cap);

/** A helper command that prints its report on stdout. */
function helper(...extra: string[]): Command {
  return new Command(HELPER, '--log', '-', '--no-stdio', ...extra);
}

async function report(cmd: Command): Promise<HelperReport> {
  const r = await cmd.run();
  return parseReport(String(r.stdout));
}

const ids = (n: number) => ({ real: n, effective: n, saved: n, fs: n });

describeRoot('capabilities (root)', () => {
  it('clearCaps() as root empties all five sets, and root can no longer bind port 80', async () => {
    // The test process really holds CAP_NET_BIND_SERVICE: otherwise the probe proves nothing.
    const control = await report(helper('--bind-probe', '80'));
    expect(control.capEff & bit(CAP_NET_BIND_SERVICE)).not.toBe(0n);
    expect(control.bind.get(80)).toBe('ok');

    const r = await report(helper('--bind-probe', '80', '--rawsock-probe').clearCaps());
    expect(r.uid).toEqual(ids(0));
    expect({ inh: r.capInh, prm: r.capPrm, eff: r.capEff, bnd: r.capBnd, amb: r.capAmb }).toEqual({ inh: 0n, prm: 0n, eff: 0n, bnd: 0n, amb: 0n });
    expect(r.bind.get(80)).toBe('EACCES');
    expect(r.rawsock).toBe('EPERM');
  });

  it("allowCap('CAP_NET_BIND_SERVICE') as nobody: binds 127.0.0.1:80, and nothing else is kept", async () => {
    const r = await report(helper('--bind-probe', '80', '--rawsock-probe', '--setuid0-probe').setUID(NOBODY).setGID(NOBODY).allowCap('CAP_NET_BIND_SERVICE'));
    expect(r.uid).toEqual(ids(NOBODY));
    expect(r.gid).toEqual(ids(NOBODY));
    const want = bit(CAP_NET_BIND_SERVICE);
    expect({ inh: r.capInh, prm: r.capPrm, eff: r.capEff, bnd: r.capBnd, amb: r.capAmb }).toEqual({ inh: want, prm: want, eff: want, bnd: want, amb: want });
    expect(r.bind.get(80)).toBe('ok');
    expect(r.rawsock).toBe('EPERM');
    expect(r.setuid0).toBe('EPERM');
  });

  it('two kept caps (name and number) survive the uid change and reach a grandchild', async () => {
    const want = bit(CAP_NET_BIND_SERVICE) | bit(CAP_CHOWN); // 0x401
    const r = await report(helper('--bind-probe', '80', '--rawsock-probe').setUID(NOBODY).setGID(NOBODY).allowCap('CAP_NET_BIND_SERVICE').allowCap(CAP_CHOWN));
    expect(r.capAmb).toBe(want);
    expect(r.capEff).toBe(want);
    expect(r.capPrm).toBe(want);
    expect(r.capBnd).toBe(want);
    expect(r.bind.get(80)).toBe('ok');
    expect(r.rawsock).toBe('EPERM');

    // sh forks grep (not the last command), so grep is the child's child.
    const out = await new Command('/bin/sh', '-c', 'grep -E "^Cap(Amb|Eff|Prm)" /proc/self/status; true')
      .setUID(NOBODY)
      .setGID(NOBODY)
      .allowCap('CAP_NET_BIND_SERVICE')
      .allowCap(CAP_CHOWN)
      .run();
    expect(String(out.stdout).split('\n').filter(Boolean).sort()).toEqual([
      'CapAmb:\t0000000000000401',
      'CapEff:\t0000000000000401',
      'CapPrm:\t0000000000000401',
    ]);
  });

  it("setUID/setGID to nobody drops root's groups, all caps, and cannot go back", async () => {
    const r = await report(helper('--setuid0-probe').setUID(NOBODY).setGID(NOBODY));
    expect(r.uid).toEqual(ids(NOBODY));
    expect(r.gid).toEqual(ids(NOBODY));
    // getgrouplist("nobody", 65534): only nobody's own group, never root's 0.
    expect(r.groups.length === 0 || (r.groups.length === 1 && r.groups[0] === NOBODY), `Groups: ${r.groups}`).toBe(true);
    expect(r.groups).not.toContain(0);
    expect(r.setuid0).toBe('EPERM');
    expect({ prm: r.capPrm, eff: r.capEff, amb: r.capAmb }).toEqual({ prm: 0n, eff: 0n, amb: 0n });
  });

  it('setGroups() sets exactly the given list, including an empty one', async () => {
    const two = await report(helper().setUID(NOBODY).setGID(NOBODY).setGroups([100, NOBODY]));
    expect([...two.groups].sort((a, b) => a - b)).toEqual([100, NOBODY]);
    const none = await report(helper().setUID(NOBODY).setGID(NOBODY).setGroups([]));
    expect(none.groups).toEqual([]);
    expect(none.gid).toEqual(ids(NOBODY));
  });

  it('setGID() alone changes the gid and keeps uid 0', async () => {
    const r = await report(helper().setGID(NOBODY));
    expect(r.gid).toEqual(ids(NOBODY));
    expect(r.uid).toEqual(ids(0));
  });

  it('no_new_privs stops a file capability from being gained across exec', async (ctx) => {
    // A copy of the helper with cap_net_raw+ep in a directory nobody can reach.
    const copy = netRawHelperCopy(tmp.path, ctx);
    const run = (nnp: boolean) => {
      const c = new Command(copy, '--log', '-', '--no-stdio', '--rawsock-probe').setUID(NOBODY).setGID(NOBODY);
      return report(nnp ? c.setNoNewPrivs() : c);
    };
    // Control: without no_new_privs the file capability is granted.
    const gained = await run(false);
    expect(gained.noNewPrivs).toBe(false);
    expect(gained.capEff).toBe(bit(CAP_NET_RAW));
    expect(gained.rawsock).toBe('ok');

    const r = await run(true);
    expect(r.noNewPrivs).toBe(true);
    expect(r.capEff & bit(CAP_NET_RAW)).toBe(0n);
    expect(r.capPrm).toBe(0n);
    expect(r.rawsock).toBe('EPERM');
  });
});

describe('resource limits', () => {
  it('setMaxFiles(n) sets exactly n, soft and hard', async () => {
    const r = await report(helper().setMaxFiles(777));
    expect(r.rlimits.NOFILE).toEqual({ cur: 777, max: 777 });
  });

  it('setMaxProcesses, setMaxMemLock and setMaxCoreSize set soft = hard = the value', async () => {
    const r = await report(
      helper()
        .setMaxProcesses(4321)
        .setMaxMemLock(1 << 20)
        .setMaxCoreSize(3 << 20),
    );
    expect(r.rlimits.NPROC).toEqual({ cur: 4321, max: 4321 });
    expect(r.rlimits.MEMLOCK).toEqual({ cur: 1 << 20, max: 1 << 20 });
    expect(r.rlimits.CORE).toEqual({ cur: 3 << 20, max: 3 << 20 });
  });

  it('setRlimit(resource, soft, hard) sets different soft and hard limits', async () => {
    const r = await report(helper().setRlimit('NOFILE', 100, 200).setRlimit('RLIMIT_CORE', 0, Infinity));
    expect(r.rlimits.NOFILE).toEqual({ cur: 100, max: 200 });
    expect(r.rlimits.CORE).toEqual({ cur: 0, max: Infinity });
  });

  it('a soft limit above the hard one is refused by setRlimit (RangeError), before any fork', () => {
    expect(() => new Command(HELPER).setRlimit('NOFILE', 300, 200)).toThrow(RangeError);
  });

  it('a limit the kernel refuses fails at stage rlimit, naming the resource, before the program runs', async () => {
    const marker = path.join(tmp.path, 'ran');
    const over = Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8')) + 1; // EPERM, even for root
    const err = await rejection(new Command(HELPER, '--create', marker).setMaxFiles(over).run());
    expect(err.stage).toBe('rlimit');
    expect(err.code).toBe('EPERM');
    expect(err.value).toBe(7);
    expect(err.message).toContain(`RLIMIT_NOFILE (soft ${over}, hard ${over})`);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it("the parent's own limits are untouched", async () => {
    const before = fs.readFileSync('/proc/self/limits', 'utf8');
    await report(helper().setMaxFiles(64).setMaxProcesses(64));
    expect(fs.readFileSync('/proc/self/limits', 'utf8')).toBe(before);
  });
});
