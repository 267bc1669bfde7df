/**
 * setSELinuxLabel / setAppArmorProfile (child step 14): the exec label is written to the child's
 * /proc/thread-self attr files just before exec. Where the LSM is not active the run fails at
 * its stage with the kernel's errno; where it is, the program reports the label it runs under
 * (test/fixtures/sched-probe.c prints /proc/thread-self/attr/current).
 */
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { commandRejection as failure } from '../helpers/rejection';
import { schedProbe } from '../helpers/sched-probe';

useInvariants();

let PROBE = '';
beforeAll(() => {
  PROBE = schedProbe();
});

function read(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

// Which LSMs act here: /sys/kernel/security/lsm when securityfs is mounted, else their own
// traces (selinuxfs; AppArmor's module parameter).
const lsmList = read('/sys/kernel/security/lsm')?.split(',') ?? null;
const SELINUX = lsmList ? lsmList.includes('selinux') : fs.existsSync('/sys/fs/selinux/enforce');
const APPARMOR = lsmList ? lsmList.includes('apparmor') : read('/sys/module/apparmor/parameters/enabled') === 'Y';
console.warn(
  `[lsm] active here: ${lsmList ? lsmList.join(',') : '(no /sys/kernel/security/lsm)'}; SELinux ${SELINUX ? 'yes' : 'no'}, AppArmor ${APPARMOR ? 'yes' : 'no'}`,
);

describe('LSM exec labels: arguments', () => {
  it('throw at once for an empty string, a NUL byte or a non-string', () => {
    expect(() => new Command('true').setSELinuxLabel('')).toThrow(/Command\.setSELinuxLabel.*'label'/);
    expect(() => new Command('true').setSELinuxLabel('a\0b')).toThrow(TypeError);
    expect(() => new Command('true').setAppArmorProfile(7 as unknown as string)).toThrow(/Command\.setAppArmorProfile.*'profile'/);
  });

  it('an invalid SELinux context fails at stage selinux whatever the LSM (EINVAL), runSync() and run()', async () => {
    const cmd = (): Command => new Command('true').setSELinuxLabel('not a context');
    expect(() => cmd().runSync()).toThrow(/failed at stage 'selinux': EINVAL/);
    const err = await failure(cmd().run());
    expect(err.stage).toBe('selinux');
    expect(err.code).toBe('EINVAL');
  });
});

describe.runIf(!SELINUX)('SELinux absent: the error path', () => {
  it('setSELinuxLabel fails at stage selinux with EINVAL, before exec', async () => {
    const err = await failure(new Command('true').setSELinuxLabel('system_u:system_r:unconfined_t:s0').run());
    expect(err.stage).toBe('selinux');
    expect(err.code).toBe('EINVAL');
    expect(err.exitStatus).toBe(125); // EXIT_CANCELED: failed before exec
    expect(() => new Command('true').setSELinuxLabel('system_u:system_r:unconfined_t:s0').runAsync()).toThrow(/stage 'selinux'/);
  });
});

describe.runIf(SELINUX)('SELinux active: the program runs under the label', () => {
  it('the current context, given as the exec label, is what the program reports', () => {
    const current = read('/proc/self/attr/current')?.replace(/\0$/, '') ?? '';
    const r = new Command(PROBE).setSELinuxLabel(current).runSync();
    expect(String(r.stdout)).toContain(`ATTR_CURRENT:${current}`);
  });
});

describe.runIf(!APPARMOR)('AppArmor absent: the error path', () => {
  it('setAppArmorProfile fails at stage apparmor with the errno of the attr write', async () => {
    const err = await failure(new Command('true').setAppArmorProfile('vircommand-test').run());
    expect(err.stage).toBe('apparmor');
    // EINVAL: attr/exec belongs to no major LSM; ENOENT/EACCES/EPERM: one that refuses it.
    expect(['EINVAL', 'ENOENT', 'EACCES', 'EPERM']).toContain(err.code);
  });
});

describe.runIf(APPARMOR)('AppArmor active: the program runs under the profile', () => {
  it('"unconfined" is accepted and reported; an unknown profile fails at stage apparmor', async () => {
    const r = new Command(PROBE).setAppArmorProfile('unconfined').runSync();
    expect(String(r.stdout)).toMatch(/ATTR_CURRENT:unconfined/);
    const err = await failure(new Command('true').setAppArmorProfile('vircommand-no-such-profile').run());
    expect(err.stage).toBe('apparmor');
  });
});
