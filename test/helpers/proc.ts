/**
 * /proc readers used by the harness: open fds, children (live and zombie),
 * status fields and this process's signal state. Linux only.
 */
import fs from 'node:fs';

export type Pid = number | 'self';

/**
 * Open fds of a process with their readlink targets. The directory fd that
 * readdir itself used is gone by the time we readlink, so entries that
 * vanish in between are skipped.
 */
export function openFds(pid: Pid = 'self'): Map<number, string> {
  const dir = `/proc/${pid}/fd`;
  const out = new Map<number, string>();
  for (const name of fs.readdirSync(dir)) {
    try {
      out.set(Number(name), fs.readlinkSync(`${dir}/${name}`));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return new Map([...out.entries()].sort((a, b) => a[0] - b[0]));
}

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  ttyNr: number;
}

/**
 * Parse /proc/<pid>/stat. comm may contain spaces and ')' so the fields are
 * taken after the LAST ')'. Returns null if the process is gone.
 */
export function procStat(pid: Pid = 'self'): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const f = text.slice(close + 2).split(' ');
  return {
    pid: Number(text.slice(0, open - 1)),
    comm: text.slice(open + 1, close),
    state: f[0],
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    session: Number(f[3]),
    ttyNr: Number(f[4]),
  };
}

/** All processes whose parent is `ppid`, with their state. */
export function childrenOf(ppid: number): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (st && st.ppid === ppid) out.push(st);
  }
  return out;
}

/** Zombie (state Z) children of `ppid`: exited but never reaped. */
export function zombieChildren(ppid: number = process.pid): ProcStat[] {
  return childrenOf(ppid).filter((p) => p.state === 'Z');
}

/** Children of `ppid` that are not zombies. */
export function liveChildren(ppid: number = process.pid): ProcStat[] {
  return childrenOf(ppid).filter((p) => p.state !== 'Z');
}

/** /proc/<pid>/status as a key -> value record (values trimmed). */
export function procStatus(pid: Pid = 'self'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const c = line.indexOf(':');
    if (c > 0) out[line.slice(0, c)] = line.slice(c + 1).trim();
  }
  return out;
}

export interface SigState {
  ign: bigint;
  blk: bigint;
  cgt: bigint;
}

/** SigIgn / SigBlk / SigCgt of a process (the main thread for 'self'). */
export function sigState(pid: Pid = 'self'): SigState {
  const s = procStatus(pid);
  return { ign: BigInt(`0x${s.SigIgn}`), blk: BigInt(`0x${s.SigBlk}`), cgt: BigInt(`0x${s.SigCgt}`) };
}

export function isAlive(pid: number): boolean {
  const st = procStat(pid);
  return st !== null && st.state !== 'Z';
}

/** Live (not zombie) processes whose command line contains `token`. */
export function processesWith(token: string): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(token) && isAlive(Number(name))) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `cond` every `stepMs` until it returns true or `timeoutMs` passes. */
export async function waitFor(cond: () => boolean, timeoutMs: number, stepMs = 10): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return true;
    if (Date.now() >= end) return false;
    await sleep(stepMs);
  }
}

/** Format an fd map for messages. */
export function describeFds(m: Map<number, string>): string {
  return [...m.entries()].map(([fd, t]) => `${fd} -> ${t}`).join('\n');
}

/** `raw` cut at each `sep` byte; a trailing separator ends the last piece (no empty one after it). */
export function splitBytes(raw: Buffer, sep: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < raw.length;) {
    const next = raw.indexOf(sep, at);
    const end = next < 0 ? raw.length : next;
    out.push(raw.subarray(at, end));
    at = end + 1;
  }
  return out;
}
