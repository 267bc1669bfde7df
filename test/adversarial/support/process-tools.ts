/**
 * Shared support of the adversarial tests of signals, reaping, environment and
 * limits, credentials, daemons and scale: the test-only C programs of this
 * directory built with cc, an strace log parser, and small process helpers.
 *
 * Outputs go to build/test-helper/adversarial-tools/, rebuilt only when a
 * source changed (mtime + size + flags), by buildC() of
 * test/helpers/build-helper.ts.
 * None of this is, or mocks, the product addon.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { CommandError } from '../../../src/index';
import { BASE_FLAGS, buildC, REPO_ROOT } from '../../helpers/build-helper';
import { HELPER } from '../../helpers/helper';
import { PACKAGE_ENTRY, TS_REGISTER } from '../../helpers/node-child';
import { processesWith, procStat, sleep } from '../../helpers/proc';
import { SUPPORT_DIR } from './build';
export { commandRejection as rejection } from '../../helpers/rejection';

const OUT_DIR = path.join(REPO_ROOT, 'build', 'test-helper', 'adversarial-tools');

type Kind = 'exe' | 'shared';

function build(src: string, out: string, kind: Kind): string {
  const flags = [...BASE_FLAGS, ...(kind === 'shared' ? ['-shared', '-fPIC'] : [])];
  return buildC({ src: path.join(SUPPORT_DIR, src), out: path.join(OUT_DIR, out), flags, label: 'adversarial process tools' }).path;
}

export interface Support {
  /** child-signaller PARENT_PID SIGNO */
  sigsender: string;
  /** sigstorm PID SIGNO INTERVAL_US */
  sigstorm: string;
  /** subreaper PROGRAM ARGS... (child subreaper, reports REAPED lines) */
  reaper: string;
  /** pidfile-racer PATH */
  racer: string;
  /** hooks: raise_usr1, delay_ms, fail_enotsup, call_malloc */
  hooks: string;
  /** LD_PRELOAD malloc trap */
  mallocTrap: string;
}

let cached: Support | null = null;

export function support(): Support {
  cached ??= {
    sigsender: build('child-signaller.c', 'child-signaller', 'exe'),
    sigstorm: build('sigstorm.c', 'sigstorm', 'exe'),
    reaper: build('subreaper.c', 'subreaper', 'exe'),
    racer: build('pidfile-racer.c', 'pidfile-racer', 'exe'),
    hooks: build('lifecycle-hooks.c', 'liblifecycle-hooks.so', 'shared'),
    mallocTrap: build('malloc-trap.c', 'libmalloc-trap.so', 'shared'),
  };
  return cached;
}

/** The path of a program in /usr/sbin:/usr/bin:/sbin:/bin, or null. */
export function which(program: string): string | null {
  for (const dir of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    const p = path.join(dir, program);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** Skips the running test, printing why, when one of `programs` is missing. */
export function needTools(ctx: { skip: () => void }, what: string, ...programs: string[]): void {
  const missing = programs.filter((p) => which(p) === null);
  if (missing.length > 0) {
    console.warn(`[skip] ${what}: ${missing.join(', ')} not installed`);
    ctx.skip();
  }
}

/** The CommandError a synchronous call throws. */
export function thrown(fn: () => unknown): CommandError {
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'the call should have thrown').toBeInstanceOf(CommandError);
  return err as CommandError;
}

/** Waits until /proc/<pid>/exe is `exe` (the child has exec'd it); false if it died first. */
export async function waitForExec(pid: number, exe: string = HELPER, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/exe`) === exe) return true;
    } catch {
      if (procStat(pid) === null) return false;
    }
    await sleep(2);
  }
  return false;
}

/** /proc/<pid>/status fields. */
export function statusOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const c = line.indexOf(':');
    if (c > 0) out[line.slice(0, c)] = line.slice(c + 1).trim();
  }
  return out;
}

/** "Max open files" and friends of /proc/<pid>/limits: name -> [soft, hard] as printed. */
export function limitsOf(pid: number | 'self'): Map<string, [string, string]> {
  const out = new Map<string, [string, string]>();
  for (const line of fs.readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').slice(1)) {
    const m = /^(.+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (m) out.set(m[1].trim(), [m[2], m[3]]);
  }
  return out;
}

/** SIGKILLs every live process whose command line holds `token`, and waits until they are gone. */
export async function killAllWith(token: string): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const pids = processesWith(token);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await sleep(20);
  }
}

// ---------------------------------------------------------------- node children

/** A `node` process loading vircommand from src/, started asynchronously (for interaction). */
export interface LiveNode {
  child: ChildProcess;
  /** resolves with the next stdout line (lines are queued) */
  line(timeoutMs?: number): Promise<string>;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startNode(script: string, opts: { env?: Record<string, string>; prefix?: string[]; detached?: boolean } = {}): LiveNode {
  const argv = [...(opts.prefix ?? []), process.execPath, '-r', TS_REGISTER, '-e', script];
  const child = spawn(argv[0], argv.slice(1), {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
    cwd: REPO_ROOT,
    env: { PATH: '/usr/bin:/bin', VC_TEST_ENTRY: PACKAGE_ENTRY, VC_HELPER: HELPER, ...opts.env },
  });
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let buf = '';
  let err = '';
  child.stdout.on('data', (d) => {
    buf += String(d);
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const l = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiters.shift();
      if (w) w(l);
      else lines.push(l);
    }
  });
  child.stderr.on('data', (d) => (err += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return {
    child,
    exited,
    stderr: () => err,
    line(timeoutMs = 10000) {
      const queued = lines.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no line from the node child within ${timeoutMs} ms; stderr:\n${err}`)), timeoutMs);
        waiters.push((l) => {
          clearTimeout(t);
          resolve(l);
        });
      });
    },
  };
}

/** Kills a LiveNode (if still running) and waits for its exit. */
export async function stopNode(n: LiveNode): Promise<void> {
  if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill('SIGKILL');
  await n.exited;
}

// ---------------------------------------------------------------- strace

/** One completed system call from an `strace -f -o FILE` log. */
export interface Syscall {
  /** the calling thread's id */
  tid: number;
  name: string;
  /** the argument text, as printed */
  args: string;
  /** the return value as printed ("0", "-1 ESRCH (No such process)", "1234") */
  ret: string;
  /** log line numbers where the call started and where it returned */
  start: number;
  end: number;
}

/**
 * Parses `strace -f -o FILE` output (lines "TID name(args) = ret"), joining
 * "<unfinished ...>" lines with their "<... name resumed>" continuation.
 * Signal and exit lines are skipped. Calls are listed in the order they started.
 */
/**
 * "ARGS) = RET" split at its last ") =": strace pads a short call with spaces before the "="
 * (to column 40), e.g. "wait4(123, NULL, 0, NULL)       = 123". ['...', '?'] without one.
 */
function splitReturn(text: string): [string, string] {
  const m = /^(.*)\) +=(?: (.*))?$/s.exec(text);
  return m ? [m[1], (m[2] ?? '').trim()] : [text, '?'];
}

export function parseStrace(text: string): Syscall[] {
  const out: Syscall[] = [];
  const pending = new Map<string, Syscall>();
  text.split('\n').forEach((line, lineNo) => {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) return;
    const tid = Number(m[1]);
    const rest = m[2];
    if (rest.startsWith('---') || rest.startsWith('+++')) return;
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(rest);
    if (resumed) {
      const key = `${tid}:${resumed[1]}`;
      const p = pending.get(key);
      pending.delete(key);
      const full = `${p ? p.args : ''}${resumed[2]}`;
      const entry = p ?? { tid, name: resumed[1], args: '', ret: '?', start: lineNo, end: lineNo };
      [entry.args, entry.ret] = splitReturn(full);
      entry.end = lineNo;
      if (!p) out.push(entry);
      return;
    }
    const call = /^(\w+)\((.*)$/.exec(rest);
    if (!call) return;
    const name = call[1];
    const body = call[2];
    if (body.endsWith('<unfinished ...>')) {
      const entry = { tid, name, args: body.slice(0, -'<unfinished ...>'.length).trimEnd(), ret: '?', start: lineNo, end: -1 };
      pending.set(`${tid}:${name}`, entry);
      out.push(entry);
      return;
    }
    const [args, ret] = splitReturn(body);
    out.push({ tid, name, args, ret, start: lineNo, end: lineNo });
  });
  return out;
}

/** The leading integer of a return value ("1234", "-1 ESRCH (...)"). */
export function retNum(s: Syscall): number {
  return Number.parseInt(s.ret, 10);
}

/** Runs `strace` with these options around argv; returns the log text. */
export function straceArgv(logFile: string, traced: string[], argv: string[]): string[] {
  return ['strace', '-f', '-qq', '-o', logFile, '-e', `trace=${traced.join(',')}`, ...argv];
}

/**
 * Analyses the signals and waits of one process (the thread group of
 * `leader`) in a strace log of clone/clone3/close/pidfd_open/pidfd_send_signal/
 * kill/tgkill/tkill/wait4/waitid: which pid each pidfd stood for, which
 * pidfd_send_signal reached which child, and whether any signal went to a
 * child after the wait that reaped it, or by pid (kill/tgkill) to another
 * process.
 */
export function analyseSignals(
  calls: Syscall[],
  leader: number,
): {
  threads: Set<number>;
  children: Set<number>;
  pidfdSignals: { pid: number | null; sig: string; ret: string; afterReap: boolean }[];
  killsToOthers: Syscall[];
  reaped: Map<number, number>;
  unmappedPidfd: number;
} {
  const threads = new Set<number>([leader]);
  const children = new Set<number>();
  const fdToPid = new Map<number, number>();
  const reaped = new Map<number, number>();
  const pidfdSignals: { pid: number | null; sig: string; ret: string; afterReap: boolean }[] = [];
  const killsToOthers: Syscall[] = [];
  let unmappedPidfd = 0;
  // Calls in the order they returned: a pidfd or a reap exists from its return on.
  const byEnd = [...calls].filter((c) => c.end >= 0).sort((a, b) => a.end - b.end);
  for (const c of byEnd) {
    if (!threads.has(c.tid)) continue;
    const ret = retNum(c);
    switch (c.name) {
      case 'clone':
      case 'clone3': {
        if (!(ret > 0)) break;
        if (c.args.includes('CLONE_THREAD')) {
          threads.add(ret);
          break;
        }
        children.add(ret);
        const pfd = /CLONE_PIDFD/.test(c.args) ? /parent_tid=\[(\d+)\]|pidfd=\[(\d+)\]/.exec(c.args) : null;
        if (pfd) fdToPid.set(Number(pfd[1] ?? pfd[2]), ret);
        break;
      }
      case 'pidfd_open': {
        const pid = Number.parseInt(c.args, 10);
        if (ret >= 0) fdToPid.set(ret, pid);
        break;
      }
      case 'close': {
        const fd = Number.parseInt(c.args, 10);
        if (ret === 0) fdToPid.delete(fd);
        break;
      }
      case 'pidfd_send_signal': {
        const fd = Number.parseInt(c.args, 10);
        const pid = fdToPid.get(fd) ?? null;
        if (pid === null) unmappedPidfd++;
        const sig = c.args.split(',')[1]?.trim() ?? '?';
        const reapAt = pid === null ? undefined : reaped.get(pid);
        pidfdSignals.push({ pid, sig, ret: c.ret, afterReap: reapAt !== undefined && reapAt < c.start });
        break;
      }
      case 'kill':
      case 'tkill':
      case 'tgkill': {
        const target = Number.parseInt(c.args, 10);
        if (target !== leader && !threads.has(target)) killsToOthers.push(c);
        break;
      }
      case 'wait4': {
        if (ret > 0) reaped.set(ret, c.end);
        break;
      }
      default:
        break;
    }
  }
  return { threads, children, pidfdSignals, killsToOthers, reaped, unmappedPidfd };
}
