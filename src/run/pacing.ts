/**
 * Pacing of run()'s spawns, so that run() never blocks the event loop for long.
 *
 * A spawn is synchronous work on the main thread (about a millisecond: the pipes, the clone,
 * the child's setup up to exec while the parent thread is suspended). One run() costs that
 * once; a loop of 1,000 run() calls used to cost it 1,000 times in one turn of the event loop,
 * a second during which no timer, socket or exit was served. So each turn gets a budget:
 * run() spawns at once while the spawns of the current turn have taken less than SLICE_MS
 * (their own time, measured: not the wall time since the first one);
 * after that its spawn is queued, and the queue is worked off SLICE_MS per turn
 * (setImmediate), in call order. A single run(), or runs awaited one after the other, never
 * wait. runSync() and runAsync() never wait either: their callers need the child (or its pid)
 * before they return.
 */

/** Spawning time allowed per event-loop turn, in ms. */
export const SLICE_MS = 2;

// Time spent inside spawns in this turn, in ms. Only the spawns count: other synchronous work
// of the same turn (a runSync(), the caller's own) does not make a lone run() wait.
let spentMs = 0;
let endOfTurnScheduled = false;
const queue: (() => void)[] = [];

function scheduleEndOfTurn(): void {
  if (endOfTurnScheduled) return;
  endOfTurnScheduled = true;
  setImmediate(() => {
    endOfTurnScheduled = false;
    spentMs = 0;
    drain();
  });
}

function timed(spawn: () => void): void {
  const t0 = performance.now();
  try {
    spawn();
  } finally {
    spentMs += performance.now() - t0;
  }
}

function drain(): void {
  while (queue.length > 0 && spentMs < SLICE_MS) timed(queue.shift() as () => void);
  // the rest waits for the next turn; and what was spent here is this turn's, not the next's
  if (spentMs > 0) scheduleEndOfTurn();
}

/**
 * Runs `spawn` now if this turn's budget allows and nothing is queued before it; else queues
 * it for a later turn. Returns whether it ran now.
 */
export function spawnPaced(spawn: () => void): boolean {
  scheduleEndOfTurn();
  if (queue.length === 0 && spentMs < SLICE_MS) {
    timed(spawn);
    return true;
  }
  queue.push(spawn);
  return false;
}

/** Spawns waiting for a later turn (for tests and diagnostics). */
export function queuedSpawns(): number {
  return queue.length;
}
