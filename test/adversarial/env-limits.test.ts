/**
 * Adversarial tests of the environment, arguments, cwd, umask and rlimits,
 * observed from outside the child through /proc/<pid>
 * (environ byte for byte, exe, cmdline, status, cwd, limits) while it waits:
 *
 * - environment construction: later entries win, '=' in values, bytes that
 *   are not UTF-8, addEnvPassCommon's exact set, an empty environment, no PATH
 *   unless asked;
 * - PATH resolution: the parent's PATH, resolved before the fork, the same
 *   under run() and runSync(); ENOENT naming the searched PATH; ./prog against
 *   the new cwd;
 * - umask 0o053 and 0 (which libvirt cannot set), and the cwd;
 * - rlimits in a parent started under `ulimit -Sn 1024` (Node raises its
 *   soft NOFILE): the default, soft 1024, NOFILE 0 with a program that only
 *   writes and with a failed exec, and core/memlock/nproc.
 *
 * libvirt-suite.test.ts has test5-8 and test15 in their plain form;
 * privileges.test.ts the rlimit setters through the helper's getrlimit.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { splitBytes, waitFor } from '../helpers/proc';
import { expectChildOk, runNodeChild } from '../helpers/node-child';
import { parseReport } from '../helpers/report';
import { useTmpDir } from '../helpers/tmp';
import { rejection, statusOf, thrown, waitForExec } from './support/process-tools';

useInvariants();
const tmp = useTmpDir('vc-adv-env-');

/**
 * Runs `cmd` (a helper that sleeps) with runAsync(), waits until the program is really running
 * (exe is `exe`, and the helper created its `--create` marker: the kernel sets the new
 * argv/environ bounds a moment after the vfork parent resumes), lets `look` inspect
 * /proc/<pid>, then aborts it.
 */
async function whileRunning<T>(cmd: Command, exe: string, marker: string, look: (pid: number) => T | Promise<T>): Promise<T> {
  const pid = cmd.runAsync();
  try {
    expect(await waitForExec(pid, exe), `pid ${pid} never exec'd ${exe}`).toBe(true);
    expect(await waitFor(() => fs.existsSync(marker), 5000), `pid ${pid} never created ${marker}`).toBe(true);
    return await look(pid);
  } finally {
    await cmd.abort({ grace: 0 });
  }
}

const sleeper = (...extra: string[]) => new Command(HELPER, '--no-stdio', '--sleep', '10000', ...extra);

/** /proc/<pid>/environ as its entries (Buffers, byte-exact). */
function environ(pid: number): Buffer[] {
  return splitBytes(fs.readFileSync(`/proc/${pid}/environ`), 0);
}

const hexSorted = (entries: Buffer[]) => entries.map((b) => b.toString('hex')).sort();

// -------------------------------------------------------------------------- environment

const ENV_SCRIPT = `
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  let seq = 0;
  // Waits for the helper's --create marker: only then are the new environ bounds set.
  const environOf = async (make) => {
    const marker = ARGS.dir + '/started-' + (++seq);
    const c = make(marker);
    const pid = c.runAsync();
    for (let i = 0; i < 2500 && !fs.existsSync(marker); i++) await sleep(2);
    const raw = fs.readFileSync('/proc/' + pid + '/environ');
    await c.abort({ grace: 0 });
    return raw.toString('hex');
  };
  const helper = (m) => new vc.Command(HELPER, '--no-stdio', '--create', m, '--sleep', '10000');
  emit({
    inherited: await environOf((m) => helper(m)),
    passRaw: await environOf((m) => helper(m).addEnvPass('RAW').addEnvPair('A', '1')),
    passCommon: await environOf((m) => helper(m).addEnvPassCommon()),
    empty: await environOf((m) => helper(m).addEnvPass('VC_ENV_TEST_NOT_SET')),
  });
`;

describe('environment construction', () => {
  it('(a) a cleared env: later A wins, B=x=y, a multibyte value, byte-exact, no PATH', async () => {
    const marker = path.join(tmp.path, 'started');
    const cmd = sleeper('--create', marker).addEnvPair('A', '1').addEnvString('B=x=y').addEnvPair('A', '2').addEnvPair('U', 'é€😀\t ');
    const got = await whileRunning(cmd, HELPER, marker, environ);
    expect(hexSorted(got)).toEqual(hexSorted(['A=2', 'B=x=y', 'U=é€😀\t '].map((s) => Buffer.from(s, 'utf8'))));
    expect(got.some((e) => e.toString('latin1').startsWith('PATH='))).toBe(false);
  });

  it('(a) a value of bytes that are not UTF-8 is passed byte for byte (addEnvPass), as inheriting does', () => {
    // bash puts the raw bytes ff fe 78 into RAW before node starts; Node itself cannot.
    const r = runNodeChild(ENV_SCRIPT, {
      args: { dir: tmp.path },
      prefix: [
        'bash',
        '-c',
        'export RAW="$(printf "\\377\\376x")" HOME=/home/vc USER=vcuser LOGNAME=vclog TMPDIR=/tmp/vc ' +
          'LD_LIBRARY_PATH=/nonexistent-lib LD_PRELOAD= LC_ALL=de_DE.UTF-8 LANG=de_DE.UTF-8 FOO=bar; exec "$@"',
        'bash',
      ],
    });
    const res = expectChildOk(r) as Record<'inherited' | 'passRaw' | 'passCommon' | 'empty', string>;
    const entries = (hex: string) => {
      const raw = Buffer.from(hex, 'hex');
      return raw.length === 0
        ? []
        : raw
            .toString('latin1')
            .split('\0')
            .filter((e, i, a) => i < a.length - 1 || e !== '');
    };
    const RAW = `RAW=${Buffer.from([0xff, 0xfe, 0x78]).toString('latin1')}`;
    // Control: inherited unchanged, the bytes are really there.
    expect(entries(res.inherited)).toContain(RAW);
    // Configured: exactly RAW (same bytes) and A=1.
    const hex = (l: string[]) => l.map((e) => Buffer.from(e, 'latin1').toString('hex')).sort();
    expect(hex(entries(res.passRaw)), `addEnvPass('RAW') must give the bytes 524157 3d fffe78 (RAW=\\xff\\xfex)`).toEqual(hex([RAW, 'A=1']));
  });

  it('(b) addEnvPassCommon: LC_ALL=C and exactly the listed variables the parent has; (c) an empty environment', () => {
    const r = runNodeChild(ENV_SCRIPT, {
      args: { dir: tmp.path },
      prefix: [
        'bash',
        '-c',
        'export RAW=x HOME=/home/vc USER=vcuser LOGNAME=vclog TMPDIR=/tmp/vc ' +
          'LD_LIBRARY_PATH=/nonexistent-lib LD_PRELOAD= LC_ALL=de_DE.UTF-8 LANG=de_DE.UTF-8 FOO=bar; exec "$@"',
        'bash',
      ],
    });
    const res = expectChildOk(r) as Record<'inherited' | 'passRaw' | 'passCommon' | 'empty', string>;
    const entries = (hex: string) => (hex === '' ? [] : Buffer.from(hex, 'hex').toString('latin1').split('\0').filter(Boolean));
    expect(entries(res.passCommon).sort()).toEqual([
      'HOME=/home/vc',
      'LC_ALL=C',
      'LD_LIBRARY_PATH=/nonexistent-lib',
      'LD_PRELOAD=',
      'LOGNAME=vclog',
      'PATH=/usr/bin:/bin',
      'TMPDIR=/tmp/vc',
      'USER=vcuser',
    ]);
    // (c): nothing at all, not even PATH.
    expect(res.empty).toBe('');
  });

  it('(c) an empty environment as the helper reports it, with run() and runSync()', async () => {
    const a = parseReport(String((await new Command(HELPER, '--log', '-', '--no-stdio').addEnvPass('VC_ENV_TEST_NOT_SET').run()).stdout));
    const b = parseReport(String(new Command(HELPER, '--log', '-', '--no-stdio').addEnvPass('VC_ENV_TEST_NOT_SET').runSync().stdout));
    expect(a.env).toEqual([]);
    expect(b.env).toEqual([]);
  });
});

// --------------------------------------------------------------------------------- PATH

describe("PATH resolution: the parent's PATH, before the fork", () => {
  /** Three directories with a copy of the helper named prog: the parent's PATH, the child's, the new cwd. */
  function setup(where: ('parent' | 'child' | 'cwd')[]): { parent: string; child: string; cwd: string } {
    const dirs = { parent: path.join(tmp.path, 'parent-path'), child: path.join(tmp.path, 'child-path'), cwd: path.join(tmp.path, 'cwd') };
    for (const [k, d] of Object.entries(dirs)) {
      fs.mkdirSync(d);
      if (where.includes(k as 'parent')) {
        fs.copyFileSync(HELPER, path.join(d, 'prog'));
        fs.chmodSync(path.join(d, 'prog'), 0o755);
      }
    }
    return dirs;
  }

  async function withParentPath<T>(dir: string, fn: () => Promise<T>): Promise<T> {
    const saved = process.env.PATH;
    process.env.PATH = `${dir}:${saved}`;
    try {
      return await fn();
    } finally {
      process.env.PATH = saved;
    }
  }

  const argv0 = (pid: number) => fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0];

  it("(a) only in the parent's PATH, and in both: the parent's copy runs, under run() and runSync()", async () => {
    for (const where of [['parent'], ['parent', 'child']] as ('parent' | 'child')[][]) {
      const d = setup(where);
      const want = path.join(d.parent, 'prog');
      await withParentPath(d.parent, async () => {
        const marker = path.join(tmp.path, 'started-a');
        fs.rmSync(marker, { force: true });
        const seen = await whileRunning(
          new Command('prog', '--no-stdio', '--create', marker, '--sleep', '10000').addEnvPair('PATH', d.child),
          want,
          marker,
          (pid) => ({ exe: fs.readlinkSync(`/proc/${pid}/exe`), argv0: argv0(pid) }),
        );
        expect(seen).toEqual({ exe: want, argv0: 'prog' });
        const r1 = parseReport(String((await new Command('prog', '--log', '-', '--no-stdio').addEnvPair('PATH', d.child).run()).stdout));
        const r2 = parseReport(String(new Command('prog', '--log', '-', '--no-stdio').addEnvPair('PATH', d.child).runSync().stdout));
        expect([r1.exe, r2.exe]).toEqual([want, want]);
        expect(r1.envMap.get('PATH')).toBe(d.child);
      });
      fs.rmSync(d.parent, { recursive: true });
      fs.rmSync(d.child, { recursive: true });
      fs.rmSync(d.cwd, { recursive: true });
    }
  });

  it("(b) only in the child's PATH: ENOENT at stage exec, naming the PATH searched, under run() and runSync()", async () => {
    const d = setup(['child']);
    const searched = process.env.PATH ?? '';
    const errs = [
      await rejection(new Command('prog', '--no-stdio').addEnvPair('PATH', d.child).run()),
      thrown(() => new Command('prog', '--no-stdio').addEnvPair('PATH', d.child).runSync()),
    ];
    for (const e of errs) {
      expect({ stage: e.stage, code: e.code, errno: e.errno }).toEqual({ stage: 'exec', code: 'ENOENT', errno: 2 });
      expect(e.message).toContain(searched);
      expect(e.message).toContain('prog');
    }
    expect(errs[0].message).toBe(errs[1].message);
  });

  it('(c) ./prog relative to the new working directory', async () => {
    const d = setup(['cwd']);
    const want = path.join(d.cwd, 'prog');
    expect(fs.existsSync(path.resolve('prog'))).toBe(false);
    const marker = path.join(tmp.path, 'started-c');
    const seen = await whileRunning(
      new Command('./prog', '--no-stdio', '--create', marker, '--sleep', '10000').setWorkingDirectory(d.cwd),
      want,
      marker,
      (pid) => ({ exe: fs.readlinkSync(`/proc/${pid}/exe`), argv0: argv0(pid), cwd: fs.readlinkSync(`/proc/${pid}/cwd`) }),
    );
    expect(seen).toEqual({ exe: want, argv0: './prog', cwd: d.cwd });
    const r1 = parseReport(String((await new Command('./prog', '--log', '-', '--no-stdio').setWorkingDirectory(d.cwd).run()).stdout));
    const r2 = parseReport(String(new Command('./prog', '--log', '-', '--no-stdio').setWorkingDirectory(d.cwd).runSync().stdout));
    expect([r1.exe, r2.exe]).toEqual([want, want]);
  });
});

// ------------------------------------------------------------------------ umask and cwd

describe('umask, including 0, and cwd', () => {
  it.each([
    ['0053', 0o053, 0o624],
    ['0000', 0, 0o666],
  ])('umask %s: the file is created with the right mode; Umask: and cwd from /proc', async (_name, mask, mode) => {
    const parentMask = process.umask();
    expect(parentMask, 'precondition: the parent umask differs').not.toBe(mask);
    const file = path.join(tmp.path, `f-${mask}`);
    const seen = await whileRunning(sleeper('--create', file).setUmask(mask).setWorkingDirectory(tmp.path), HELPER, file, (pid) => {
      return { umask: statusOf(pid).Umask, cwd: fs.readlinkSync(`/proc/${pid}/cwd`) };
    });
    expect(seen).toEqual({ umask: mask.toString(8).padStart(4, '0'), cwd: tmp.path });
    expect(fs.statSync(file).mode & 0o777).toBe(mode);
    // runSync too, from the helper's own view.
    const file2 = path.join(tmp.path, `g-${mask}`);
    const r = parseReport(
      String(new Command(HELPER, '--log', '-', '--no-stdio', '--create', file2).setUmask(mask).setWorkingDirectory(tmp.path).runSync().stdout),
    );
    expect(r.umask).toBe(mask);
    expect(r.cwd).toBe(tmp.path);
    expect(fs.statSync(file2).mode & 0o777).toBe(mode);
    expect(process.umask()).toBe(parentMask);
  });
});

// ------------------------------------------------------------------------------ rlimits

const RLIMIT_SCRIPT = `
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const limits = (pid) => {
    const o = {};
    for (const l of fs.readFileSync('/proc/' + pid + '/limits', 'utf8').split('\\n').slice(1)) {
      const m = /^(.+?)\\s{2,}(\\S+)\\s+(\\S+)/.exec(l);
      if (m) o[m[1].trim()] = [m[2], m[3]];
    }
    return o;
  };
  const observe = async (c) => {
    const pid = c.runAsync();
    for (let i = 0; i < 1000; i++) {
      let exe = null;
      try { exe = fs.readlinkSync('/proc/' + pid + '/exe'); } catch (e) {}
      if (exe === HELPER) break;
      await sleep(2);
    }
    const l = limits(pid);
    await c.abort({ grace: 0 });
    return l;
  };
  const outcome = async (f) => {
    try { const r = await f(); return { stdout: String(r.stdout), stderr: String(r.stderr), status: r.status }; }
    catch (e) { return { error: e.message, stage: e.stage, code: e.code, value: e.value, exitStatus: e.exitStatus }; }
  };
  const helper = () => new vc.Command(HELPER, '--no-stdio', '--sleep', '10000');
  const self = limits('self');
  const hard = Number(self['Max open files'][1]);
  const capEff = BigInt('0x' + status().CapEff);
  emit({
    self,
    capSysResource: (capEff & (1n << 24n)) !== 0n,
    a: await observe(helper()),
    b: await observe(helper().setRlimit('NOFILE', 1024, hard)),
    c: {
      run: await outcome(() => new vc.Command(HELPER, '--no-stdio', '--write-fdnum').setMaxFiles(0).run()),
      runSync: await outcome(async () => new vc.Command(HELPER, '--no-stdio', '--write-fdnum').setMaxFiles(0).runSync()),
      missing: await outcome(() => new vc.Command(HELPER + '-missing').setMaxFiles(0).run()),
      missingSync: await outcome(async () => new vc.Command(HELPER + '-missing').setMaxFiles(0).runSync()),
      directory: await outcome(() => new vc.Command('/tmp').setMaxFiles(0).run()),
    },
    d: await observe(helper().setMaxCoreSize(0).setMaxMemLock(65536).setMaxProcesses(777)),
    memlockInfinity: await outcome(() => new vc.Command(HELPER, '--log', '-', '--no-stdio').setMaxMemLock(Infinity).run()),
    memlockHard: self['Max locked memory'],
  });
`;

describe('rlimits, including the NOFILE Node raised', () => {
  it('a parent started under ulimit -Sn 1024: default, soft 1024, NOFILE 0, core/memlock/nproc', () => {
    const r = runNodeChild(RLIMIT_SCRIPT, { prefix: ['bash', '-c', 'ulimit -Sn 1024 && exec "$@"', 'bash'] });
    type Lim = Record<string, [string, string]>;
    type Outcome = { stdout?: string; stderr?: string; status?: number; error?: string; stage?: string; code?: string; value?: number; exitStatus?: number };
    const res = expectChildOk(r) as {
      self: Lim;
      capSysResource: boolean;
      a: Lim;
      b: Lim;
      d: Lim;
      memlockInfinity: Outcome;
      memlockHard: [string, string];
      c: Record<'run' | 'runSync' | 'missing' | 'missingSync' | 'directory', Outcome>;
    };
    const [nodeSoft, nodeHard] = res.self['Max open files'];
    // Precondition: Node raised its soft limit from 1024 to the hard limit (Node does so at
    // startup).
    expect(nodeSoft, `node's own NOFILE ${nodeSoft}/${nodeHard}`).toBe(nodeHard);
    expect(Number(nodeSoft)).toBeGreaterThan(1024);

    // (a) The default: the inherited raised value, or 1024 if vircommand restored it (the docs
    //     state neither; see the report). The hard limit is inherited either way.
    expect([nodeSoft, '1024'], `default NOFILE ${res.a['Max open files']}`).toContain(res.a['Max open files'][0]);
    expect(res.a['Max open files'][1]).toBe(nodeHard);
    // (b) soft 1024.
    expect(res.b['Max open files']).toEqual(['1024', nodeHard]);
    // (c) NOFILE 0: a program that only writes still starts and prints; a failed exec is still
    //     reported with its stage (the status pipe was open before the limit).
    for (const k of ['run', 'runSync'] as const) {
      expect(res.c[k], k).toEqual({ stdout: '1\n', stderr: '2\n', status: 0 });
    }
    for (const k of ['missing', 'missingSync'] as const) {
      expect(res.c[k], k).toMatchObject({ stage: 'exec', code: 'ENOENT', exitStatus: 127 });
    }
    expect(res.c.directory).toMatchObject({ stage: 'exec', code: 'EACCES', exitStatus: 126 });
    // (d) exact values.
    expect(res.d['Max core file size']).toEqual(['0', '0']);
    expect(res.d['Max locked memory']).toEqual(['65536', '65536']);
    expect(res.d['Max processes']).toEqual(['777', '777']);
    // Raising MEMLOCK above the hard limit needs CAP_SYS_RESOURCE: without it, a clear error.
    if (!res.capSysResource && res.memlockHard[1] !== 'unlimited') {
      expect(res.memlockInfinity).toMatchObject({ stage: 'rlimit', code: 'EPERM', value: 8, exitStatus: 125 });
    } else {
      expect(res.memlockInfinity.error).toBeUndefined();
      expect(parseReport(res.memlockInfinity.stdout!).rlimits.MEMLOCK).toEqual({ cur: Infinity, max: Infinity });
    }
  });
});
