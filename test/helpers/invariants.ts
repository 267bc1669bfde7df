/**
 * Process-level invariants every integration test must leave intact: no fd
 * leaked, no signal disposition or mask changed, no child left behind. Call
 * `useInvariants()` once at the top of a test file:
 *
 * - beforeEach: snapshot this process's open fds (number -> readlink target)
 *   and its SigIgn / SigBlk / SigCgt.
 * - afterEach: give children up to `settleMs` (1 s) to be reaped and fds to
 *   be closed, then fail the test if
 *     - the fd set or any target differs from the snapshot,
 *     - a zombie child of this process exists,
 *     - a live child exists that the test did not declare with keepChild(),
 *     - the signal state changed (the addon must not alter the parent's
 *       dispositions or mask).
 *
 * A test that deliberately leaves a child running (a daemon it kills in its
 * own cleanup, say) declares it with `inv.keepChild(pid)`.
 */
import { afterEach, beforeEach } from 'vitest';
import { loadNative } from '../../src/native';
import { describeFds, liveChildren, openFds, sigState, waitFor, zombieChildren, type SigState } from './proc';

export interface InvariantOptions {
  /** how long afterEach waits for things to settle (ms) */
  settleMs?: number;
  /** skip the signal-state check (never needed by our own tests) */
  skipSignals?: boolean;
}

export interface Invariants {
  /** declare a child the test intentionally leaves alive */
  keepChild(pid: number): void;
  /** the snapshot taken before the current test */
  readonly baseline: { fds: Map<number, string>; sig: SigState };
}

function fdDiff(before: Map<number, string>, after: Map<number, string>): string[] {
  const out: string[] = [];
  for (const [fd, t] of after) {
    if (!before.has(fd)) out.push(`leaked fd ${fd} -> ${t}`);
    else if (before.get(fd) !== t) out.push(`fd ${fd} changed: ${before.get(fd)} -> ${t}`);
  }
  for (const [fd, t] of before) {
    if (!after.has(fd)) out.push(`fd ${fd} -> ${t} was closed behind the test's back`);
  }
  return out;
}

const hex = (v: bigint) => v.toString(16).padStart(16, '0');

export function useInvariants(opts: InvariantOptions = {}): Invariants {
  const settleMs = opts.settleMs ?? 1000;
  let fds = new Map<number, string>();
  let sig: SigState = { ign: 0n, blk: 0n, cgt: 0n };
  let kept = new Set<number>();

  beforeEach(() => {
    kept = new Set();
    // The addon reserves its spawn fd slots for good when it loads (native/core/spawn_fds.cc,
    // FdSlots): load it before the snapshot, so they are part of the baseline.
    loadNative();
    fds = openFds();
    sig = sigState();
  });

  afterEach(async () => {
    const problems = (): string[] => {
      const out = fdDiff(fds, openFds());
      for (const z of zombieChildren(process.pid)) {
        out.push(`zombie child ${z.pid} (${z.comm}) was never reaped`);
      }
      for (const c of liveChildren(process.pid)) {
        if (!kept.has(c.pid)) out.push(`stray child ${c.pid} (${c.comm}, state ${c.state}) still running`);
      }
      if (!opts.skipSignals) {
        const now = sigState();
        for (const k of ['ign', 'blk', 'cgt'] as const) {
          if (now[k] !== sig[k]) out.push(`Sig${k} changed: ${hex(sig[k])} -> ${hex(now[k])}`);
        }
      }
      return out;
    };
    let last: string[] = [];
    await waitFor(() => (last = problems()).length === 0, settleMs);
    if (last.length > 0) {
      throw new Error(`process invariants violated after the test:\n  ${last.join('\n  ')}\n` + `fds before the test:\n${describeFds(fds)}`);
    }
  });

  return {
    keepChild(pid: number) {
      kept.add(pid);
    },
    get baseline() {
      return { fds, sig };
    },
  };
}
