/**
 * vircommand's exit statuses of its own (env(1)'s and timeout(1)'s: 125 from the package's
 * EXIT_CANCELED, 124 here), and the exit that passes the program's end on: the same exit status,
 * or the same signal raised on vircommand itself (libvirt's virProcessExitWithStatus).
 */
import * as os from 'node:os';
import { EXIT_CANCELED } from '../index';
import type { ProgramEnd } from './run-program';

/** Exit status when --timeout ended the program, as timeout(1). */
export const EXIT_TIMEOUT = 124;

/**
 * Exits with the program's status: the same exit status, or the same signal raised on
 * this process with its default action (libvirt's virProcessExitWithStatus), 128+N if
 * that does not end it.
 */
export function exitWithStatus(end: ProgramEnd): never {
  const number = end.signal === null ? undefined : (os.constants.signals as Record<string, number>)[end.signal];
  if (end.signal === null || number === undefined) process.exit(end.exitStatus ?? EXIT_CANCELED);
  const signal = end.signal as NodeJS.Signals;
  // Adding and removing a listener leaves the signal at SIG_DFL (libuv resets it), also
  // for SIGPIPE, which Node ignores. SIGKILL and SIGSTOP cannot be listened to.
  const noop = (): void => {};
  try {
    process.on(signal, noop);
    process.removeListener(signal, noop);
  } catch {
    // keeps its default action anyway
  }
  try {
    process.kill(process.pid, signal);
  } catch {
    // fall through to the exit status
  }
  process.exit(128 + number);
}
