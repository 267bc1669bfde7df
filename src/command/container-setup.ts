/**
 * The container identity a command records (setUser, host and domain name, seccomp filter):
 * plain data and checks, for plan.ts; the builder methods are in container.ts.
 */
import { NAMESPACE_FLAGS } from '../constants';
import type { NativePlan } from '../native';
import type { UserSpec } from './user';

/** The kernel's __NEW_UTS_LEN: a host or domain name holds at most this many bytes. */
export const UTS_NAME_MAX = 64;
/** struct sock_filter is 8 bytes; the kernel takes 1 to BPF_MAXINSNS (4096) of them. */
export const SOCK_FILTER_SIZE = 8;
export const BPF_MAXINSNS = 4096;

/** What the builder records (CommandState.container). */
export interface ContainerIds {
  user: UserSpec | null;
  hostname: string | null;
  domainname: string | null;
  /** The command's own copy of the program (never the caller's buffer). */
  seccompFilter: Buffer | null;
}

export function defaultContainerIds(): ContainerIds {
  return { user: null, hostname: null, domainname: null, seccompFilter: null };
}

/** The NativePlan fields of these settings, every one set (null: unchanged). */
export function nativeContainerIds(c: ContainerIds): Pick<NativePlan, 'hostname' | 'domainname' | 'seccompFilter'> {
  return { hostname: c.hostname, domainname: c.domainname, seccompFilter: c.seccompFilter };
}

/**
 * Why these settings cannot be applied in this run (a usage error), or null. A host or domain
 * name needs a new uts namespace: without one the child would rename the host (or the
 * namespace it joined), which is never what a command means.
 */
export function containerMisuse(unshareFlags: number, c: ContainerIds): string | null {
  if ((c.hostname !== null || c.domainname !== null) && (unshareFlags & NAMESPACE_FLAGS.uts) === 0) {
    return `${c.hostname !== null ? 'setHostname()' : 'setDomainname()'} needs a new uts namespace: unshare(['uts'])`;
  }
  return null;
}
