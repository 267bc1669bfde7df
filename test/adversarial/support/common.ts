/**
 * Small shared pieces of the adversarial suite: the probe's output parser,
 * limits, a seeded PRNG, error capture, and skip-with-reason.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { describe, it } from 'vitest';

export interface ProbeReport {
  open: number[];
  getfd: Map<number, string>;
  read: Map<number, string>;
  closeRange?: string;
  proc?: string;
}

/** Parses `probe fds` output (support/probe.c). */
export function parseProbe(text: string): ProbeReport {
  const lines = text.split('\n').filter((l) => l !== '');
  if (lines[lines.length - 1] !== 'END') throw new Error(`probe output truncated:\n${text.slice(-400)}`);
  const r: ProbeReport = { open: [], getfd: new Map(), read: new Map() };
  for (const line of lines.slice(0, -1)) {
    const [k, a, b] = line.split(' ');
    if (k === 'OPEN') r.open.push(Number(a));
    else if (k === 'GETFD') r.getfd.set(Number(a), b);
    else if (k === 'READ') r.read.set(Number(a), b);
    else if (k === 'CLOSE_RANGE') r.closeRange = a;
    else if (k === 'PROC') r.proc = a;
    else throw new Error(`probe: unknown line ${line}`);
  }
  return r;
}

/** NOFILE soft and hard limits of a process, from /proc/<pid>/limits. */
export function nofile(pid: number | 'self' = 'self'): { soft: number; hard: number } {
  const line = fs
    .readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'))!;
  const [soft, hard] = line.replace('Max open files', '').trim().split(/\s+/);
  return { soft: soft === 'unlimited' ? Infinity : Number(soft), hard: hard === 'unlimited' ? Infinity : Number(hard) };
}

/** The rejection of `p`, failing the test if it resolved. */
export async function rejectionOf<E = any>(p: Promise<unknown>, what = 'the run'): Promise<E> {
  const out = await p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  if (out.ok) throw new Error(`${what} should have been rejected, but resolved with ${JSON.stringify(out.v, null, 1)?.slice(0, 600)}`);
  return out.e as E;
}

/** The error `fn` throws, failing the test if it returned. */
export function thrownBy<E = any>(fn: () => unknown, what = 'the call'): E {
  try {
    const v = fn();
    throw Object.assign(new Error(`${what} should have thrown, but returned ${String(v)}`), { __notThrown: true });
  } catch (e) {
    if ((e as { __notThrown?: boolean }).__notThrown) throw e;
    return e as E;
  }
}

/**
 * A describe block that runs only when `reason` is null; otherwise it is
 * skipped with the reason in its title and printed, so a skip is never silent.
 */
export function describeIf(reason: string | null, name: string, fn: () => void): void {
  if (reason !== null) {
    console.warn(`[skip] "${name}": ${reason}`);
    describe.skip(`${name} [skipped: ${reason}]`, fn);
  } else {
    describe(name, fn);
  }
}

/** As describeIf for a single test. */
/**
 * Why a test is skipped under the ASan build (scripts/test-asan.sh sets VIRCOMMAND_SANITIZER), or
 * null. That pass looks for memory errors; ASan distorts what some tests bound: RSS (shadow
 * memory), the time of a fork() (its shadow mappings are copied) and the number of threads and
 * processes (its own). Those bounds are checked by the other passes of the same suite.
 */
export function sanitizerSkip(what: string): string | null {
  return process.env.VIRCOMMAND_SANITIZER ? `under ASan (${process.env.VIRCOMMAND_SANITIZER}) ${what} is not meaningful; the other CI passes check it` : null;
}

export function itIf(reason: string | null, name: string, fn: () => unknown, timeout?: number): void {
  if (reason !== null) {
    console.warn(`[skip] "${name}": ${reason}`);
    it.skip(`${name} [skipped: ${reason}]`, fn);
  } else {
    it(name, fn as () => Promise<void>, timeout);
  }
}

/** Why `unshare -rm` (or `unshare -m` as root) with tmpfs over /proc cannot be used, or null. */
export function procMaskUnavailable(): { reason: string | null; prefix: string[] } {
  for (const flags of process.getuid?.() === 0 ? ['-m', '-rm'] : ['-rm']) {
    const r = spawnSync('unshare', [flags, 'sh', '-c', 'mount -t tmpfs none /proc && ! test -e /proc/self/fd'], { encoding: 'utf8' });
    if (r.status === 0) return { reason: null, prefix: ['unshare', flags, 'sh', '-c', 'mount -t tmpfs none /proc && exec "$@"', 'sh'] };
  }
  const r = spawnSync('unshare', ['-rm', 'true'], { encoding: 'utf8' });
  return { reason: `cannot mask /proc: unshare -rm + mount tmpfs failed (${(r.stderr || r.error?.message || '').trim() || `status ${r.status}`})`, prefix: [] };
}

/** Why the seccomp launcher cannot refuse close_range here, or null. */
export function seccompUnavailable(launcher: string, probe: string): string | null {
  try {
    const out = execFileSync(launcher, ['EPERM', probe, 'fds', '--scan', '3', '--close-range'], { encoding: 'utf8' });
    return out.includes('CLOSE_RANGE EPERM') ? null : `the seccomp filter did not take effect: ${out}`;
  } catch (e) {
    return `seccomp-launch failed: ${(e as Error).message}`;
  }
}

/** sha256 hex of a buffer. */
export function sha256(b: Uint8Array): string {
  return crypto.createHash('sha256').update(b).digest('hex');
}
