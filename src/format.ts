/**
 * The printf subset of addArgFormat(): %s %d %i %u %x %o %f and %%, with the flags '-'
 * (left-justify) and '0' (zero-pad), a width and a .precision. C length modifiers
 * (hh h l ll j z t L q) are accepted and ignored, so format strings ported from C work.
 * Integer conversions take integral numbers or bigints.
 */
import { arg, rangeError, typeError, valueError } from './validate';

/**
 * Largest width or precision: the kernel's MAX_ARG_STRLEN (131072 bytes), the most one argument
 * can hold at execve. A larger one could only make an argument that cannot run, or one too
 * large for a string at all (`%999999999999d`).
 */
export const MAX_FIELD = 131072;

const SPEC = /([-0]*)(\d+)?(?:\.(\d*))?(?:hh|h|ll|l|j|z|t|L|q)?([a-zA-Z%]?)/y;

interface Spec {
  left: boolean;
  zero: boolean;
  width: number;
  precision: number | null;
  conv: string;
}

// Pads `body` (with its sign already split off) to the width.
function pad(spec: Spec, sign: string, body: string, zeroAllowed: boolean): string {
  const len = sign.length + [...body].length;
  if (len >= spec.width) return sign + body;
  const fill = spec.width - len;
  if (spec.left) return sign + body + ' '.repeat(fill);
  if (spec.zero && zeroAllowed) return sign + '0'.repeat(fill) + body;
  return ' '.repeat(fill) + sign + body;
}

function formatInteger(method: string, spec: Spec, value: unknown, index: number): string {
  const what = `values[${index}] (for '%${spec.conv}')`;
  let n: bigint;
  if (typeof value === 'bigint') n = value;
  else if (typeof value !== 'number') throw typeError(method, what, 'an integer number or a bigint', value);
  else if (Number.isInteger(value))
    n = BigInt(value); // exact, however large (2 ** 64 prints 18446744073709551616)
  else throw rangeError(method, what, 'an integer (not a fraction, NaN or Infinity)', value);
  const unsigned = spec.conv !== 'd' && spec.conv !== 'i';
  if (unsigned && n < 0n) throw rangeError(method, what, 'a non-negative integer', typeof value === 'bigint' ? `${value}n` : value);
  const base = spec.conv === 'x' ? 16 : spec.conv === 'o' ? 8 : 10;
  let digits = (n < 0n ? -n : n).toString(base);
  if (spec.precision !== null) digits = spec.precision === 0 && n === 0n ? '' : digits.padStart(spec.precision, '0');
  return pad(spec, n < 0n ? '-' : '', digits, spec.precision === null);
}

function formatFloat(method: string, spec: Spec, value: unknown, index: number): string {
  if (typeof value !== 'number') throw typeError(method, `values[${index}] (for '%f')`, 'a number', value);
  const precision = spec.precision ?? 6;
  if (precision > 100) throw valueError(method, arg('format'), `has a precision above 100 in '%f'`, RangeError);
  const sign = value < 0 || Object.is(value, -0) ? '-' : '';
  const abs = Math.abs(value);
  if (!Number.isFinite(abs)) return pad(spec, sign, Number.isNaN(abs) ? 'nan' : 'inf', false);
  // toFixed switches to exponent form from 1e21; such doubles are integers, so print them exactly.
  const body = abs >= 1e21 ? BigInt(abs).toString() + (precision > 0 ? '.' + '0'.repeat(precision) : '') : abs.toFixed(precision);
  return pad(spec, sign, body, true);
}

function formatString(method: string, spec: Spec, value: unknown, index: number): string {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint' && typeof value !== 'boolean') {
    throw typeError(method, `values[${index}] (for '%s')`, 'a string, number, bigint or boolean', value);
  }
  let text = String(value);
  if (spec.precision !== null) text = [...text].slice(0, spec.precision).join('');
  return pad(spec, '', text, false);
}

/**
 * Formats `values` into `format`, printf-style.
 * formatArg('Command.addArgFormat', '-m %d,%s', [512, 'x']) === '-m 512,x'
 * @throws {TypeError} unsupported conversion, wrong value count or type
 */
export function formatArg(method: string, format: string, values: readonly unknown[]): string {
  let out = '';
  let used = 0;
  let i = 0;
  while (i < format.length) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    SPEC.lastIndex = pct + 1;
    const m = SPEC.exec(format) as RegExpExecArray;
    const [whole, flags, width, precision, conv] = m;
    i = pct + 1 + whole.length;
    if (conv === '%' && whole === '%') {
      out += '%';
      continue;
    }
    if (!'sdiuxof'.includes(conv) || conv === '' || conv === '%') {
      const shown = format.slice(pct, i) || '%';
      throw valueError(method, arg('format'), `has an unsupported conversion '${shown}' at index ${pct}`);
    }
    if (used >= values.length) {
      throw valueError(method, arg('format'), `needs more values than the ${values.length} given`);
    }
    const spec: Spec = {
      left: flags.includes('-'),
      zero: flags.includes('0'),
      width: width === undefined ? 0 : Number(width),
      precision: precision === undefined ? null : Number(precision || '0'),
      conv,
    };
    if (spec.width > MAX_FIELD || (spec.precision ?? 0) > MAX_FIELD) {
      throw valueError(method, arg('format'), `has a width or precision above ${MAX_FIELD} (MAX_ARG_STRLEN) in '${format.slice(pct, i)}'`, RangeError);
    }
    const value = values[used];
    if (conv === 's') out += formatString(method, spec, value, used);
    else if (conv === 'f') out += formatFloat(method, spec, value, used);
    else out += formatInteger(method, spec, value, used);
    used++;
  }
  if (used < values.length) {
    throw valueError(method, arg('values'), `has ${values.length} values but the format uses ${used}`);
  }
  return out;
}
