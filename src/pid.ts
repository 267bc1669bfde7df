/**
 * pidWait()/pidAbort() (libvirt's virProcessWait/virProcessAbort) for children that a
 * Command started with runAsync({ autoReap: false }) and then released with free().
 */
import * as os from 'node:os';
import { FREE_GRACE_MS } from './constants';
import { CommandError, decodeStatus, errnoName, statusError } from './errors';
import { loadNative } from './native';
import type { PidWaitOptions } from './types';
import { arg, checkBoolean, checkInteger, checkOptions } from './validate';

// Raw statuses of released children that had already been reaped when released.
const reaped = new Map<number, number>();

/** Keeps the status of a released child its Command had already reaped, for pidWait(). */
export function rememberReaped(pid: number, rawStatus: number): void {
  if (pid > 0) reaped.set(pid, rawStatus);
}

function waitRaw(pid: number): Promise<number> {
  const known = reaped.get(pid);
  if (known !== undefined) {
    reaped.delete(pid);
    return Promise.resolve(known);
  }
  return new Promise((resolve, reject) => {
    loadNative().pidWait(pid, (err, status) => {
      if (!err) return resolve(status);
      const errno = (err as { errno?: unknown }).errno;
      const n = typeof errno === 'number' ? Math.abs(errno) : null;
      reject(new CommandError(`Unable to wait for process ${pid}: ${err.message}`, {
        command: String(pid), pid, stage: 'wait', errno: n, code: n === null ? undefined : errnoName(n), cause: err,
      }));
    });
  });
}

/**
 * Waits for a released child and applies the status policy: without `status`, anything
 * but exit status 0 throws; with `status`, resolves with the exit status (a death by
 * signal still throws), or with `raw` too, the raw wait status.
 * @throws {CommandError} for a failure per the policy, or when the pid cannot be waited for
 * @throws {RangeError} for a pid that is not a positive integer
 * @example const status = await pidWait(pid, { status: true });
 */
export async function pidWait(pid: number, options?: PidWaitOptions): Promise<number> {
  checkInteger('pidWait', arg('pid'), pid, 1, 2 ** 31 - 1);
  const o = checkOptions<PidWaitOptions>('pidWait', options);
  const wantStatus = checkBoolean('pidWait', arg('options.status'), o.status, false);
  const raw = checkBoolean('pidWait', arg('options.raw'), o.raw, false);
  const status = await waitRaw(pid);
  const d = decodeStatus(status);
  if (wantStatus && (raw || d.exited)) return raw ? status : (d.exitStatus as number);
  if (status !== 0) throw statusError(status, { command: String(pid), pid }, '');
  return 0;
}

/**
 * Kills and reaps a released child: SIGTERM, then SIGKILL 10 ms later if it still runs.
 * Never throws; a pid that is gone or not ours is ignored.
 * @example await pidAbort(pid);
 */
export async function pidAbort(pid: number): Promise<void> {
  if (!Number.isInteger(pid) || pid <= 0) return;
  if (reaped.delete(pid)) return;
  try {
    const native = loadNative();
    await new Promise<void>((resolve) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      native.pidWait(pid, () => {
        done = true;
        clearTimeout(timer);
        resolve();
      });
      if (done) return;
      native.pidKill(pid, os.constants.signals.SIGTERM);
      timer = setTimeout(() => {
        try {
          if (!done) native.pidKill(pid, os.constants.signals.SIGKILL);
        } catch {
          // already gone
        }
      }, FREE_GRACE_MS);
    });
  } catch {
    // never throws: the child is gone, not ours, or the addon is missing
  }
}
