/**
 * Pidfiles of daemons (libvirt's virPidFileReadPath and virPidFileForceCleanupPath): read one
 * strictly, and signal the process it names only while that very process holds the file's lock,
 * so that a stale pidfile naming a recycled pid never gets anyone signalled.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { CommandError, errnoName, errnoText, signalName } from './errors';
import { loadNative } from './native';
import { checkSignal } from './signal-arg';
import type { SignalInput } from './signal-names';
import { OPTION_NAMES, type OptionNamesMatch } from './types';
import { arg, checkBoolean, checkNonNegative, checkOptions, checkString, valueError } from './validate';

/** Options of readPidFile(). */
export interface ReadPidFileOptions {
  /** Return the pid only if that process holds the pidfile's lock (else null). Default false. */
  lock?: boolean;
  /**
   * Return the pid only if that process runs this program (`/proc/<pid>/exe`, symlinks of the
   * given path resolved; a binary replaced on disk still matches), else null: libvirt's
   * virPidFileReadPathIfAlive, for daemons that write their own pidfile without a lock
   * (dnsmasq).
   */
  exe?: string;
}

/**
 * What killByPidFile() found and did:
 * - 'signalled': the process named in the file held its lock and was sent the signal;
 * - 'missing': there is no pidfile;
 * - 'not-locked': nobody holds the lock (a stale file, or a daemon that closed the fd: see the
 *   README), so the pid is not trusted and nothing is signalled; with `remove`, the file is
 *   removed when the pid is dead (no live process stands behind it). Also a file naming the
 *   calling process itself, which is never signalled nor removed;
 * - 'locked-by-other': the lock is held by another process than the one named in the file;
 * - 'gone': the process exited before it could be signalled;
 * - 'other-program': nobody holds the lock and the process with that pid does not run the
 *   program given as `exe` (a stale file whose pid was reused): nothing is signalled; with
 *   `remove`, the stale file is removed.
 */
export type KillByPidFileOutcome = 'signalled' | 'missing' | 'not-locked' | 'locked-by-other' | 'gone' | 'other-program';

/** Options of killByPidFile(). */
export interface KillByPidFileOptions {
  /** Milliseconds to wait for the process to exit after the signal; 0 (default): no wait. */
  wait?: number;
  /** If it still runs after `wait` ms: send SIGKILL and wait up to `wait` ms more. Default false. */
  force?: boolean;
  /**
   * Once the process has exited, remove the pidfile, after taking its lock (so the file of a
   * daemon started meanwhile is never removed). A stale file is removed too: nobody holds its
   * lock and its pid is dead, or (with `exe`) that pid runs another program. A file naming a
   * live process that holds no lock, without `exe` to check it by, is left. Default false.
   */
  remove?: boolean;
  /**
   * Also trust a file nobody holds the lock of, if the process it names runs this program (as
   * readPidFile()'s `exe`): for daemons that write their own pidfile without a lock, or close
   * the fd that held it (dnsmasq). The process is pinned with a pidfd before its program is
   * checked, and the signal goes through that pidfd.
   */
  exe?: string;
}

// A compile-time check only, as in types.ts: each entry fails to type-check when the option
// names in OPTION_NAMES and the interface above differ.
const optionNamesChecked: [
  OptionNamesMatch<ReadPidFileOptions, typeof OPTION_NAMES.readPidFile>,
  OptionNamesMatch<KillByPidFileOptions, typeof OPTION_NAMES.killByPidFile>,
] = [true, true];
void optionNamesChecked;

/** The result of killByPidFile(). */
export interface KillByPidFileResult {
  /** What was found and done: see KillByPidFileOutcome. */
  outcome: KillByPidFileOutcome;
  /** The pid the file names; null when there is no file. */
  pid: number | null;
  /** The pid holding the lock when checked (-1: a holder whose pid we cannot see); null: none. */
  holder: number | null;
  /** The signals sent, by name, in order. */
  signals: string[];
  /** The process is known to have exited (after a wait, or 'gone'). */
  exited: boolean;
  /** The pidfile was removed (`remove`). */
  removed: boolean;
  /** Why the pid was trusted: it held the lock, or it runs the `exe` given; null: not trusted. */
  trustedBy: 'lock' | 'exe' | null;
}

// The addon's pidfile tools (native/glue/pidfile_tools.cc).
interface PidfileNative {
  lockHolder(fd: number): number;
  tryLock(fd: number): boolean;
  pidfdOpen(pid: number): number;
  pidfdSendSignal(pidfd: number, signal: number): number;
  pidfdExited(pidfd: number): boolean;
}
const native = (): PidfileNative => loadNative() as unknown as PidfileNative;

const { EINVAL, ENOSYS, ESRCH } = os.constants.errno;
const PID_T_MAX = 2 ** 31 - 1;

function pidfileError(file: string, errno: number, why: string): CommandError {
  return new CommandError(`Invalid pid file ${file}: ${why}`, { stage: 'pidfile', errno, code: errnoName(errno), path: file });
}

// The pidfile opened for reading (no symlink followed; a FIFO cannot block), or null if missing.
function openPidFile(file: string): number | null {
  try {
    return fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') return null;
    const errno = Math.abs(err.errno ?? EINVAL);
    throw pidfileError(file, errno, `${err.code ?? errnoName(errno)} (${errnoText(errno)})`);
  }
}

// The pid in the open file: decimal digits (no sign, no leading zero) and at most one newline,
// above 1 and within pid_t. Anything else is refused rather than guessed at.
function parsePid(fd: number, file: string): number {
  if (!fs.fstatSync(fd).isFile()) throw pidfileError(file, EINVAL, 'not a regular file');
  const buf = Buffer.alloc(24);
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  const text = buf.subarray(0, n).toString('latin1');
  if (!/^[1-9][0-9]*\n?$/.test(text)) {
    throw pidfileError(file, EINVAL, `${JSON.stringify(text)} is not a pid (decimal digits and an optional newline)`);
  }
  const pid = Number.parseInt(text, 10);
  if (pid <= 1 || pid > PID_T_MAX) throw pidfileError(file, EINVAL, `${pid} is not a pid above 1 that fits pid_t`);
  return pid;
}

/**
 * The pid in the pidfile `path`, or null when there is no such file. The content must be a
 * pid (> 1) in decimal with at most a trailing newline; a symlink at `path` is not followed.
 * With `{ lock: true }`, the pid is returned only if that process holds the file's lock (the
 * fcntl lock on its first byte a daemonize()d command's daemon keeps), else null.
 * @throws {CommandError} stage 'pidfile', code 'EINVAL' for content that is not a pid or a
 * file that is not regular; the open's code ('ELOOP', 'EACCES', ...) when it cannot be opened
 * @example const pid = readPidFile('/run/app.pid', { lock: true }); // null if stale
 */
export function readPidFile(path: string, options?: ReadPidFileOptions): number | null {
  const m = 'readPidFile';
  const file = checkString(m, arg('path'), path, true);
  const o = checkOptions<ReadPidFileOptions>(m, options, OPTION_NAMES.readPidFile);
  const lock = checkBoolean(m, arg('options.lock'), o.lock, false);
  const exe = resolveExe(m, o.exe);
  const fd = openPidFile(file);
  if (fd === null) return null;
  try {
    const pid = parsePid(fd, file);
    if (lock && native().lockHolder(fd) !== pid) return null;
    return exe !== undefined && processExe(pid) !== exe ? null : pid;
  } finally {
    fs.closeSync(fd);
  }
}

// The program `exe` names, resolved as the kernel shows it in /proc/<pid>/exe.
function resolveExe(m: string, exe: unknown): string | undefined {
  if (exe === undefined) return undefined;
  const file = checkString(m, arg('options.exe'), exe, true);
  if (!file.startsWith('/')) throw valueError(m, arg('options.exe'), `must be an absolute path: '${file}'`, RangeError);
  try {
    return fs.realpathSync(file);
  } catch {
    return file; // gone from disk (upgraded): compared as given
  }
}

// The program a process runs, or null if it cannot be seen (gone, or not ours to look at). A
// binary deleted or replaced since it was started reads '<path> (deleted)': it still matches.
function processExe(pid: number): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return null;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// Waits up to `ms` for the process to exit: its pidfd polls readable; without pidfds, the lock
// on the pidfile is released (every lock of a process goes when it exits).
// A process trusted by its program (`exe`) and followed without a pidfd: gone once that pid
// no longer runs that program.
async function waitExit(n: PidfileNative, pidfd: number, fd: number, pid: number, ms: number, exe: string | null): Promise<boolean> {
  const deadline = Date.now() + ms;
  const exited = (): boolean => (pidfd >= 0 ? n.pidfdExited(pidfd) : exe !== null ? processExe(pid) !== exe : n.lockHolder(fd) !== pid);
  for (let step = 1; ; step = Math.min(step * 2, 50)) {
    if (exited()) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await sleep(Math.min(step, left));
  }
}

// Removes the pidfile once we hold its lock and it is still the file we read (`fd`), still
// naming `pid` (a writer that keeps no lock may have written another pid meanwhile).
function removeIfUnlocked(file: string, fd: number, pid: number): boolean {
  let mine = -1;
  try {
    mine = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    const read = fs.fstatSync(fd);
    const now = fs.fstatSync(mine);
    if (now.ino !== read.ino || now.dev !== read.dev || !native().tryLock(mine)) return false;
    if (parsePid(mine, file) !== pid) return false;
    const there = fs.lstatSync(file);
    if (there.ino !== read.ino || there.dev !== read.dev) return false;
    fs.unlinkSync(file);
    return true;
  } catch {
    return false;
  } finally {
    if (mine >= 0) fs.closeSync(mine);
  }
}

/**
 * Sends `signal` to the process named in the pidfile `path`, only if that process holds the
 * file's lock: the lock is checked, the pid pinned with a pidfd, the lock checked again, and
 * the signal sent through the pidfd, so a stale file naming a recycled pid is never acted on.
 * With `wait`, waits for the exit; with `force`, SIGKILL after `wait` ms; with `remove`, the
 * pidfile is removed once the process is gone (virPidFileForceCleanupPath).
 * @throws {CommandError} stage 'pidfile' for a file that is not a valid pidfile (as
 * readPidFile()), or a signal the kernel refused (code 'EPERM')
 * @throws {TypeError | RangeError} as a rejection, before anything is read or signalled, for invalid arguments
 * @example const r = await killByPidFile('/run/app.pid', 'SIGTERM', { wait: 5000, force: true, remove: true });
 */
export function killByPidFile(path: string, signal: number | SignalInput = 'SIGTERM', options?: KillByPidFileOptions): Promise<KillByPidFileResult> {
  // Arguments are checked before anything is read or signalled; as from every method that returns
  // a promise (run(), wait(), abort()), an invalid one rejects (it never throws synchronously).
  const m = 'killByPidFile';
  try {
    const file = checkString(m, arg('path'), path, true);
    const sig = checkSignal(m, arg('signal'), signal);
    const o = checkOptions<KillByPidFileOptions>(m, options, OPTION_NAMES.killByPidFile);
    const wait = checkNonNegative(m, arg('options.wait'), o.wait, 0);
    const force = checkBoolean(m, arg('options.force'), o.force, false);
    const remove = checkBoolean(m, arg('options.remove'), o.remove, false);
    const exe = resolveExe(m, o.exe) ?? null;
    return killChecked(file, sig, wait, force, remove, exe);
  } catch (e) {
    return Promise.reject(e);
  }
}

// A file nobody holds the lock of, without `exe`: the pid is not trusted. When that pid is dead
// the file is stale and, with `remove`, removed (under its lock, as for a daemon that exited).
function staleUnlocked(n: PidfileNative, file: string, fd: number, pid: number, remove: boolean, result: KillByPidFileResult): KillByPidFileResult {
  if (!pidIsDead(n, pid)) return result;
  return { ...result, exited: true, removed: remove && removeIfUnlocked(file, fd, pid) };
}

// No process has this pid now (pidfd_open, or kill(pid, 0) without pidfds: ESRCH).
function pidIsDead(n: PidfileNative, pid: number): boolean {
  const pidfd = n.pidfdOpen(pid);
  if (pidfd >= 0) {
    fs.closeSync(pidfd);
    return false;
  }
  if (pidfd !== -ENOSYS) return pidfd === -ESRCH;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function killChecked(file: string, sig: number, wait: number, force: boolean, remove: boolean, exe: string | null): Promise<KillByPidFileResult> {
  const result: KillByPidFileResult = { outcome: 'missing', pid: null, holder: null, signals: [], exited: false, removed: false, trustedBy: null };
  const fd = openPidFile(file);
  if (fd === null) return result;
  let pidfd = -1;
  try {
    const n = native();
    const pid = parsePid(fd, file);
    result.pid = pid;
    const holderNow = (): number => {
      const h = n.lockHolder(fd);
      result.holder = h === 0 ? null : h;
      return h;
    };
    const refused = (h: number): KillByPidFileResult => ({ ...result, outcome: h === 0 ? 'not-locked' : 'locked-by-other' });
    let h = holderNow();
    // The caller itself is no daemon to stop: a file naming it (stale, or written by the caller)
    // is never signalled, and not removed (a lock the caller holds is invisible to it).
    if (pid === process.pid) return refused(h);
    // Nobody holds the lock: trusted only by the program the process runs, if `exe` was given.
    const byExe = h === 0 && exe !== null;
    if (h === 0 && !byExe) return staleUnlocked(n, file, fd, pid, remove, refused(h));
    if (h !== pid && !byExe) return refused(h);
    // Pin the process: from here a pid reused by another process cannot be signalled through
    // the pidfd. Then check that the pinned process (the one with this pid now) holds the lock,
    // or runs `exe` (read after the pin, and trusted only if the pinned process is still alive
    // after the read: then the pid was not reused in between).
    const opened = n.pidfdOpen(pid);
    if (opened === -ESRCH) return { ...result, outcome: 'gone', exited: true, removed: remove && removeIfUnlocked(file, fd, pid) };
    if (opened < 0 && opened !== -ENOSYS) throw pidfileError(file, -opened, `pidfd_open(${pid}): ${errnoName(-opened)}`);
    pidfd = opened;
    if (byExe) {
      const running = processExe(pid);
      if (pidfd >= 0 && n.pidfdExited(pidfd)) return { ...result, outcome: 'gone', exited: true, removed: remove && removeIfUnlocked(file, fd, pid) };
      // Removed only when another program was seen: an exe we may not read (null) proves nothing.
      if (running !== exe) return { ...result, outcome: 'other-program', removed: remove && running !== null && removeIfUnlocked(file, fd, pid) };
      h = holderNow();
      if (h !== 0 && h !== pid) return refused(h);
      result.trustedBy = h === pid ? 'lock' : 'exe';
    } else {
      h = holderNow();
      if (h !== pid) return refused(h);
      result.trustedBy = 'lock';
    }
    const exeWatch = result.trustedBy === 'exe' ? exe : null;
    // Without pidfds (before Linux 5.3) kill(2) follows the check at once: a narrow window.
    const send = (s: number): number => {
      if (pidfd >= 0) return n.pidfdSendSignal(pidfd, s);
      try {
        process.kill(pid, s);
        return 0;
      } catch (e) {
        return -Math.abs((e as NodeJS.ErrnoException).errno ?? ESRCH);
      }
    };
    const deliver = (s: number): boolean => {
      const rc = send(s);
      if (rc === -ESRCH) return false;
      if (rc < 0) {
        throw new CommandError(`Cannot signal process ${pid} of pid file ${file}: ${errnoName(-rc)} (${errnoText(-rc)})`, {
          stage: 'pidfile',
          errno: -rc,
          code: errnoName(-rc),
          path: file,
          pid,
        });
      }
      result.signals.push(s === 0 ? '0' : signalName(s));
      return true;
    };
    if (!deliver(sig)) return { ...result, outcome: 'gone', exited: true, removed: remove && removeIfUnlocked(file, fd, pid) };
    result.outcome = 'signalled';
    if (wait > 0) {
      result.exited = await waitExit(n, pidfd, fd, pid, wait, exeWatch);
      if (!result.exited && force) {
        result.exited = !deliver(os.constants.signals.SIGKILL) || (await waitExit(n, pidfd, fd, pid, wait, exeWatch));
      }
    }
    if (remove && result.exited) result.removed = removeIfUnlocked(file, fd, pid);
    return result;
  } finally {
    if (pidfd >= 0) fs.closeSync(pidfd);
    fs.closeSync(fd);
  }
}
