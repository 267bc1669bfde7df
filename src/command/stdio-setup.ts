/**
 * The fds and stdio a command records (passFD, stdin/stdout/stderr, send buffers, working
 * directory, umask, raw status) and the run-time checks on them: plain data and checks, for
 * plan.ts; the builder methods are in stdio.ts.
 */
import type { BufferRef, FdRef } from '../types';

/** Where stdout or stderr goes, as configured. */
export type OutputConfig = { kind: 'fd'; fd: number } | { kind: 'ref'; ref: FdRef } | { kind: 'buffer'; ref: BufferRef | null };

/** What the builder records (part of CommandState). */
export interface StdioSetup {
  /** fd -> flags, in the order passed; emptied after the first spawn. */
  passFds: Map<number, number>;
  stdin: { kind: 'fd'; fd: number } | { kind: 'buffer'; data: Buffer } | null;
  stdout: OutputConfig | null;
  stderr: OutputConfig | null;
  nonblocking: boolean;
  cwd: string | null;
  umask: number;
  rawStatus: boolean;
  /** setSendBuffer(): child fd -> data, in the order set. */
  sendBuffers: Map<number, Buffer>;
}

export function defaultStdioSetup(): StdioSetup {
  return {
    passFds: new Map(),
    stdin: null,
    stdout: null,
    stderr: null,
    nonblocking: false,
    cwd: null,
    umask: -1,
    rawStatus: false,
    sendBuffers: new Map(),
  };
}

// The highest fd number (an int): an FdRef changed after it was given is checked against it.
const MAX_FD = 2 ** 31 - 1;

// Read ends handed out through each FdRef; finding one there again means "a new pipe".
const handedOut = new WeakMap<FdRef, number>();

/** Stores a pipe's parent end into `ref` and remembers it for the next run. */
export function storePipeFd(ref: FdRef, fd: number): void {
  ref.fd = fd;
  handedOut.set(ref, fd);
}

/** An FdRef asks for a pipe when its fd is -1 or still the read end of the previous run. */
export function wantsPipe(ref: FdRef): boolean {
  return ref.fd === -1 || handedOut.get(ref) === ref.fd;
}

/** stderr goes where stdout goes (the same FdRef or BufferRef object was given to both). */
export function stderrSharesStdout(s: StdioSetup): boolean {
  const out = s.stdout;
  const err = s.stderr;
  if (!out || !err || out.kind === 'fd' || out.kind !== err.kind) return false;
  return out.ref !== null && out.ref === err.ref;
}

/** Input or output through a buffer of ours (setInputBuffer, set*Buffer, setSendBuffer). */
export function hasStringIO(s: StdioSetup): boolean {
  return s.stdin?.kind === 'buffer' || s.stdout?.kind === 'buffer' || s.stderr?.kind === 'buffer' || s.sendBuffers.size > 0;
}

function hasCallerPipe(s: StdioSetup): boolean {
  return [s.stdout, s.stderr].some((c) => c?.kind === 'ref' && wantsPipe(c.ref));
}

/** An FdRef whose fd was changed to no fd after it was given, or null. */
export function badFdRef(s: StdioSetup): string | null {
  for (const c of [s.stdout, s.stderr]) {
    if (c?.kind === 'ref' && !(Number.isInteger(c.ref.fd) && c.ref.fd >= -1 && c.ref.fd <= MAX_FD))
      return `FdRef.fd must be -1 or an fd (0 to ${MAX_FD}), not ${String(c.ref.fd)}`;
  }
  return null;
}

/**
 * A send buffer's fd number that another fd of the command also claims (the child would get
 * only one of them at that number), or null.
 */
export function sendBufferClash(s: StdioSetup & { namespaces: { fd: number }[]; cgroupFd: number }): string | null {
  for (const fd of s.sendBuffers.keys()) {
    if (s.passFds.has(fd)) return `fd ${fd} is both passed (passFD) and a send buffer`;
    if (s.namespaces.some((n) => n.fd === fd)) return `fd ${fd} is both a namespace fd and a send buffer`;
    if (s.cgroupFd === fd) return `fd ${fd} is both the cgroup fd and a send buffer`;
  }
  return null;
}

/** Why runSync() or exec() cannot use this stdio (caller pipes, string I/O), or null. */
export function stdioModeMisuse(s: StdioSetup, mode: string): string | null {
  if (mode === 'sync' && hasCallerPipe(s)) return 'cannot mix caller pipes with blocking execution';
  if (mode === 'exec' && (hasStringIO(s) || hasCallerPipe(s))) return 'exec() cannot use string I/O or caller pipes';
  return null;
}
