/**
 * Capability names and numbers, as in linux/capability.h (0..40, Linux 5.9+), and the
 * running kernel's highest capability (/proc/sys/kernel/cap_last_cap).
 */
import * as fs from 'node:fs';
import { rangeError, typeError, valueError } from './validate';

/** CAPABILITY_NAMES[n] is the name of capability n ('CAP_CHOWN' is 0). */
export const CAPABILITY_NAMES = Object.freeze([
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const);

/** A capability's name: 'CAP_NET_ADMIN', ... */
export type CapabilityName = (typeof CAPABILITY_NAMES)[number];

/**
 * A capability as allowCap() takes it by name: 'CAP_NET_ADMIN' or 'NET_ADMIN', in upper or
 * lower case (at run time any case is accepted; the type lists these four spellings).
 */
export type CapabilityInput = CapabilityName | Lowercase<CapabilityName> | (CapabilityName extends `CAP_${infer Short}` ? Short | Lowercase<Short> : never);

/** Capability sets are 64-bit masks: no capability can be above 63. */
export const CAPABILITY_MAX = 63;

/**
 * The number of a capability name, with or without the CAP_ prefix, in any case.
 * @example capabilityNumber('CAP_NET_ADMIN') === 12
 * @returns undefined for an unknown name
 */
export function capabilityNumber(name: string): number | undefined {
  const upper = name.toUpperCase();
  const at = (CAPABILITY_NAMES as readonly string[]).indexOf(upper.startsWith('CAP_') ? upper : `CAP_${upper}`);
  return at < 0 ? undefined : at;
}

/**
 * The name of a capability number.
 * @example capabilityName(21) === 'CAP_SYS_ADMIN'
 * @returns undefined for a number this table does not know
 */
export function capabilityName(cap: number): CapabilityName | undefined {
  return CAPABILITY_NAMES[cap];
}

let lastCap: number | undefined;

/**
 * The running kernel's highest capability number (cap_last_cap), read once; the table's
 * last entry if /proc cannot be read.
 * @example lastCapability() >= 40 // on Linux 5.9+
 */
export function lastCapability(): number {
  if (lastCap === undefined) {
    try {
      const n = Number.parseInt(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'), 10);
      lastCap = Number.isInteger(n) && n >= 0 && n <= CAPABILITY_MAX ? n : CAPABILITY_NAMES.length - 1;
    } catch {
      lastCap = CAPABILITY_NAMES.length - 1;
    }
  }
  return lastCap;
}

/** allowCap()'s argument as a number: a known name, or a number the kernel knows. */
export function resolveCapability(method: string, cap: unknown): number {
  let n: number;
  if (typeof cap === 'string') {
    const found = capabilityNumber(cap);
    if (found === undefined) throw valueError(method, "argument 'cap'", `is not a known capability name: '${cap}'`, RangeError);
    n = found;
  } else if (typeof cap === 'number') {
    if (!Number.isInteger(cap) || cap < 0 || cap > CAPABILITY_MAX) {
      throw rangeError(method, "argument 'cap'", `an integer >= 0 and <= ${CAPABILITY_MAX}`, cap);
    }
    n = cap;
  } else {
    throw typeError(method, "argument 'cap'", 'a number or a capability name', cap);
  }
  const last = lastCapability();
  if (n > last) throw rangeError(method, "argument 'cap'", `<= ${last}, the running kernel's highest capability`, cap);
  return n;
}
