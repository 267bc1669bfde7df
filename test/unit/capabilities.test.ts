import { describe, expect, it } from 'vitest';
import { CAPABILITY_NAMES, capabilityName, capabilityNumber, Command, lastCapability } from '../../src/index';
import { resolveCapability } from '../../src/capabilities';

describe('capability names', () => {
  it('follows linux/capability.h', () => {
    expect(CAPABILITY_NAMES).toHaveLength(41);
    expect(capabilityNumber('CAP_CHOWN')).toBe(0);
    expect(capabilityNumber('CAP_SETUID')).toBe(7);
    expect(capabilityNumber('CAP_NET_BIND_SERVICE')).toBe(10);
    expect(capabilityNumber('CAP_NET_ADMIN')).toBe(12);
    expect(capabilityNumber('CAP_SYS_ADMIN')).toBe(21);
    expect(capabilityNumber('CAP_SETFCAP')).toBe(31);
    expect(capabilityNumber('CAP_AUDIT_READ')).toBe(37);
    expect(capabilityNumber('CAP_CHECKPOINT_RESTORE')).toBe(40);
    expect(capabilityName(39)).toBe('CAP_BPF');
    expect(capabilityName(41)).toBeUndefined();
    for (const [n, name] of CAPABILITY_NAMES.entries()) expect(capabilityNumber(name)).toBe(n);
  });

  it('accepts names without the prefix and in any case', () => {
    expect(capabilityNumber('NET_RAW')).toBe(13);
    expect(capabilityNumber('cap_kill')).toBe(5);
    expect(capabilityNumber('CAP_BOGUS')).toBeUndefined();
  });

  it('knows the kernel highest capability', () => {
    expect(lastCapability()).toBeGreaterThanOrEqual(0);
    expect(lastCapability()).toBeLessThanOrEqual(63);
  });

  it('resolves allowCap arguments', () => {
    expect(resolveCapability('Command.allowCap', 'CAP_NET_ADMIN')).toBe(12);
    expect(resolveCapability('Command.allowCap', 'SYS_CHROOT')).toBe(18);
    expect(resolveCapability('Command.allowCap', 0)).toBe(0);
    expect(() => resolveCapability('Command.allowCap', 'CAP_BOGUS')).toThrow(RangeError);
    expect(() => resolveCapability('Command.allowCap', 64)).toThrow(RangeError);
    expect(() => resolveCapability('Command.allowCap', -1)).toThrow(RangeError);
    expect(() => resolveCapability('Command.allowCap', 1.5)).toThrow(RangeError);
    expect(() => resolveCapability('Command.allowCap', lastCapability() + 1)).toThrow(/highest capability/);
    expect(() => resolveCapability('Command.allowCap', null)).toThrow(TypeError);
  });

  it('allowCap names the method in its errors', () => {
    expect(() => new Command('true').allowCap('CAP_NOPE' as 'CAP_KILL')).toThrow("Command.allowCap: argument 'cap' is not a known capability name: 'CAP_NOPE'");
  });
});
