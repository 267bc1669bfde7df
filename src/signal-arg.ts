/** A signal given as an argument (kill(), killByPidFile()): a name or a number, checked. */
import { signalNumber } from './errors';
import { checkInteger, valueError } from './validate';

/** Linux's highest signal number (SIGRTMAX). */
export const SIGNAL_MAX = 64;

/**
 * A signal name ('SIGTERM' or 'TERM') or number 0..64 (0 sends nothing, only checks) as its
 * number; throws a TypeError or RangeError naming `method` and `what` for anything else.
 */
export function checkSignal(method: string, what: string, signal: unknown): number {
  if (typeof signal === 'string') {
    const n = signalNumber(signal);
    if (n === undefined) throw valueError(method, what, `is not a signal name: '${signal}'`, RangeError);
    return n;
  }
  return checkInteger(method, what, signal, 0, SIGNAL_MAX);
}
