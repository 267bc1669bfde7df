/**
 * The name tables behind the literal-union types (src/stages.ts, src/errno-names.ts,
 * src/signal-names.ts) against their sources of truth: the addon's stage list
 * (native/core/stage.cc), and Node's os.constants on this Linux. A native stage without a
 * TypeScript name fails here.
 */
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { ERRNO_NAMES } from '../../src/errno-names';
import { ERRNO_TEXT } from '../../src/errno-text';
import { errnoName, signalName } from '../../src/errors';
import { COMMAND_STAGES } from '../../src/index';
import { loadNative } from '../../src/native';
import { SIGNAL_NAMES } from '../../src/signal-names';

describe('name tables', () => {
  it('COMMAND_STAGES has every stage of the addon, in its order, and validate first', () => {
    const native = loadNative().stageNames!().filter((s) => s !== 'none');
    const missing = native.filter((s) => !(COMMAND_STAGES as readonly string[]).includes(s));
    expect(missing, 'native stages without a name in src/stages.ts COMMAND_STAGES').toEqual([]);
    expect(COMMAND_STAGES.filter((s) => native.includes(s))).toEqual(native);
    expect(COMMAND_STAGES.filter((s) => !native.includes(s))).toEqual(['validate']);
  });

  it('ERRNO_NAMES names errnos 1..133 as Node does, and every errno Node knows', () => {
    expect(ERRNO_NAMES).toHaveLength(ERRNO_TEXT.length);
    const errno = os.constants.errno as Record<string, number>;
    const nodeFirst = new Map<number, string>();
    for (const [name, n] of Object.entries(errno)) if (!nodeFirst.has(n)) nodeFirst.set(n, name);
    for (const [n, name] of nodeFirst) expect({ n, name: ERRNO_NAMES[n] }).toEqual({ n, name });
    // The kernel's names where Node has none (libuv would say 'Unknown system error -126').
    expect([15, 44, 121, 126, 130, 133].map(errnoName)).toEqual(['ENOTBLK', 'ECHRNG', 'EREMOTEIO', 'ENOKEY', 'EOWNERDEAD', 'EHWPOISON']);
    expect(ERRNO_NAMES.filter((name, n) => n > 0 && name === '')).toHaveLength(2); // 41 and 58 are unused
    expect(errnoName(2)).toBe('ENOENT');
    expect(errnoName(11)).toBe('EAGAIN');
    expect(errnoName(500)).toBe('E500');
  });

  it('SIGNAL_NAMES is the list of os.constants.signals; signalName() answers from it', () => {
    expect([...SIGNAL_NAMES]).toEqual(Object.keys(os.constants.signals));
    expect(signalName(9)).toBe('SIGKILL');
    expect(signalName(6)).toBe('SIGABRT');
    expect(signalName(36)).toBe('SIGRTMIN+2');
    expect(signalName(32)).toBe('SIG32');
  });
});
