/**
 * pidWait()/pidAbort() (libvirt's virProcessWait/virProcessAbort) for children that a
 * Command started with runAsync({ autoReap: false }) and then released with free().
 */
import * as os from 'node:os';
import { BroadcastChannel } from 'node:worker_threads';
import { FREE_GRACE_MS } from './constants';
import { CommandError, decodeStatus, errnoName, statusError } from './errors';
import { loadNative } from './native';
import { OPTION_NAMES, type PidWaitOptions } from './types';
import { arg, checkBoolean, checkInteger, checkOptions } from './validate';

// Raw statuses of released children that had already been reaped when released.
const reaped = new Map<number, number>();
// Pids released by a Command (runAsync({ autoReap: false }), then free()) and not yet reaped:
// the only pids pidWait()/pidAbort() act on, so a recycled or foreign pid is never touched.
const released = new Set<number>();

// The registry is per process: a child released in a Worker may be waited for by another
// thread. Each thread's copy of this module applies the others' changes.
type RegistryMessage = { op: 'released'; pid: number } | { op: 'reaped'; pid: number; status: number } | { op: 'gone'; pid: number };
let channel: BroadcastChannel | null = null;
try {
  channel = new BroadcastChannel('vircommand.pid-registry');
  channel.unref();
  channel.onmessage = (ev: unknown) => apply((ev as { data: RegistryMessage }).data);
} catch {
  channel = null;
}

function apply(m: RegistryMessage): void {
  if (m.op === 'released') released.add(m.pid);
  else if (m.op === 'reaped') {
    released.delete(m.pid);
    reaped.set(m.pid, m.status);
  } else {
    released.delete(m.pid);
    reaped.delete(m.pid);
  }
}

function change(m: RegistryMessage): void {
  apply(m);
  try {
    channel?.postMessage(m);
  } catch {
    // no other thread to tell
  }
}

/** Records a child released by free(), so that pidWait()/pidAbort() may act on it. */
export function rememberReleased(pid: number): void {
  if (pid > 0) change({ op: 'released', pid });
}

/** Keeps the status of a released child its Command had already reaped, for pidWait(). */
export function rememberReaped(pid: number, rawStatus: number): void {
  if (pid > 0) change({ op: 'reaped', pid, status: rawStatus });
}

function waitRaw(pid: number): Promise<number> {
  const known = reaped.get(pid);
  if (known !== undefined) {
    change({ op: 'gone', pid });
    return Promise.resolve(known);
  }
  if (!released.has(pid)) {
    const errno = os.constants.errno.ECHILD;
    return Promise.reject(
      new CommandError(
        `Unable to wait for process ${pid}: ECHILD (not a child released by a Command; pidWait() only waits for children released with free() after runAsync({ autoReap: false }))`,
        { command: String(pid), pid, stage: 'wait', errno, code: errnoName(errno) },
      ),
    );
  }
  return new Promise((resolve, reject) => {
    loadNative().pidWait(pid, (err, status) => {
      if (!err) {
        change({ op: 'gone', pid });
        return resolve(status);
      }
      const errno = (err as { errno?: unknown }).errno;
      const n = typeof errno === 'number' ? Math.abs(errno) : null;
      if (n === os.constants.errno.ECHILD) change({ op: 'gone', pid });
      reject(
        new CommandError(`Unable to wait for process ${pid}: ${err.message}`, {
          command: String(pid),
          pid,
          stage: 'wait',
          errno: n,
          code: n === null ? undefined : errnoName(n),
          cause: err,
        }),
      );
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
  const o = checkOptions<PidWaitOptions>('pidWait', options, OPTION_NAMES.pidWait);
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
 * A pid that is gone, or was not released by a Command, is ignored, and so is a pid <= 0
 * (as libvirt's virProcessAbort does); what is not a pid at all is refused.
 * @throws {TypeError} for a non-number; {RangeError} for a fraction, NaN, Infinity or a pid
 * above 2^31-1 (as a rejection)
 * @example await pidAbort(pid);
 */
export async function pidAbort(pid: number): Promise<void> {
  checkInteger('pidAbort', arg('pid'), pid, Number.MIN_SAFE_INTEGER, 2 ** 31 - 1);
  if (pid <= 0) return;
  if (reaped.has(pid)) return change({ op: 'gone', pid });
  if (!released.has(pid)) return;
  try {
    const native = loadNative();
    await new Promise<void>((resolve) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      native.pidWait(pid, () => {
        done = true;
        change({ op: 'gone', pid });
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
