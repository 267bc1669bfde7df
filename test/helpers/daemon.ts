/**
 * Daemons, pidfiles and /proc/locks, and the cleanup of processes a test
 * started that are not (or no longer) vircommand's to reap: daemons and
 * orphans reparented away from us, and child_process children. Linux only.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { expect } from 'vitest';
import { isAlive, sleep, waitFor } from './proc';

/**
 * SIGKILLs every pid of `pids` (daemons, orphans: not our children, so
 * nobody reaps them for us), waits up to 2 s for each to be gone, and
 * empties the set.
 */
export async function killPids(pids: Set<number>): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await waitFor(() => !isAlive(pid), 2000);
  }
  pids.clear();
}

/**
 * SIGKILLs the child_process children of `list` that still run, awaiting
 * each one's exit (for at most `boundMs` when given: an exit stolen by
 * someone else's waitpid would never be reported), and empties the list.
 */
export async function killChildProcesses(list: ChildProcess[], boundMs?: number): Promise<void> {
  for (const cp of list.splice(0)) {
    if (cp.exitCode === null && cp.signalCode === null) {
      cp.kill('SIGKILL');
      const exited = new Promise((resolve) => cp.once('exit', resolve));
      await (boundMs === undefined ? exited : Promise.race([exited, sleep(boundMs)]));
    }
  }
}

/**
 * The pid in a pidfile, asserting its content: decimal digits and one
 * newline (`newline: 'optional'`: at most one). The pid is added to `track`,
 * for killPids() after the test.
 */
export function readPidFile(file: string, opts: { track: Set<number>; newline?: 'required' | 'optional' }): number {
  const text = fs.readFileSync(file, 'utf8');
  const shape = opts.newline === 'optional' ? /^[1-9]\d*\n?$/ : /^[1-9]\d*\n$/;
  expect(text, `pidfile content ${JSON.stringify(text)}`).toMatch(shape);
  const pid = Number.parseInt(text, 10);
  opts.track.add(pid);
  return pid;
}

/** "maj:min:ino" as /proc/locks prints a file's device and inode. */
export function lockId(st: fs.BigIntStats): string {
  const dev = st.dev;
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${st.ino}`;
}

/** The fields of each /proc/locks line after its ordinal: class, mode, type, pid, maj:min:ino, start, end. */
function procLocks(): string[][] {
  return fs
    .readFileSync('/proc/locks', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/).slice(1));
}

/** /proc/locks lines "POSIX ADVISORY WRITE <pid> <maj:min:ino> <start> <end>" of a pid. */
export function locksOf(pid: number): string[] {
  return procLocks()
    .filter((f) => f[0] === 'POSIX' && Number(f[3]) === pid)
    .map((f) => f.join(' '));
}

/** Whether `pid` holds a POSIX write lock on the inode of `file` (/proc/locks). */
export function holdsLock(pid: number, file: string): boolean {
  const ino = fs.statSync(file).ino;
  return procLocks().some((f) => f[0] === 'POSIX' && f[2] === 'WRITE' && Number(f[3]) === pid && Number(f[4].split(':')[2]) === ino);
}
