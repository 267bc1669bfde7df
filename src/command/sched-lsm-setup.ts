/**
 * The scheduling (CPU affinity, memory policy, core scheduling) and LSM labels a command
 * records, and their NativePlan fields: plain data, for plan.ts; the builder methods are in
 * sched-lsm.ts.
 */
import type { NativePlan } from '../native';

/**
 * What the builder records (part of CommandState): exactly the NativePlan fields it becomes (see
 * NativePlan for each one's meaning), so the two cannot drift apart.
 */
export type SchedLsmSetup = Pick<NativePlan, 'cpuAffinity' | 'memoryPolicy' | 'schedCore' | 'schedCorePid' | 'selinuxLabel' | 'apparmorProfile'>;

export function defaultSchedLsmSetup(): SchedLsmSetup {
  return { cpuAffinity: null, memoryPolicy: null, schedCore: 0, schedCorePid: 0, selinuxLabel: null, apparmorProfile: null };
}

/** The NativePlan fields of these settings, every one set (null: not configured). */
export function nativeSchedLsm(s: SchedLsmSetup): SchedLsmSetup {
  return {
    cpuAffinity: s.cpuAffinity ? [...s.cpuAffinity] : null,
    memoryPolicy: s.memoryPolicy ? { mode: s.memoryPolicy.mode, nodes: [...s.memoryPolicy.nodes] } : null,
    schedCore: s.schedCore,
    schedCorePid: s.schedCorePid,
    selinuxLabel: s.selinuxLabel,
    apparmorProfile: s.apparmorProfile,
  };
}
