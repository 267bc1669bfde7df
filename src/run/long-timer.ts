/**
 * setTimeout for any delay up to 2^53-1 ms. Node's setTimeout takes at most 2^31-1 ms (~24.8
 * days): a longer delay is clamped to 1 ms with a TimeoutOverflowWarning, so `run({ timeout:
 * 2 ** 31 })` timed out at once. Longer delays are chained here in steps of at most 2^31-1 ms,
 * each step re-measured against the monotonic clock so that the steps' lateness does not add up.
 */
import { performance } from 'node:perf_hooks';

/** The longest delay one setTimeout can wait. */
export const MAX_SET_TIMEOUT_MS = 2 ** 31 - 1;

/** A pending long timer: clear() cancels it. */
export interface LongTimer {
  clear(): void;
}

/** Calls `fn` once, `ms` milliseconds from now (0 <= ms <= 2^53-1). */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  const due = performance.now() + ms;
  let timer: NodeJS.Timeout | undefined;
  const arm = (left: number): void => {
    if (left <= MAX_SET_TIMEOUT_MS) {
      timer = setTimeout(fn, Math.max(0, left));
      return;
    }
    timer = setTimeout(() => arm(due - performance.now()), MAX_SET_TIMEOUT_MS);
  };
  arm(ms);
  return { clear: () => clearTimeout(timer) };
}
