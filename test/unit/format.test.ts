import { describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { formatArg } from '../../src/format';

const f = (fmt: string, ...values: unknown[]): string => formatArg('Command.addArgFormat', fmt, values);

function errorOf(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

describe('addArgFormat printf subset', () => {
  it('formats the conversions', () => {
    expect(f('%s,size=%dM', 'disk0', 512)).toBe('disk0,size=512M');
    expect(f('%i %u %x %o', -7, 7, 255, 8)).toBe('-7 7 ff 10');
    expect(f('%f', 1.5)).toBe('1.500000');
    expect(f('%.2f|%.0f', 3.14159, 2.5)).toBe('3.14|3');
    expect(f('100%%')).toBe('100%');
    expect(f('no conversions')).toBe('no conversions');
    expect(f('')).toBe('');
  });

  it('applies width, precision and the - and 0 flags', () => {
    expect(f('[%5d]', 42)).toBe('[   42]');
    expect(f('[%-5d]', 42)).toBe('[42   ]');
    expect(f('[%05d]', -42)).toBe('[-0042]');
    expect(f('[%-05d]', 42)).toBe('[42   ]');
    expect(f('[%.3d]', 7)).toBe('[007]');
    expect(f('[%08.3d]', 7)).toBe('[     007]'); // 0 is ignored with a precision
    expect(f('[%.0d]', 0)).toBe('[]');
    expect(f('[%6s]', 'ab')).toBe('[    ab]');
    expect(f('[%-6s]', 'ab')).toBe('[ab    ]');
    expect(f('[%.2s]', 'abcdef')).toBe('[ab]');
    expect(f('[%08.2f]', -3.14159)).toBe('[-0003.14]');
    expect(f('[%04x]', 10)).toBe('[000a]');
  });

  it('takes bigints for integer conversions and prints huge values exactly', () => {
    expect(f('%d', 2n ** 64n)).toBe('18446744073709551616');
    expect(f('%x', 2n ** 64n - 1n)).toBe('ffffffffffffffff');
    expect(f('%u', 0n)).toBe('0');
    expect(f('%.1f', 1e21)).toBe('1000000000000000000000.0');
    expect(f('%f %f %f', Infinity, -Infinity, NaN)).toBe('inf -inf nan');
    expect(f('%.1f', -0)).toBe('-0.0');
  });

  it('accepts and ignores C length modifiers', () => {
    expect(f('%llu %zu %ld %hhd', 1, 2, 3, 4)).toBe('1 2 3 4');
  });

  it('rejects wrong types with a TypeError naming the method', () => {
    const e = errorOf(() => f('%d', '5'));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.code).toBe('ERR_INVALID_ARG_TYPE');
    expect(e.message).toMatch(/^Command\.addArgFormat: values\[0\] \(for '%d'\) must be an integer/);
    expect(() => f('%d', 1.5)).toThrow(RangeError);
    expect(() => f('%u', -1)).toThrow(RangeError);
    expect(() => f('%x', -1n)).toThrow(RangeError);
    expect(() => f('%f', 1n)).toThrow(TypeError);
    expect(() => f('%s', { a: 1 })).toThrow(TypeError);
    expect(() => f('%s', undefined)).toThrow(TypeError);
  });

  it('rejects a wrong number of values and unsupported conversions', () => {
    const few = errorOf(() => f('%s %s', 'a'));
    expect(few).toBeInstanceOf(TypeError);
    expect(few.message).toContain('Command.addArgFormat');
    expect(() => f('%s', 'a', 'b')).toThrow(/has 2 values but the format uses 1/);
    expect(() => f('%X', 1)).toThrow(/unsupported conversion '%X'/);
    expect(() => f('%c', 65)).toThrow(TypeError);
    expect(() => f('trailing %')).toThrow(/unsupported conversion/);
  });

  it('appends one argument through the Command', () => {
    const cmd = new Command('qemu').addArgFormat('-m').addArgFormat('%dM', 512).addArgFormat('%s', 'a b');
    expect(cmd.toString()).toBe("qemu -m 512M 'a b'");
    expect(() => cmd.addArgFormat('%s', 'a\0b')).toThrow(/NUL/);
  });
});
