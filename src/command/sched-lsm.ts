/**
 * Command's scheduling and security labels, applied in the child before exec: CPU affinity,
 * the NUMA memory policy, core scheduling (libvirt's SetRunAlone/SetRunAmong) and the
 * SELinux/AppArmor exec labels (SetSELinuxLabel/SetAppArmorProfile). The recorded data and
 * its native form are in sched-lsm-setup.ts.
 */
import type { MemoryPolicyMode } from '../types';
import { arg, checkInteger, checkString, typeError, valueError } from '../validate';
import { Command, stateOf } from './command';
import { defineMethods } from './define-methods';

// set_mempolicy(2) modes (<linux/mempolicy.h>).
const MEMORY_POLICY_MODES: Record<MemoryPolicyMode, number> = {
  default: 0,
  preferred: 1,
  bind: 2,
  interleave: 3,
  local: 4,
  'preferred-many': 5,
  'weighted-interleave': 6,
};
const CPU_MAX = 65535;
const NODE_MAX = 4095;

// A cpulist string as in /proc/<pid>/status Cpus_allowed_list: "0-3,6".
function parseCpuList(method: string, text: string): number[] {
  const cpus: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
    if (!m || hi < lo || hi > CPU_MAX) throw valueError(method, arg('cpus'), `is not a cpu list like '0-3,6': '${text}'`, RangeError);
    for (let c = lo; c <= hi; c++) cpus.push(c);
  }
  return cpus;
}

declare module './command' {
  interface Command {
    /**
     * The child runs only on these CPUs (sched_setaffinity), given as numbers or as a cpu list
     * string; a later call replaces it. A set the kernel refuses (no allowed CPU in it) fails the
     * run at stage 'affinity'.
     * @throws {TypeError} for a non-array non-string; {RangeError} for an empty set or a cpu outside 0..65535
     * @example cmd.setCpuAffinity([0, 1]); cmd.setCpuAffinity('0-3,6')
     */
    setCpuAffinity(cpus: readonly number[] | string): this;
    /**
     * The child's NUMA memory policy (set_mempolicy): a mode and its nodes ('default' and
     * 'local' take none). Inherited by the program; a later call replaces it. A mode or node set
     * the kernel refuses fails the run at stage 'mempolicy'.
     * @param nodes the NUMA nodes; none ([]) by default
     * @throws {RangeError} for an unknown mode or a node outside 0..4095; {TypeError} for nodes that are not an array
     * @example cmd.setMemoryPolicy('bind', [0]); cmd.setMemoryPolicy('interleave', [0, 1])
     */
    setMemoryPolicy(mode: MemoryPolicyMode | number, nodes?: readonly number[]): this;
    /**
     * Core scheduling: the child gets a new core-scheduling cookie of its own, so no task of
     * another cookie shares a CPU core with it (prctl PR_SCHED_CORE_CREATE, thread-group scope,
     * as libvirt). Needs a kernel with CONFIG_SCHED_CORE: else the run fails at stage
     * 'sched-core' with EINVAL. Replaces setRunAmong().
     * @example cmd.setRunAlone()
     */
    setRunAlone(): this;
    /**
     * Core scheduling: the child joins the core-scheduling cookie of process `pid`
     * (PR_SCHED_CORE_SHARE_FROM; needs ptrace access to it, checked before the uid change).
     * Replaces setRunAlone(). Fails the run at stage 'sched-core' as setRunAlone() does.
     * @throws {RangeError} for a pid that is not a positive integer (libvirt: pid <= 0 is an error)
     * @example cmd.setRunAmong(qemuPid)
     */
    setRunAmong(pid: number): this;
    /**
     * The SELinux context the program runs in: written to the child's
     * /proc/thread-self/attr/exec just before exec (the kernel applies it at execve). Where
     * SELinux is not active the run fails at stage 'selinux' (EINVAL); libvirt ignores a failure
     * in permissive mode, we never do. A later call replaces it.
     * @throws {TypeError} for an empty string or a NUL byte
     * @example cmd.setSELinuxLabel('system_u:system_r:svirt_t:s0:c1,c2')
     */
    setSELinuxLabel(label: string): this;
    /**
     * The AppArmor profile the program runs under: "exec <profile>" written to the child's
     * /proc/thread-self/attr/apparmor/exec (attr/exec on kernels before 5.8) just before exec,
     * applied at execve (libapparmor's aa_change_onexec; libvirt changes at once with
     * aa_change_profile). Where AppArmor is not active the run fails at stage 'apparmor'. A
     * later call replaces it.
     * @throws {TypeError} for an empty string or a NUL byte
     * @example cmd.setAppArmorProfile('libvirt-0f3c...')
     */
    setAppArmorProfile(profile: string): this;
  }
}

defineMethods(Command.prototype, {
  setCpuAffinity(cpus: readonly number[] | string) {
    const m = 'Command.setCpuAffinity';
    let list: number[];
    if (typeof cpus === 'string') list = parseCpuList(m, cpus);
    else if (Array.isArray(cpus)) list = Array.from(cpus, (c, i) => checkInteger(m, `cpus[${i}]`, c, 0, CPU_MAX));
    else throw typeError(m, arg('cpus'), 'an array of cpu numbers or a cpu list string', cpus);
    if (list.length === 0) throw valueError(m, arg('cpus'), 'must not be empty', RangeError);
    stateOf(this).cpuAffinity = [...new Set(list)].sort((a, b) => a - b);
    return this;
  },

  setMemoryPolicy(mode: MemoryPolicyMode | number, nodes: readonly number[] = []) {
    const m = 'Command.setMemoryPolicy';
    let n: number;
    if (typeof mode === 'string') {
      if (!Object.hasOwn(MEMORY_POLICY_MODES, mode)) throw valueError(m, arg('mode'), `is not a memory policy: '${mode}'`, RangeError);
      n = MEMORY_POLICY_MODES[mode];
    } else if (typeof mode === 'number') n = checkInteger(m, arg('mode'), mode, 0, 0xffff);
    else throw typeError(m, arg('mode'), 'a policy name or an MPOL_* number', mode);
    if (!Array.isArray(nodes)) throw typeError(m, arg('nodes'), 'an array', nodes);
    const list = Array.from(nodes, (x, i) => checkInteger(m, `nodes[${i}]`, x, 0, NODE_MAX));
    stateOf(this).memoryPolicy = { mode: n, nodes: [...new Set(list)].sort((a, b) => a - b) };
    return this;
  },

  setRunAlone() {
    const s = stateOf(this);
    s.schedCore = 1;
    s.schedCorePid = 0;
    return this;
  },

  setRunAmong(pid: number) {
    const s = stateOf(this);
    s.schedCorePid = checkInteger('Command.setRunAmong', arg('pid'), pid, 1, 2 ** 31 - 1);
    s.schedCore = 2;
    return this;
  },

  setSELinuxLabel(label: string) {
    stateOf(this).selinuxLabel = checkString('Command.setSELinuxLabel', arg('label'), label, true);
    return this;
  },

  setAppArmorProfile(profile: string) {
    stateOf(this).apparmorProfile = checkString('Command.setAppArmorProfile', arg('profile'), profile, true);
    return this;
  },
});
