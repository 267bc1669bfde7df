/**
 * Self-checks of the test harness, independent of vircommand: the helper is
 * started with child_process in known states and its report must say so;
 * the parser rejects what it does not understand; the /proc readers see
 * zombies and children. If these fail, integration failures mean nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HELPER } from './helper';
import { useInvariants } from './invariants';
import { childrenOf, liveChildren, openFds, procStat, sigState, waitFor, zombieChildren } from './proc';
import { parseReport, readReport, sigBit, unescapeValue } from './report';
import { useTmpDir } from './tmp';

useInvariants();
const tmp = useTmpDir('vc-harness-');

function helperVia(args: string[], opts: { env?: Record<string, string>; cwd?: string; shell?: string; input?: string } = {}) {
  const log = path.join(tmp.path, 'h.log');
  const argv = opts.shell ? ['bash', '--norc', '-c', `${opts.shell}; exec "$@"`, 'bash', HELPER, '--log', log, ...args] : [HELPER, '--log', log, ...args];
  const r = spawnSync(argv[0], argv.slice(1), {
    env: opts.env ?? { PATH: '/usr/bin:/bin' },
    cwd: opts.cwd ?? tmp.path,
    input: opts.input ?? '',
    encoding: 'utf8',
  });
  return { r, report: readReport(log) };
}

describe('the helper program and its report', () => {
  it('is a static executable', () => {
    const elf = fs.readFileSync(HELPER);
    expect(elf.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(elf[4]).toBe(2); // ELFCLASS64
    // static: no PT_INTERP (3) program header, so no dynamic loader runs first
    const phoff = Number(elf.readBigUInt64LE(0x20));
    const phentsize = elf.readUInt16LE(0x36);
    const phnum = elf.readUInt16LE(0x38);
    const types = Array.from({ length: phnum }, (_, i) => elf.readUInt32LE(phoff + i * phentsize));
    expect(types.length).toBeGreaterThan(0);
    expect(types).not.toContain(3);
  });

  it('reports args (verbatim, escaped), sorted env, cwd, umask, ids', () => {
    const { r, report } = helperVia(['-version', '', 'a\nb', 'back\\slash'], {
      env: { ZED: '1', A_B: 'x', A: 'y=z', 'A=B': 'odd' },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('BEGIN STDOUT\nEND STDOUT\n');
    expect(r.stderr).toBe('BEGIN STDERR\nEND STDERR\n');
    expect(report.args).toEqual(['-version', '', 'a\nb', 'back\\slash']);
    expect(report.rawArgs.slice(0, 1)).toEqual(['--log']);
    // sorted by name, '=' ends the name: "A" < "A_B" < "ZED"; "A=B=odd" has name "A" too
    expect(report.env).toEqual(['A=B=odd', 'A=y=z', 'A_B=x', 'ZED=1']);
    expect(report.cwd).toBe(tmp.path);
    expect(report.uid.real).toBe(process.getuid!());
    expect(report.gid.effective).toBe(process.getegid!());
    expect(report.exe).toBe(HELPER);
    const self = procStat('self')!;
    expect(report.ppid).toBe(process.pid);
    expect(report.pgid).toBe(self.pgrp);
    expect(report.sid).toBe(self.session);
    // libvirt's DAEMON test is getpgrp() != getppid(): only "no" when the
    // parent leads its process group, which a vitest worker does not
    expect(report.daemon).toBe(self.pgrp !== process.pid);
  });

  it('lists inherited fds with targets, and not its own', () => {
    const f = path.join(tmp.path, 'target');
    fs.writeFileSync(f, '');
    const { report } = helperVia([], { shell: `exec 7<${f} 9</dev/null 12>&2` });
    expect(report.fds.get(7)).toBe(f);
    expect(report.fds.get(9)).toBe('/dev/null');
    expect(report.fds.has(12)).toBe(true);
    const parentLeaks = [...openFds().entries()].filter(([fd]) => fd > 2);
    // fds the environment leaked into us (not CLOEXEC) are legitimately
    // inherited by bash and so by the helper; none other may appear
    const expected = new Set([0, 1, 2, 7, 9, 12]);
    for (const fd of report.fds.keys()) {
      if (!expected.has(fd)) {
        expect(
          parentLeaks.some(([p]) => p === fd),
          `unexpected fd ${fd} -> ${report.fds.get(fd)}`,
        ).toBe(true);
      }
    }
    expect(report.fdFlags.get(7)! & 0o3).toBe(0); // O_RDONLY
  });

  it('reports signal state, rlimits and probes', () => {
    const { report } = helperVia(['--create', path.join(tmp.path, 'made'), '--bind-probe', '0'], {
      shell: 'trap "" USR2; ulimit -n 512; umask 027',
    });
    expect(report.umask).toBe(0o027);
    expect(report.sigIgn & sigBit(12)).toBe(sigBit(12));
    expect(report.rlimits.NOFILE).toEqual({ cur: 512, max: 512 });
    expect(report.create).toEqual({ path: path.join(tmp.path, 'made'), result: 'ok' });
    expect(report.bind.get(0)).toBe('ok');
    expect(fs.statSync(path.join(tmp.path, 'made')).mode & 0o777).toBe(0o640);
  });

  it("echoes stdin and --readfd inputs like libvirt's helper", () => {
    const f = path.join(tmp.path, 'extra');
    fs.writeFileSync(f, 'from fd 5\n');
    const { r, report } = helperVia(['--readfd', '5'], { shell: `exec 5<${f}`, input: 'from stdin\n' });
    expect(r.stdout).toBe('BEGIN STDOUT\nfrom stdin\nfrom fd 5\nEND STDOUT\n');
    expect(r.stderr).toBe('BEGIN STDERR\nfrom stdin\nfrom fd 5\nEND STDERR\n');
    expect(report.fds.get(5)).toBe(f);
  });

  it('--exit, --signal, --flood, --write-fdnum', () => {
    const log = path.join(tmp.path, 'x.log');
    expect(spawnSync(HELPER, ['--no-stdio', '--exit', '7']).status).toBe(7);
    expect(spawnSync(HELPER, ['--no-stdio', '--signal', '15']).signal).toBe('SIGTERM');
    const fl = spawnSync(HELPER, ['--flood', '10000'], { encoding: 'utf8' });
    expect(fl.stdout).toBe('O'.repeat(10000));
    expect(fl.stderr).toBe('E'.repeat(10000));
    const wf = spawnSync(HELPER, ['--log', log, '--no-stdio', '--write-fdnum'], { encoding: 'utf8' });
    expect(wf.stdout).toBe('1\n');
    expect(wf.stderr).toBe('2\n');
    expect(readReport(log).args).toEqual(['--no-stdio', '--write-fdnum']);
  });
});

describe('the report parser', () => {
  const minimal = [
    'CWD:/',
    'UMASK:0022',
    'PID:1',
    'PPID:0',
    'PGID:1',
    'SID:1',
    'SIGIGN:0000000000000000',
    'SIGBLK:0000000000000000',
    'SIGCGT:0000000000000000',
    'CAPEFF:0',
    'UID:0 0 0 0',
    'GID:0 0 0 0',
    'GROUPS:',
    'DAEMON:no',
    'EXE:/x',
    'RLIMIT:NOFILE 1 2',
    'RLIMIT:NPROC unlimited unlimited',
    'RLIMIT:MEMLOCK 0 0',
    'RLIMIT:CORE 0 unlimited',
  ];
  it('parses a minimal report', () => {
    const r = parseReport([...minimal, 'END', ''].join('\n'));
    expect(r.rlimits.NPROC.cur).toBe(Infinity);
    expect(r.groups).toEqual([]);
  });
  it('rejects a truncated report, unknown keys and duplicates', () => {
    expect(() => parseReport(minimal.join('\n'))).toThrow(/truncated/);
    expect(() => parseReport([...minimal, 'BOGUS:1', 'END'].join('\n'))).toThrow(/unknown key/);
    expect(() => parseReport([...minimal, 'CWD:/again', 'END'].join('\n'))).toThrow(/duplicate/);
    expect(() => parseReport([...minimal.slice(1), 'END'].join('\n'))).toThrow(/missing CWD/);
  });
  it('unescapes', () => {
    expect(unescapeValue('a\\nb\\\\c')).toBe('a\nb\\c');
    expect(() => unescapeValue('a\\x')).toThrow();
  });
});

describe('the /proc readers and invariant helpers', () => {
  it('see a zombie: a child whose parent never reaps it', async () => {
    // sh starts `true` in the background, then becomes `sleep`, which never
    // waits: `true` stays a zombie whose parent is the sleep process.
    const child = spawn('/bin/sh', ['-c', '/bin/true & exec sleep 5'], { stdio: 'ignore' });
    try {
      expect(await waitFor(() => zombieChildren(child.pid).length === 1, 2000)).toBe(true);
      expect(zombieChildren(child.pid)[0].comm).toBe('true');
      expect(liveChildren(child.pid)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('exit', resolve));
    }
  });

  it('see a child until it is reaped', async () => {
    const child = spawn('/bin/sh', ['-c', 'exit 0'], { stdio: 'ignore' });
    // libuv reaps on SIGCHLD; until then the child is a zombie or running
    expect(childrenOf(process.pid).some((c) => c.pid === child.pid)).toBe(true);
    await new Promise((resolve) => child.on('exit', resolve));
    expect(await waitFor(() => !childrenOf(process.pid).some((c) => c.pid === child.pid), 1000)).toBe(true);
  });

  it('see a live child', async () => {
    const child = spawn('sleep', ['5'], { stdio: 'ignore' });
    try {
      expect(liveChildren(process.pid).map((c) => c.pid)).toContain(child.pid);
      expect(zombieChildren(process.pid).map((c) => c.pid)).not.toContain(child.pid);
      expect(procStat(child.pid)?.ppid).toBe(process.pid);
    } finally {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('exit', resolve));
    }
  });

  it("read this process's signal state and fds", () => {
    const s = sigState();
    expect(s.ign & sigBit(13)).toBe(sigBit(13)); // Node ignores SIGPIPE
    const fd = fs.openSync('/dev/null', 'r');
    try {
      expect(openFds().get(fd)).toBe('/dev/null');
    } finally {
      fs.closeSync(fd);
    }
    expect(openFds().has(fd)).toBe(false);
  });
});
