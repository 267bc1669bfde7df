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

/** A resource amount: an integer >= 0, or Infinity for "unlimited" (returned as -1). */
export function checkLimit(method: string, what: string, value: unknown): number {
  if (typeof value !== 'number') throw typeError(method, what, 'a number', value);
  if (value === Infinity) return -1;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw rangeError(method, what, 'an integer >= 0 or Infinity', value);
  }
  return value;
}

/** A boolean option; undefined gives `fallback`. */
export function checkBoolean(method: string, what: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw typeError(method, what, 'a boolean', value);
  return value;
}

/** A plain options object or undefined. */
export function checkOptions<T extends object>(method: string, value: unknown): Partial<T> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw typeError(method, arg('options'), 'an object', value);
  return value as Partial<T>;
}

/** Bytes from a string (UTF-8) or a Uint8Array (copied). */
export function toBytes(method: string, what: string, value: unknown): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return Buffer.from(value);
  throw typeError(method, what, 'a string or a Uint8Array', value);
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

/** Checks RunOptions/WaitOptions; `method` names the caller in messages. */
export function checkRunOptions(method: string, options: unknown, defaultGrace: number): ParsedRunOptions {
  const o = checkOptions<Record<string, unknown>>(method, options);
  const signal = o.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw typeError(method, arg('options.signal'), 'an AbortSignal', signal);
  const encoding = o.encoding ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'buffer') {
    throw valueError(method, arg('options.encoding'), `must be 'utf8' or 'buffer' (received ${String(encoding)})`);
  }
  const maxBuffer = o.maxBuffer === undefined ? 0 : checkInteger(method, arg('options.maxBuffer'), o.maxBuffer, 0, Number.MAX_SAFE_INTEGER);
  return {
    status: checkBoolean(method, arg('options.status'), o.status, false),
    timeout: checkNonNegative(method, arg('options.timeout'), o.timeout, 0),
    signal,
    killGrace: checkNonNegative(method, arg('options.killGrace'), o.killGrace, defaultGrace),
    encoding,
    maxBuffer,
  };
}
