/**
 * Argument checks. Every failure throws at once with a message naming the method and
 * the argument, and a Node-style `code`:
 * - wrong type: TypeError, ERR_INVALID_ARG_TYPE
 * - bad string value (NUL byte, '=' in a name, empty): TypeError, ERR_INVALID_ARG_VALUE
 * - number out of range or not an integer: RangeError, ERR_OUT_OF_RANGE
 */

export type ArgErrorCode = 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE' | 'ERR_OUT_OF_RANGE';

/** `argument 'name'`: how messages name a parameter; array elements are named `args[2]`. */
export function arg(name: string): string {
  return `argument '${name}'`;
}

// A short description of what was received, for type errors.
function received(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') {
    return `${typeof value} ${String(value)}`;
  }
  return typeof value;
}

function withCode<E extends Error>(err: E, code: ArgErrorCode): E {
  Object.defineProperty(err, 'code', { value: code, enumerable: true, configurable: true, writable: true });
  return err;
}

/** TypeError (ERR_INVALID_ARG_TYPE): `method: what must be EXPECTED (received X)`. */
export function typeError(method: string, what: string, expected: string, value: unknown): TypeError {
  return withCode(new TypeError(`${method}: ${what} must be ${expected} (received ${received(value)})`), 'ERR_INVALID_ARG_TYPE');
}

/** TypeError or RangeError (ERR_INVALID_ARG_VALUE): `method: what REASON`. */
export function valueError(method: string, what: string, reason: string, ctor: typeof TypeError | typeof RangeError = TypeError): Error {
  return withCode(new ctor(`${method}: ${what} ${reason}`), 'ERR_INVALID_ARG_VALUE');
}

/** RangeError (ERR_OUT_OF_RANGE): `method: what must be RANGE (received X)`. */
export function rangeError(method: string, what: string, range: string, value: unknown): RangeError {
  return withCode(new RangeError(`${method}: ${what} must be ${range} (received ${String(value)})`), 'ERR_OUT_OF_RANGE');
}

/** A string without NUL bytes (NUL cannot cross execve); `nonEmpty` also rejects ''. */
export function checkString(method: string, what: string, value: unknown, nonEmpty = false): string {
  if (typeof value !== 'string') throw typeError(method, what, 'a string', value);
  if (value.includes('\0')) throw valueError(method, what, 'must not contain NUL bytes');
  if (nonEmpty && value === '') throw valueError(method, what, 'must not be empty');
  return value;
}

/** An environment variable name: non-empty, no '=', no NUL. */
export function checkEnvName(method: string, what: string, value: unknown): string {
  const name = checkString(method, what, value, true);
  if (name.includes('=')) throw valueError(method, what, "must not contain '='");
  return name;
}

/** An integer in [min, max]; a non-number is a TypeError, anything else a RangeError. */
export function checkInteger(method: string, what: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') throw typeError(method, what, 'a number', value);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw rangeError(method, what, `an integer >= ${min} and <= ${max}`, value);
  }
  return value;
}

/** A finite number >= 0 (timeouts, graces, sizes); undefined gives `fallback`. */
export function checkNonNegative(method: string, what: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw typeError(method, what, 'a number', value);
  if (!Number.isFinite(value) || value < 0) throw rangeError(method, what, 'a finite number >= 0', value);
  return value;
}

/** The kernel's RLIM_INFINITY: (rlim_t)-1, "unlimited". */
export const RLIM_INFINITY = 2n ** 64n - 1n;

/**
 * A resource amount, as a bigint: a number from 0 to 2^53-1, a bigint from 0n to 2^64-1
 * (rlim_t's range), or Infinity / 'unlimited' / RLIM_INFINITY (2^64-1) for "unlimited". A
 * number past 2^53-1 is refused: it is no longer exact (use a bigint).
 */
export function checkLimit(method: string, what: string, value: unknown): bigint {
  if (value === Infinity || value === 'unlimited') return RLIM_INFINITY;
  if (typeof value === 'bigint') {
    if (value < 0n || value > RLIM_INFINITY) throw rangeError(method, what, 'a bigint >= 0n and <= 2n ** 64n - 1n', `${value}n`);
    return value;
  }
  if (typeof value !== 'number') throw typeError(method, what, "a number, a bigint or 'unlimited'", value);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw rangeError(method, what, 'an integer >= 0 and <= 2^53-1 (a bigint above), or Infinity', value);
  }
  return BigInt(value);
}

/** A boolean option; undefined gives `fallback`. */
export function checkBoolean(method: string, what: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw typeError(method, what, 'a boolean', value);
  return value;
}

/**
 * A plain options object or undefined. With `names` (OPTION_NAMES in types.ts), an own key
 * that is not one of them is refused: a typo must not silently mean "option not given".
 */
export function checkOptions<T extends object>(method: string, value: unknown, names?: readonly string[]): Partial<T> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw typeError(method, arg('options'), 'an object', value);
  if (names !== undefined) {
    for (const key of Object.keys(value)) {
      if (names.includes(key)) continue;
      const near = names.find((n) => nearlyEqual(n, key));
      const hint = near === undefined ? '' : `did you mean '${near}'? `;
      throw valueError(method, arg('options'), `has an unknown option '${key}' (${hint}known: ${names.join(', ')})`);
    }
  }
  return value;
}

// Case-insensitively equal, or one edit apart (a letter missing, extra, changed or two swapped).
function nearlyEqual(a: string, b: string): boolean {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x === y) return true;
  if (Math.abs(x.length - y.length) > 1) return false;
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  const tail = (p: number, q: number): boolean => x.slice(p) === y.slice(q);
  return tail(i + 1, i + 1) || tail(i + 1, i) || tail(i, i + 1) || (x[i] === y[i + 1] && x[i + 1] === y[i] && tail(i + 2, i + 2));
}

/**
 * Largest delay of the timers (timeout, killGrace, abort's grace), in ms: 2^53-1, the largest
 * exact integer. Past 2^31-1 ms (~24.8 days) JavaScript's setTimeout cannot wait in one go, so
 * longer delays are chained (run/long-timer.ts); native keeps 64-bit deadlines.
 */
export const MAX_TIMER_MS = Number.MAX_SAFE_INTEGER;

/**
 * A delay in ms for a timer: a number from 0 to MAX_TIMER_MS, a fraction rounded up to the next
 * ms (0.5 is 1 ms, never "none"); undefined gives `fallback`. NaN, Infinity and negatives are
 * RangeErrors.
 */
export function checkTimerMs(method: string, what: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw typeError(method, what, 'a number', value);
  if (!(value >= 0 && value <= MAX_TIMER_MS)) throw rangeError(method, what, `a number of ms >= 0 and <= ${MAX_TIMER_MS} (2^53-1)`, value);
  return Math.ceil(value);
}

/** Bytes from a string (UTF-8) or a Uint8Array (copied). */
export function toBytes(method: string, what: string, value: unknown): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.from(value);
  throw typeError(method, what, 'a string or a Uint8Array', value);
}

/**
 * A copy of `value` (a string as UTF-8, or a Uint8Array's bytes) that nothing else can reach:
 * it has its own ArrayBuffer (not Buffer's shared pool), which no caller holds and so none can
 * change, transfer or detach. Native reads the bytes of setInputBuffer() and setSendBuffer()
 * in place during a run, so they must stay this copy's: a caller's ArrayBuffer transferred away
 * (structuredClone(x, { transfer })) frees its memory once collected, whatever references to the
 * view native holds, and a SharedArrayBuffer may be written by another thread mid-run.
 * @throws {TypeError} for a Uint8Array whose ArrayBuffer is detached (its bytes are gone)
 */
export function toPrivateBytes(method: string, what: string, value: unknown): Buffer {
  if (value instanceof Uint8Array && isDetached(value)) {
    throw valueError(method, what, 'is a Uint8Array whose ArrayBuffer was detached (transferred): its bytes are gone');
  }
  const src = typeof value === 'string' ? Buffer.from(value, 'utf8') : value instanceof Uint8Array ? value : null;
  if (src === null) throw typeError(method, what, 'a string or a Uint8Array', value);
  const copy = Buffer.allocUnsafeSlow(src.byteLength);
  copy.set(src);
  return copy;
}

// A view on a detached ArrayBuffer reads as empty; only constructing a view over it tells it
// from a real empty one (Node 20 has no ArrayBuffer.prototype.detached).
function isDetached(view: Uint8Array): boolean {
  if (view.byteLength !== 0 || !(view.buffer instanceof ArrayBuffer)) return false;
  try {
    new Uint8Array(view.buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** Parsed options of run()/runSync()/wait(). */
export interface ParsedRunOptions {
  status: boolean;
  timeout: number;
  signal: AbortSignal | undefined;
  killGrace: number;
  encoding: 'utf8' | 'buffer';
  maxBuffer: number;
}

/**
 * Checks RunOptions/WaitOptions; `method` names the caller in messages, `names` are the
 * options it accepts (OPTION_NAMES.run or .wait). Timer values come back as whole ms.
 */
export function checkRunOptions(method: string, options: unknown, defaultGrace: number, names: readonly string[]): ParsedRunOptions {
  const o = checkOptions<Record<string, unknown>>(method, options, names);
  const signal = o.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw typeError(method, arg('options.signal'), 'an AbortSignal', signal);
  const encoding = o.encoding ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'buffer') {
    throw valueError(method, arg('options.encoding'), `must be 'utf8' or 'buffer' (received ${typeof encoding === 'string' ? encoding : received(encoding)})`);
  }
  const maxBuffer = o.maxBuffer === undefined ? 0 : checkInteger(method, arg('options.maxBuffer'), o.maxBuffer, 0, Number.MAX_SAFE_INTEGER);
  return {
    status: checkBoolean(method, arg('options.status'), o.status, false),
    timeout: checkTimerMs(method, arg('options.timeout'), o.timeout, 0),
    signal,
    killGrace: checkTimerMs(method, arg('options.killGrace'), o.killGrace, defaultGrace),
    encoding,
    maxBuffer,
  };
}
