/**
 * Adversarial tests of fd hygiene: what the
 * child inherits, what the parent keeps, and what failure paths leave behind.
 *
 * Anything that puts a process into an unusual fd state (closed 0-2,
 * non-CLOEXEC fds at chosen numbers, lowered NOFILE, a seccomp filter, a
 * masked /proc) runs in a separate node process (support/script.ts) that
 * loads src/ directly. The child is observed from outside (/proc/<pid>/fd)
 * and from inside (test/fixtures/helper.c's report; support/probe.c, which
 * tests fd numbers with fcntl and read and works without /proc).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { TS_REGISTER } from '../helpers/node-child';
import { openFds } from '../helpers/proc';
import { fdNumbers, parseReport, readReport } from '../helpers/report';
import { scaled } from '../helpers/scale';
import { useTmpDir } from '../helpers/tmp';
import { buildSupport, loadFdTool } from './support/build';
import { itIf, nofile, parseProbe, procMaskUnavailable, seccompUnavailable } from './support/common';
import { bashPrefix, runScript, scriptOk, SRC_ENTRY } from './support/script';

const inv = useInvariants();
const tmp = useTmpDir('vc-adv-fds-');
const sup = buildSupport();
const ft = loadFdTool();

const EBADF = 9;
const sorted = (a: number[]) => [...a].sort((x, y) => x - y);

/** Picks the fields of an error a script reports. */
const PICK = `const pick = (e) => ({ isCommandError: e instanceof vc.CommandError, name: e && e.name, code: e && e.code, stage: e && e.stage, errno: e && e.errno, pid: e && e.pid, message: String(e && e.message) });`;

// ---------------------------------------------------------------------------------------------
describe('close everything not asked for', () => {
  const { hard } = nofile();
  // A fd at 65000 needs a hard NOFILE limit above it; without CAP_SYS_RESOURCE it cannot be
  // raised, so the highest number the limit allows stands in for it.
  const high = hard > 65000 ? 65000 : hard - 1;
  if (high !== 65000) {
    console.warn(`[note] hard NOFILE limit is ${hard} (CAP_SYS_RESOURCE absent): the "fd 65000" is placed at ${high} instead`);
  }

  it(`non-CLOEXEC fds at 3, 251, 1000, ${high}, a TCP listener, inotify and an IPC channel: the child sees exactly 0-2`, async () => {
    const r = await runScript(
      `
      ${PICK}
      const { dir } = ARGS;
      const srv = net.createServer();
      await new Promise((r) => srv.listen(0, '127.0.0.1', r));
      const srvFd = srv._handle.fd;
      const ino = ft.inotify(false);
      // Everything this process holds becomes inheritable, the IPC channel included.
      for (const [fd] of procFds()) ft.setCloexec(fd, false);
      const parentFds = procFds();
      const out = { parentFds, flags: parentFds.map(([fd]) => [fd, ft.getfd(fd)]), srvFd, ino, ipcFd: process.channel ? process.channel.fd : null };

      await new vc.Command(HELPER, '--log', dir + '/run.log').run();
      out.runReport = fs.readFileSync(dir + '/run.log', 'utf8');
      new vc.Command(HELPER, '--log', dir + '/sync.log').runSync();
      out.syncReport = fs.readFileSync(dir + '/sync.log', 'utf8');
      { const c = new vc.Command(HELPER, '--log', dir + '/async.log'); c.runAsync(); await c.wait(); }
      out.asyncReport = fs.readFileSync(dir + '/async.log', 'utf8');

      // From outside, while the helper blocks on its stdin.
      const p = ft.pipe(true);
      const cmd = new vc.Command(HELPER, '--block', '--log', dir + '/block.log').setInputFD(p[0]);
      const done = cmd.run();
      out.blockedExe = fs.readlinkSync('/proc/' + cmd.pid + '/exe');
      out.outside = fs.readdirSync('/proc/' + cmd.pid + '/fd').map(Number).sort((a, b) => a - b);
      ft.close(p[1]);
      await done;
      ft.close(p[0]);
      out.blockReport = fs.readFileSync(dir + '/block.log', 'utf8');

      // The Rust way: every number the parent holds (above 2) is EBADF in the child.
      const list = parentFds.map(([fd]) => fd).filter((fd) => fd > 2);
      out.probed = list;
      out.probe = (await new vc.Command(PROBE, 'fds', '--probe', list.join(',')).run()).stdout;
      srv.close();
      if (process.connected) process.disconnect();
      emit(out);
    `,
      {
        args: { dir: tmp.path },
        prefix: bashPrefix(`exec 3</dev/null 251</dev/null 1000</dev/null ${high}</dev/null`),
        stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ipc'],
      },
    );
    const res = scriptOk(r);
    const parent = new Map<number, string>(res.parentFds);
    // Preconditions: the parent really holds all of them, none CLOEXEC.
    for (const fd of [3, 251, 1000, high, res.srvFd, res.ino, res.ipcFd]) {
      expect(parent.has(fd), `parent fd ${fd} open`).toBe(true);
    }
    expect(parent.get(res.srvFd)).toMatch(/^socket:/);
    expect(parent.get(res.ino)).toBe('anon_inode:inotify');
    expect(parent.get(res.ipcFd)).toMatch(/^socket:/);
    for (const [fd, flags] of res.flags as [number, number][]) expect(flags, `FD_CLOEXEC of parent fd ${fd}`).toBe(0);

    for (const k of ['runReport', 'syncReport', 'asyncReport', 'blockReport']) {
      const rep = parseReport(res[k]);
      expect(fdNumbers(rep), `${k}: ${[...rep.fds].join('; ')}`).toEqual([0, 1, 2]);
    }
    expect(res.blockedExe).toBe(HELPER);
    expect(res.outside).toEqual([0, 1, 2]);
    const probe = parseProbe(res.probe);
    expect(probe.open).toEqual([0, 1, 2]);
    for (const fd of res.probed as number[]) {
      expect(probe.getfd.get(fd), `fcntl(${fd}) in the child`).toBe('EBADF');
      expect(probe.read.get(fd), `read(${fd}) in the child`).toBe('EBADF');
    }
  }, 60000);

  it('in this Vitest worker, with every fd (its IPC channel included) made inheritable for the duration', async () => {
    const fds = openFds();
    const channelFd = (process as unknown as { channel?: { fd?: number } }).channel?.fd;
    const saved = new Map<number, number>();
    for (const fd of fds.keys()) {
      const f = ft.getfd(fd);
      if (f >= 0) saved.set(fd, f);
    }
    const log = path.join(tmp.path, 'h.log');
    let report;
    let probeOut: string;
    try {
      for (const fd of saved.keys()) ft.setCloexec(fd, false);
      await new Command(HELPER, '--log', log).run();
      report = readReport(log);
      probeOut = String((await new Command(sup.probe, 'fds', '--probe', [...saved.keys()].filter((f) => f > 2).join(',')).run()).stdout);
    } finally {
      for (const [fd, f] of saved) ft.setCloexec(fd, (f & 1) === 1);
    }
    for (const [fd, f] of saved) expect(ft.getfd(fd), `flags of fd ${fd} restored`).toBe(f);
    if (channelFd !== undefined) expect(fds.has(channelFd), 'the Vitest IPC fd was among them').toBe(true);
    else console.warn('[note] this Vitest worker has no process.channel; every fd it holds was still made inheritable');
    expect(fdNumbers(report), [...report.fds].join('; ')).toEqual([0, 1, 2]);
    const probe = parseProbe(probeOut);
    expect(probe.open).toEqual([0, 1, 2]);
  });
});

// ---------------------------------------------------------------------------------------------
describe('fds above a lowered soft limit are still closed', () => {
  // 40 inheritable fds at 32..71; the soft limit then drops to 34, so 37 of them are above it.
  // (Node itself holds about 18 fds below 32, the addon its 5 spawn fd slots, and a run needs 7
  // more below the limit.)
  const LIST = Array.from({ length: 40 }, (_, i) => 32 + i);
  const SCRIPT = `
    const { list, masked, hard } = ARGS;
    const notOpen = list.filter((fd) => ft.getfd(fd) !== 0);
    await new vc.Command('/bin/true').run();  // load the addon before the limit drops
    cp.execFileSync('prlimit', ['--pid', String(process.pid), hard ? '--nofile=34:34' : '--nofile=34:']);
    const limits = masked ? null : fs.readFileSync('/proc/self/limits', 'utf8').split('\\n').find((l) => l.startsWith('Max open files'));
    const args = ['fds', '--scan', '100', '--probe', list.join(','), '--close-range', '--proc'];
    const run = (await new vc.Command(PROBE, ...args).run()).stdout;
    const sync = new vc.Command(PROBE, ...args).runSync().stdout;
    emit({ notOpen, limits, run, sync });
  `;

  function stdioFor(list: number[], devnull: number): (number | 'ignore' | 'pipe')[] {
    const stdio: (number | 'ignore' | 'pipe')[] = ['ignore', 'pipe', 'pipe'];
    for (let fd = 3; fd <= Math.max(...list); fd++) stdio.push(list.includes(fd) ? devnull : 'ignore');
    return stdio;
  }

  function check(res: { notOpen: number[]; run: string; sync: string }, expectCloseRange: string, expectProc: string) {
    expect(res.notOpen, 'precondition: every listed fd is open and inheritable in the parent').toEqual([]);
    for (const out of [res.run, res.sync]) {
      const p = parseProbe(out);
      expect(p.closeRange, 'close_range in the child').toBe(expectCloseRange);
      expect(p.proc, '/proc/self/fd in the child').toBe(expectProc);
      expect(p.open).toEqual([0, 1, 2]);
      for (const fd of LIST) expect(p.getfd.get(fd), `fcntl(${fd}, F_GETFD) in the child`).toBe('EBADF');
    }
  }

  it('close_range path: none of fds 32..71 is open in the child after prlimit --nofile=34:', async () => {
    const devnull = fs.openSync('/dev/null', 'r');
    try {
      const res = scriptOk(await runScript(SCRIPT, { args: { list: LIST, masked: false }, stdio: stdioFor(LIST, devnull) as never }));
      expect(res.limits).toMatch(/^Max open files\s+34\s+\d+/);
      check(res, 'ok', 'ok');
    } finally {
      fs.closeSync(devnull);
    }
  }, 60000);

  const mask = procMaskUnavailable();
  const seccomp = seccompUnavailable(sup.seccompLaunch, sup.probe);
  itIf(
    mask.reason ?? seccomp,
    'last-resort loop (close_range refused, /proc masked): none of them is open either',
    async () => {
      const devnull = fs.openSync('/dev/null', 'r');
      try {
        const res = scriptOk(
          await runScript(SCRIPT, {
            args: { list: LIST, masked: true },
            stdio: stdioFor(LIST, devnull) as never,
            prefix: [...mask.prefix, sup.seccompLaunch, 'EPERM'],
          }),
        );
        check(res, 'EPERM', 'ENOENT');
      } finally {
        fs.closeSync(devnull);
      }
    },
    60000,
  );

  // Beyond the lowered soft limit above: the hard limit lowered below open fds too (allowed
  // by the kernel). The last-resort loop must not take the limit as the highest open fd.
  itIf(
    mask.reason ?? seccomp,
    'last-resort loop with the hard limit lowered too (prlimit --nofile=34:34): none of them is open',
    async () => {
      const devnull = fs.openSync('/dev/null', 'r');
      try {
        const res = scriptOk(
          await runScript(SCRIPT, {
            args: { list: LIST, masked: true, hard: true },
            stdio: stdioFor(LIST, devnull) as never,
            prefix: [...mask.prefix, sup.seccompLaunch, 'EPERM'],
          }),
        );
        check(res, 'EPERM', 'ENOENT');
      } finally {
        fs.closeSync(devnull);
      }
    },
    60000,
  );

  it('close_range path with the hard limit lowered too: none of them is open', async () => {
    const devnull = fs.openSync('/dev/null', 'r');
    try {
      const res = scriptOk(await runScript(SCRIPT, { args: { list: LIST, masked: false, hard: true }, stdio: stdioFor(LIST, devnull) as never }));
      expect(res.limits).toMatch(/^Max open files\s+34\s+34/);
      check(res, 'ok', 'ok');
    } finally {
      fs.closeSync(devnull);
    }
  }, 60000);
});

// ---------------------------------------------------------------------------------------------
describe('the fallbacks close the same set', () => {
  const SCRIPT = `
    const { seed, pipes } = ARGS;
    let a = seed >>> 0;
    const rnd = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
    const all = [];
    for (let i = 0; i < pipes; i++) {
      const p = ft.pipe(false);
      if (typeof p === 'number') throw new Error('pipe #' + i + ' failed: errno ' + -p);
      all.push(p[0], p[1]);
    }
    const keep = all.filter(() => rnd() < 0.5);
    const cmd = new vc.Command(PROBE, 'fds', '--close-range', '--proc');
    for (const fd of keep) cmd.passFD(fd);
    const out = (await cmd.run()).stdout;
    const notCloexec = all.filter((fd) => ft.getfd(fd) !== 0).length;
    for (const fd of all) ft.close(fd);
    emit({ keep, total: all.length, notCloexec, out });
  `;
  const mask = procMaskUnavailable();
  const seccomp = seccompUnavailable(sup.seccompLaunch, sup.probe);
  const variants: { name: string; reason: string | null; prefix: string[]; cr: string; proc: string }[] = [
    { name: 'close_range allowed', reason: null, prefix: [], cr: 'ok', proc: 'ok' },
    { name: 'close_range refused with EPERM (seccomp): /proc/self/fd listing', reason: seccomp, prefix: [sup.seccompLaunch, 'EPERM'], cr: 'EPERM', proc: 'ok' },
    {
      name: 'close_range refused with ENOSYS (seccomp): /proc/self/fd listing',
      reason: seccomp,
      prefix: [sup.seccompLaunch, 'ENOSYS'],
      cr: 'ENOSYS',
      proc: 'ok',
    },
    { name: '/proc masked by tmpfs (close_range allowed)', reason: mask.reason, prefix: mask.prefix, cr: 'ok', proc: 'ENOENT' },
    {
      name: 'close_range refused and /proc masked: the loop',
      reason: mask.reason ?? seccomp,
      prefix: [...mask.prefix, sup.seccompLaunch, 'EPERM'],
      cr: 'EPERM',
      proc: 'ENOENT',
    },
  ];
  const PIPES = scaled(5000, 1000);
  for (const [i, v] of variants.entries()) {
    itIf(
      v.reason,
      `${v.name}: ${PIPES} inheritable pipes, a random half passed; the child has exactly 0-2 plus that half`,
      async () => {
        const seed = 0x5eed + i;
        const res = scriptOk(await runScript(SCRIPT, { args: { seed, pipes: PIPES }, prefix: v.prefix, timeoutMs: 120000 }));
        expect(res.total).toBe(2 * PIPES);
        expect(res.notCloexec, 'precondition: the pipes are inheritable').toBe(0);
        const p = parseProbe(res.out);
        expect(p.closeRange, 'precondition: close_range in this variant').toBe(v.cr);
        expect(p.proc, 'precondition: /proc in this variant').toBe(v.proc);
        const want = sorted([0, 1, 2, ...res.keep]);
        const got = p.open;
        const extra = got.filter((fd) => !want.includes(fd));
        const missing = want.filter((fd) => !got.includes(fd));
        expect({ extra: extra.slice(0, 20), missing: missing.slice(0, 20), nExtra: extra.length, nMissing: missing.length }, `seed ${seed}`).toEqual({
          extra: [],
          missing: [],
          nExtra: 0,
          nMissing: 0,
        });
      },
      150000,
    );
  }
});

// ---------------------------------------------------------------------------------------------
describe('passFD keeps its number; CLOSE_PARENT closes the parent copy only', () => {
  it('3 passed, 4 not passed, 5 passed with CLOSE_PARENT (run, runSync, runAsync)', async () => {
    const devnull = fs.openSync('/dev/null', 'r');
    let r;
    try {
      r = await runScript(
        `
        const st = (fd) => { const s = ft.fstat(fd); return typeof s === 'number' ? 'errno ' + -s : s.dev + ':' + s.ino; };
        const out = [];
        for (const mode of ['run', 'runSync', 'runAsync']) {
          for (const n of [3, 4, 5]) if (ft.dup2(2, n) !== n) throw new Error('dup2 onto ' + n);
          ft.setCloexec(4, true);  // mixed flags, to see they are left alone
          const before = {};
          for (const n of [3, 4, 5]) before[n] = { id: st(n), flags: ft.getfd(n), target: fs.readlinkSync('/proc/self/fd/' + n) };
          const log = ARGS.dir + '/' + mode + '.log';
          const cmd = new vc.Command(HELPER, '--log', log, '--no-stdio').passFD(3).passFD(5, vc.PASS_FD_CLOSE_PARENT);
          if (mode === 'run') await cmd.run();
          else if (mode === 'runSync') cmd.runSync();
          else { cmd.runAsync(); await cmd.wait(); }
          const after = {};
          for (const n of [3, 4, 5]) after[n] = { id: st(n), flags: ft.getfd(n) };
          // A later close(5) by the test: EBADF unless the number was reused (then it is not ours).
          const reused5 = after[5].flags >= 0;
          const close5 = reused5 ? null : ft.close(5);
          out.push({ mode, before, after, reused5, close5, report: fs.readFileSync(log, 'utf8') });
        }
        emit(out);
      `,
        { args: { dir: tmp.path }, stdio: ['ignore', 'pipe', 'pipe', devnull, devnull, devnull] },
      );
    } finally {
      fs.closeSync(devnull);
    }
    for (const m of scriptOk(r)) {
      const rep = parseReport(m.report);
      expect(fdNumbers(rep), `${m.mode}: child fds`).toEqual([0, 1, 2, 3, 5]);
      expect(rep.fds.get(3), `${m.mode}: child fd 3 is the parent's 3`).toBe(m.before[3].target);
      expect(rep.fds.get(5), `${m.mode}: child fd 5 is the parent's 5 (closed only after the spawn)`).toBe(m.before[5].target);
      expect(m.before[3].flags).toBe(0);
      expect(m.before[4].flags).toBe(1);
      for (const n of [3, 4]) {
        expect(m.after[n], `${m.mode}: parent fd ${n} unchanged`).toEqual({ id: m.before[n].id, flags: m.before[n].flags });
      }
      if (m.reused5) expect(m.after[5].id, `${m.mode}: fd 5 reused for something else`).not.toBe(m.before[5].id);
      else expect(m.close5, `${m.mode}: close(5) after the run`).toBe(-EBADF);
    }
  }, 60000);
});

// ---------------------------------------------------------------------------------------------
describe('source/target collisions and swaps', () => {
  const FILES = ['a', 'b', 'c'];
  const PERMS = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
  ];

  function filesIn(dir: string) {
    const f = FILES.map((n) => path.join(dir, n));
    for (const p of f) fs.writeFileSync(p, '');
    return f;
  }
  const launch = bashPrefix('exec 0<>"$VC_A" 1<>"$VC_B" 2<>"$VC_C"');

  it("(a) the parent's 0/1/2 are three files; each of the 6 permutations maps each child stream to its source", async () => {
    const files = filesIn(tmp.path);
    const r = await runScript(
      `
      const out = [];
      for (const mode of ['run', 'runSync']) {
        for (const p of ARGS.perms) {
          const cmd = new vc.Command(HELPER, '--no-stdio', '--write-fdnum', '--fd', '0').setInputFD(p[0]).setOutputFD(p[1]).setErrorFD(p[2]);
          const res = mode === 'run' ? await cmd.run() : cmd.runSync();
          out.push(res.exitStatus);
        }
      }
      emit(out);
    `,
      { args: { perms: PERMS }, prefix: launch, stdio: 'ignore', env: { VC_A: files[0], VC_B: files[1], VC_C: files[2] } },
    );
    expect(scriptOk(r)).toEqual(Array(12).fill(0));
    // The file that is the parent's fd j got, per run, the number of the child fd mapped from j.
    for (let j = 0; j < 3; j++) {
      const want = [...PERMS, ...PERMS].map((p) => `${p.indexOf(j)}\n`).join('');
      expect(fs.readFileSync(files[j], 'utf8'), `parent fd ${j} (${FILES[j]})`).toBe(want);
    }
  }, 60000);

  it('(b) one of 0/1/2 closed in the parent, the other two mapped crosswise', async () => {
    const files = filesIn(tmp.path);
    const r = await runScript(
      `
      const out = [];
      for (const mode of ['run', 'runSync']) {
        for (const k of [0, 1, 2]) {
          const [j, l] = [0, 1, 2].filter((x) => x !== k);
          const saved = ft.dupfd(k, 100, true);
          ft.close(k);
          const log = ARGS.dir + '/' + mode + k + '.log';
          let res;
          try {
            const cmd = new vc.Command(HELPER, '--log', log, '--no-stdio', '--write-fdnum', '--fd', '0');
            const set = { 0: (fd) => cmd.setInputFD(fd), 1: (fd) => cmd.setOutputFD(fd), 2: (fd) => cmd.setErrorFD(fd) };
            set[j](l);
            set[l](j);
            res = mode === 'run' ? await cmd.run() : cmd.runSync();
          } finally {
            ft.dup2(saved, k);
            ft.close(saved);
          }
          out.push({ mode, k, j, l, status: res.exitStatus, stdout: res.stdout, stderr: res.stderr, report: fs.readFileSync(log, 'utf8') });
        }
      }
      emit(out);
    `,
      { args: { dir: tmp.path }, prefix: launch, stdio: 'ignore', env: { VC_A: files[0], VC_B: files[1], VC_C: files[2] } },
    );
    const runs = scriptOk(r);
    const want: string[] = ['', '', ''];
    for (const x of runs) {
      const rep = parseReport(x.report);
      expect(x.status, `${x.mode} closed ${x.k}`).toBe(0);
      expect(rep.fds.get(x.j), `${x.mode} closed ${x.k}: child fd ${x.j}`).toBe(files[x.l]);
      expect(rep.fds.get(x.l), `${x.mode} closed ${x.k}: child fd ${x.l}`).toBe(files[x.j]);
      if (x.k === 0) expect(rep.fds.get(0), `${x.mode}: stdin not given -> /dev/null`).toBe('/dev/null');
      if (x.k === 1) expect(x.stdout, `${x.mode}: captured stdout`).toBe('1\n');
      if (x.k === 2) expect(x.stderr, `${x.mode}: captured stderr`).toBe('2\n');
      want[x.l] += `${x.j}\n`;
      want[x.j] += `${x.l}\n`;
    }
    for (let j = 0; j < 3; j++) expect(fs.readFileSync(files[j], 'utf8'), `file of parent fd ${j}`).toBe(want[j]);
  }, 60000);

  it('(c) one fd given both as stdout and with passFD appears at both numbers, same file', async () => {
    const file = path.join(tmp.path, 'd');
    const fd = fs.openSync(file, 'w+');
    const log = path.join(tmp.path, 'c.log');
    try {
      const r = await new Command(HELPER, '--log', log, '--no-stdio', '--write-fdnum', '--fd', String(fd)).setOutputFD(fd).passFD(fd).run();
      const rep = readReport(log);
      expect(fdNumbers(rep)).toEqual(sorted([0, 1, 2, fd]));
      expect(rep.fds.get(1)).toBe(file);
      expect(rep.fds.get(fd)).toBe(file);
      expect(r.stderr).toBe('2\n');
      expect(fs.readFileSync(file, 'utf8')).toBe(`1\n${fd}\n`);
      // and as stdin
      const log2 = path.join(tmp.path, 'c2.log');
      await new Command(HELPER, '--log', log2, '--no-stdio').setInputFD(fd).passFD(fd).run();
      const rep2 = readReport(log2);
      expect(rep2.fds.get(0)).toBe(file);
      expect(rep2.fds.get(fd)).toBe(file);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('(d) two passed fds keep their own numbers and files (no accidental swap)', async () => {
    const fa = path.join(tmp.path, 'pa');
    const fb = path.join(tmp.path, 'pb');
    const a = fs.openSync(fa, 'w');
    const b = fs.openSync(fb, 'w');
    const log = path.join(tmp.path, 'd.log');
    try {
      await new Command(HELPER, '--log', log, '--no-stdio').passFD(b).passFD(a).run();
      const rep = readReport(log);
      expect(rep.fds.get(a)).toBe(fa);
      expect(rep.fds.get(b)).toBe(fb);
    } finally {
      fs.closeSync(a);
      fs.closeSync(b);
    }
  });

  itIf('the API has no fd remapping: passFD() keeps the number, so 4->5 and 5->4 cannot be asked for', '(d) passFD mapping 4->5 and 5->4', () => {});
});

// ---------------------------------------------------------------------------------------------
describe('the parent has 0, 1 or 2 closed', () => {
  it('every subset of {0,1,2} closed: echo output, ENOENT at stage exec, a live daemon; the child gets valid 0-2', async () => {
    const r = await runScript(
      `
      ${PICK}
      const out = [];
      for (let mask = 0; mask < 8; mask++) {
        const closed = [0, 1, 2].filter((k) => mask & (1 << k));
        const saved = [0, 1, 2].map((k) => ft.dupfd(k, 200, true));
        for (const k of closed) ft.close(k);
        const res = { closed, open: [0, 1, 2].map((k) => ft.getfd(k) >= 0) };
        try {
          const a = await new vc.Command('echo', 'hi').run();
          res.a = { stdout: a.stdout, stderr: a.stderr };
          const aSync = new vc.Command('echo', 'hi').runSync();
          res.aSync = { stdout: aSync.stdout, stderr: aSync.stderr };
          const log = ARGS.dir + '/a' + mask + '.log';
          await new vc.Command(HELPER, '--log', log).run();
          res.report = fs.readFileSync(log, 'utf8');
          try { await new vc.Command('/nonexistent').setInputBuffer('x').setOutputBuffer({}).setErrorBuffer({}).run(); res.b = 'resolved'; } catch (e) { res.b = pick(e); }
          try { new vc.Command('/nonexistent').setInputBuffer('x').runSync(); res.bSync = 'returned'; } catch (e) { res.bSync = pick(e); }
          try { await new vc.Command('/nonexistent').setOutputFD({ fd: -1 }).setErrorFD({ fd: -1 }).run(); res.bPipes = 'resolved'; } catch (e) { res.bPipes = pick(e); }
          const pf = ARGS.dir + '/d' + mask + '.pid';
          await new vc.Command('sleep', '30').daemonize().setPidFile(pf).run();
          const pid = Number(fs.readFileSync(pf, 'utf8').trim());
          let alive = false;
          try { process.kill(pid, 0); alive = true; } catch (e) {}
          res.c = { pid, alive, comm: alive ? fs.readFileSync('/proc/' + pid + '/comm', 'utf8').trim() : null };
          if (alive) process.kill(pid, 'SIGKILL');
        } finally {
          for (const k of [0, 1, 2]) { ft.dup2(saved[k], k); ft.close(saved[k]); }
        }
        out.push(res);
      }
      emit(out);
    `,
      { args: { dir: tmp.path } },
    );
    for (const x of scriptOk(r)) {
      const what = `closed {${x.closed.join(',')}}`;
      expect(x.open, `${what}: precondition`).toEqual([0, 1, 2].map((k) => !x.closed.includes(k)));
      expect(x.a, `${what}: (a) run`).toEqual({ stdout: 'hi\n', stderr: '' });
      expect(x.aSync, `${what}: (a) runSync`).toEqual({ stdout: 'hi\n', stderr: '' });
      const rep = parseReport(x.report);
      expect(fdNumbers(rep), `${what}: child fds`).toEqual([0, 1, 2]);
      expect(rep.fds.get(0), `${what}: child stdin`).toBe('/dev/null');
      expect(rep.fds.get(1), `${what}: child stdout`).toMatch(/^pipe:/);
      expect(rep.fds.get(2), `${what}: child stderr`).toMatch(/^pipe:/);
      expect(rep.fds.get(1)).not.toBe(rep.fds.get(2));
      for (const k of ['b', 'bSync', 'bPipes']) {
        expect(x[k], `${what}: (${k}) /nonexistent`).toMatchObject({ isCommandError: true, code: 'ENOENT', stage: 'exec', errno: 2 });
      }
      expect(x.c, `${what}: (c) daemon from the pidfile`).toMatchObject({ alive: true, comm: 'sleep' });
    }
  }, 90000);
});

// ---------------------------------------------------------------------------------------------
describe('no cross-inheritance between concurrent spawns', () => {
  const WORKER = `
    const { parentPort, workerData } = require('node:worker_threads');
    require(workerData.tsRegister);
    const vc = require(workerData.entry);
    (async () => {
      const times = [];
      const bad = [];
      const one = async (i) => {
        const t0 = performance.now();
        const cmd = new vc.Command('/bin/echo', workerData.tag + i);
        const r = workerData.sync ? cmd.runSync() : await cmd.run();
        times.push(performance.now() - t0);
        if (r.stdout !== workerData.tag + i + '\\n' || r.stderr !== '' || r.outputIncomplete) bad.push({ i, stdout: r.stdout, stderr: r.stderr, incomplete: r.outputIncomplete });
      };
      if (workerData.sync) for (let i = 0; i < workerData.n; i++) await one(i);
      else {
        let next = 0;
        await Promise.all(Array.from({ length: 4 }, async () => { while (next < workerData.n) await one(next++); }));
      }
      parentPort.postMessage({ times, bad });
    })().catch((e) => parentPort.postMessage({ error: String(e && e.stack) }));
  `;

  function startWorker(tag: string, sync: boolean, n: number): Promise<{ times: number[]; bad: unknown[] }> {
    const w = new Worker(WORKER, { eval: true, workerData: { tsRegister: TS_REGISTER, entry: SRC_ENTRY, tag, sync, n } });
    return new Promise((resolve, reject) => {
      let msg: { times: number[]; bad: unknown[]; error?: string } | null = null;
      w.on('message', (m) => {
        msg = m;
      });
      w.on('error', reject);
      w.on('exit', () => {
        if (!msg) reject(new Error(`worker ${tag} exited without a result`));
        else if (msg.error) reject(new Error(`worker ${tag}: ${msg.error}`));
        else resolve(msg);
      });
    });
  }

  it('sleep 30 started first, 300 echo runs each from the main thread and two Workers, more sleepers mid-storm', async () => {
    const N = 300;
    const long = new Command('sleep', '30');
    const sleepers: Command[] = [long];
    long.runAsync();
    inv.keepChild(long.pid!);
    try {
      const w1 = startWorker('w1-', false, N);
      const w2 = startWorker('w2-', true, N);
      const times: number[] = [];
      const bad: unknown[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < N) {
            const i = next++;
            if (i % 100 === 50) {
              const s = new Command('sleep', '30');
              s.runAsync();
              inv.keepChild(s.pid!);
              sleepers.push(s);
            }
            const t0 = performance.now();
            const r = await new Command('/bin/echo', `m-${i}`).run();
            times.push(performance.now() - t0);
            if (r.stdout !== `m-${i}\n` || r.stderr !== '' || r.outputIncomplete) bad.push({ i, r });
          }
        }),
      );
      const [r1, r2] = await Promise.all([w1, w2]);
      expect(bad).toEqual([]);
      expect(r1.bad).toEqual([]);
      expect(r2.bad).toEqual([]);
      expect(times.length + r1.times.length + r2.times.length).toBe(3 * N);
      const worst = Math.max(...times, ...r1.times, ...r2.times);
      expect(worst, 'slowest run, ms (a leaked pipe end would hold it for the drain delay or 30 s)').toBeLessThan(1000);
      for (const s of sleepers) {
        const pid = s.pid!;
        const fds = openFds(pid);
        expect([...fds.keys()], `fds of sleeper ${pid}`).toEqual([0, 1, 2]);
        for (const t of fds.values()) expect(t).toBe('/dev/null');
      }
      expect(sleepers.length).toBe(4);
    } finally {
      await Promise.all(sleepers.map((s) => s.abort({ grace: 0 })));
    }
  }, 120000);
});

// ---------------------------------------------------------------------------------------------
describe('no fd leak on failure paths', () => {
  it('under ulimit -n 64: 1024 x /nonexistent with three pipes, an input buffer and a CLOSE_PARENT dup (plus FdRef pipes and runSync)', async () => {
    const r = await runScript(
      `
      ${PICK}
      const base = fs.openSync('/dev/null', 'r');
      try { await new vc.Command('/nonexistent').run(); } catch (e) {}  // warm up
      const pre = procFds();
      const tally = {};
      const record = (kind, d, e) => {
        const t = tally[kind] ??= { n: 0, enoent: 0, closed: 0, other: [] };
        t.n++;
        if (e && e.code === 'ENOENT' && e.stage === 'exec' && e.errno === 2) t.enoent++;
        else if (t.other.length < 5) t.other.push(e ? pick(e) : 'succeeded');
        if (d !== undefined) {
          if (ft.getfd(d) < 0) t.closed++;
          else ft.close(d);  // keep going; the tally shows it
        }
      };
      for (let i = 0; i < 1024; i++) {
        const d = ft.dupfd(base, 3, true);
        let err = null;
        try { await new vc.Command('/nonexistent').setInputBuffer('some input').setOutputBuffer({}).setErrorBuffer({}).passFD(d, vc.PASS_FD_CLOSE_PARENT).run(); } catch (e) { err = e; }
        record('buffers', d, err);
      }
      for (let i = 0; i < 256; i++) {
        const d = ft.dupfd(base, 3, true);
        let err = null;
        try { await new vc.Command('/nonexistent').setInputBuffer('x').setOutputFD({ fd: -1 }).setErrorFD({ fd: -1 }).passFD(d, vc.PASS_FD_CLOSE_PARENT).run(); } catch (e) { err = e; }
        record('fdrefs', d, err);
      }
      for (let i = 0; i < 256; i++) {
        const d = ft.dupfd(base, 3, true);
        let err = null;
        try { new vc.Command('/nonexistent').setInputBuffer('x').setOutputBuffer({}).setErrorBuffer({}).passFD(d, vc.PASS_FD_CLOSE_PARENT).runSync(); } catch (e) { err = e; }
        record('sync', d, err);
      }
      const post = procFds();
      emit({ pre, post, tally, limits: fs.readFileSync('/proc/self/limits', 'utf8').split('\\n').find((l) => l.startsWith('Max open files')) });
    `,
      { prefix: bashPrefix('ulimit -n 64'), timeoutMs: 120000 },
    );
    const res = scriptOk(r);
    expect(res.limits).toMatch(/^Max open files\s+64\s+64/);
    expect(res.tally).toEqual({
      buffers: { n: 1024, enoent: 1024, closed: 1024, other: [] },
      fdrefs: { n: 256, enoent: 256, closed: 256, other: [] },
      sync: { n: 256, enoent: 256, closed: 256, other: [] },
    });
    expect(res.post).toEqual(res.pre);
  }, 150000);
});

// ---------------------------------------------------------------------------------------------
describe('no double close while another thread opens fds', () => {
  it('a Worker opens 40 pipes at 1 ms intervals while the main thread runs 200+ failing spawns (ENOENT, then EMFILE)', async () => {
    const r = await runScript(
      `
      ${PICK}
      const { Worker } = require('worker_threads');
      await new vc.Command('/bin/true').run();
      cp.execFileSync('/bin/true');  // Node opens a /dev/null of its own on its first spawnSync
      const pre = procFds();
      // Room for the Worker's 80 fds and 5 more: with the Worker done, a spawn (up to 9 fds)
      // fails part-way through its pipes with EMFILE.
      const limit = pre.length + 80 + 5;
      cp.execFileSync('prlimit', ['--pid', String(process.pid), '--nofile=' + limit + ':']);
      const w = new Worker(\`
        const { parentPort, workerData } = require('worker_threads');
        const m = { exports: {} }; process.dlopen(m, workerData.fdtool); const ft = m.exports;
        const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
        const fds = []; let emfile = 0;
        (async () => {
          while (fds.length < 80) {
            const p = ft.pipe(true);
            if (typeof p === 'number') { emfile++; await sleep(1); continue; }
            for (const fd of p) { const s = ft.fstat(fd); fds.push({ fd, id: s.dev + ':' + s.ino }); }
            await sleep(1);
          }
          parentPort.postMessage({ opened: true });
          await new Promise((r) => parentPort.once('message', r));
          const bad = [];
          for (const { fd, id } of fds) {
            const s = ft.fstat(fd);
            const now = typeof s === 'number' ? 'errno ' + -s : s.dev + ':' + s.ino;
            if (ft.getfd(fd) < 0 || now !== id) bad.push({ fd, id, now });
          }
          for (const { fd } of fds) ft.close(fd);
          parentPort.postMessage({ bad, emfile, n: fds.length });
        })();
      \`, { eval: true, workerData: { fdtool: process.env.VC_FDTOOL } });
      let opened = false;
      let final = null;
      w.on('message', (m) => { if (m.opened) opened = true; else final = m; });
      const kinds = {};
      let i = 0;
      for (; i < 200 || !opened; i++) {
        let err = null;
        try { await new vc.Command('/nonexistent/prog').setInputBuffer('x').setOutputBuffer({}).setErrorBuffer({}).run(); } catch (e) { err = e; }
        const k = err ? err.code + '@' + err.stage : 'resolved';
        kinds[k] = (kinds[k] || 0) + 1;
        if (i % 4 === 3) await new Promise((r) => setImmediate(r));
        if (i > 20000) break;
      }
      w.postMessage('check');
      await new Promise((r) => w.once('exit', r));
      await sleep(50);
      emit({ spawns: i, kinds, worker: final, preCount: pre.length, post: procFds(), pre });
    `,
      { timeoutMs: 120000 },
    );
    const res = scriptOk(r);
    expect(res.worker, 'worker result').toBeTruthy();
    expect(res.worker.n).toBe(80);
    expect(res.worker.bad, 'Worker fds closed or replaced behind its back').toEqual([]);
    expect(res.spawns).toBeGreaterThanOrEqual(200);
    // EMFILE@fork: clone(CLONE_PIDFD) itself needs an fd; no process is created then either.
    expect(
      Object.keys(res.kinds).every((k) => ['ENOENT@exec', 'EMFILE@pipe', 'EMFILE@fork'].includes(k)),
      JSON.stringify(res.kinds),
    ).toBe(true);
    expect(res.kinds['EMFILE@pipe'] ?? 0, 'some spawns hit EMFILE part-way').toBeGreaterThan(0);
    expect(res.post).toEqual(res.pre);
  }, 150000);
});

// ---------------------------------------------------------------------------------------------
describe('EMFILE is clean and recoverable', () => {
  it('under ulimit -n 256 with the table full: EMFILE at stage pipe, no process, no fd change; after closing 10, 15 runs succeed', async () => {
    const r = await runScript(
      `
      ${PICK}
      await new vc.Command(HELPER, '--no-stdio').run();  // warm up
      const before = procFds();
      const filled = [];
      for (;;) {
        try { filled.push(fs.openSync('/dev/null', 'r')); } catch (e) { if (e.code === 'EMFILE') break; throw e; }
      }
      // Listing /proc/self/fd needs one fd: lend it one slot and take it back.
      const withSlot = (fn) => { fs.closeSync(filled.pop()); try { return fn(); } finally { filled.push(fs.openSync('/dev/null', 'r')); } };
      const full = withSlot(() => procFds());
      const out = { filled: filled.length, full, before };
      try { await new vc.Command(HELPER).setInputBuffer('x\\n').run(); out.first = 'resolved'; } catch (e) { out.first = pick(e); }
      out.afterFirst = withSlot(() => ({ fds: procFds(), kids: children() }));
      try { new vc.Command(HELPER).setInputBuffer('x\\n').runSync(); out.firstSync = 'returned'; } catch (e) { out.firstSync = pick(e); }
      out.afterFirstSync = withSlot(() => ({ fds: procFds(), kids: children() }));
      const freed = filled.splice(filled.length - 10, 10);
      for (const fd of freed) fs.closeSync(fd);
      const withFree = procFds();
      out.later = [];
      for (let i = 0; i < 15; i++) {
        try { const r = await new vc.Command(HELPER).setInputBuffer('x\\n').run(); out.later.push({ status: r.exitStatus, stdout: r.stdout }); } catch (e) { out.later.push(pick(e)); }
      }
      out.afterLater = procFds();
      out.withFree = withFree;
      for (const fd of filled) fs.closeSync(fd);
      out.end = procFds();
      emit(out);
    `,
      { prefix: bashPrefix('ulimit -n 256') },
    );
    const res = scriptOk(r);
    expect(res.filled).toBeGreaterThan(150);
    expect(res.first, 'the first run').toMatchObject({ isCommandError: true, code: 'EMFILE', stage: 'pipe', errno: 24, pid: null });
    expect(res.first.message).toMatch(/EMFILE/);
    expect(res.first.message).toMatch(/pipe/);
    expect(res.firstSync, 'the same with runSync').toMatchObject({ isCommandError: true, code: 'EMFILE', stage: 'pipe', errno: 24, pid: null });
    expect(res.afterFirst.kids, 'no process was created').toEqual([]);
    expect(res.afterFirst.fds).toEqual(res.full);
    expect(res.afterFirstSync.kids).toEqual([]);
    expect(res.afterFirstSync.fds).toEqual(res.full);
    expect(res.later).toEqual(Array(15).fill({ status: 0, stdout: 'BEGIN STDOUT\nx\nEND STDOUT\n' }));
    expect(res.afterLater).toEqual(res.withFree);
    expect(res.end).toEqual(res.before);
  }, 60000);
});
