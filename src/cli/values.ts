/**
 * The option values that are more than a string: counts, rlimit amounts, user and group ids,
 * durations, signals, nice values and umasks. Each parser takes the option's name for its usage
 * error (`--nice: expected an integer from -20 to 19, got 'x'`). Values the builder checks
 * itself (capability names, paths) are passed on as given (build-command.ts words its errors).
 */
import * as os from 'node:os';
import { lookupGroup, lookupUser } from '../user-db';
import { CliError, badValue } from './cli-error';

/** A non-negative decimal integer. */
export function parseCount(name: string, value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw badValue(name, value, 'a non-negative integer');
  return Number(value);
}

// An rlimit amount: an integer, or 'unlimited'/'infinity'.
function parseLimit(name: string, value: string): number {
  if (/^(unlimited|infinity)$/i.test(value)) return Infinity;
  return parseCount(name, value);
}

/**
 * A user or group: a number, or a name the C library resolves (getpwnam_r/getgrnam_r in the
 * addon, so users and groups of every NSS source are found, not only those of /etc/passwd).
 */
export function parseId(name: string, value: string, kind: 'user' | 'group'): number {
  if (/^\d+$/.test(value)) return parseCount(name, value);
  if (value === '' || value.includes('\0')) throw badValue(name, value, `a ${kind} name or id`);
  let id: number | undefined;
  try {
    id = kind === 'user' ? lookupUser(value)?.uid : lookupGroup(value)?.gid;
  } catch (err) {
    throw new CliError('usage', `${name}: cannot look up ${kind} '${value}': ${err instanceof Error ? err.message : String(err)}`);
  }
  if (id === undefined) throw new CliError('usage', `${name}: no ${kind} '${value}' on this system (give a number)`);
  return id;
}

/** --rlimit NAME=SOFT[:HARD]; the name is checked by setRlimit(). */
export function parseRlimit(value: string): { resource: string; soft: number; hard: number } {
  const m = /^([A-Za-z_]+)=([^:]+)(?::(.+))?$/.exec(value);
  if (!m) throw badValue('--rlimit', value, 'NAME=SOFT[:HARD]');
  const soft = parseLimit('--rlimit', m[2]);
  return { resource: m[1].toUpperCase(), soft, hard: m[3] === undefined ? soft : parseLimit('--rlimit', m[3]) };
}

/** A duration in seconds (fractions allowed) as ms, > 0 and within what run() takes. */
export function parseSeconds(name: string, value: string): number {
  const s = Number(value);
  // run()'s timeout takes up to 2^53-1 ms (about 285,000 years); longer than setTimeout's
  // 2^31-1 ms (24.8 days) is fine: the timers are chained (run()'s, and run/long-timer.ts).
  if (!/^\d+(\.\d+)?$/.test(value) || !(s > 0) || s * 1000 > Number.MAX_SAFE_INTEGER) {
    throw badValue(name, value, `a number of seconds > 0 and <= ${Math.floor(Number.MAX_SAFE_INTEGER / 1000)}`);
  }
  return Math.max(1, Math.round(s * 1000));
}

/** A signal: a name (TERM, SIGTERM, term) or a number, as the name run() and kill() take. */
export function parseSignal(name: string, value: string): string {
  const sigs = os.constants.signals as Record<string, number>;
  if (/^\d+$/.test(value)) {
    const found = Object.keys(sigs).find((k) => sigs[k] === Number(value));
    if (found) return found;
  } else {
    const upper = value.toUpperCase();
    const full = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (sigs[full] !== undefined) return full;
  }
  throw badValue(name, value, 'a signal name or number (TERM, SIGINT, 9)');
}

/** --nice N: -20 (most favourable) to 19. */
export function parseNice(value: string): number {
  if (!/^-?\d+$/.test(value) || Number(value) < -20 || Number(value) > 19) throw badValue('--nice', value, 'an integer from -20 to 19');
  return Number(value);
}

/** --umask MASK: octal, up to 0777 (0 is a real umask). */
export function parseUmask(value: string): number {
  if (!/^[0-7]{1,4}$/.test(value) || parseInt(value, 8) > 0o777) throw badValue('--umask', value, 'an octal mask up to 0777');
  return parseInt(value, 8);
}
