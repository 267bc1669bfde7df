/**
 * A time budget per event-loop turn for work done record by record (runRegex()/runNul() over a
 * burst of lines, a loop over lines()): once a turn has used TURN_BUDGET_MS, the worker yields
 * with setImmediate so timers (a run's timeout), I/O and other callbacks get their turn. Reading the clock after
 * every record would cost more than a fast record itself, so the clock is read every `stride`
 * records, the stride chosen from the last records' pace to read it about every CHECK_MS.
 */
import { performance } from 'node:perf_hooks';

/** Work per turn before yielding: well under the 20 ms of event-loop delay a user notices. */
export const TURN_BUDGET_MS = 2;
const CHECK_MS = 0.5;
const MAX_STRIDE = 1024;

export class TurnBudget {
  private turnStart = performance.now();
  private lastCheck = this.turnStart;
  private stride = 1;
  private countdown = 1;

  /** Counts one record; true when this turn's budget is used up (then call yieldTurn()). */
  spent(): boolean {
    if (--this.countdown > 0) return false;
    const now = performance.now();
    const perRecord = (now - this.lastCheck) / this.stride;
    this.stride = perRecord <= 0 ? MAX_STRIDE : Math.max(1, Math.min(MAX_STRIDE, Math.floor(CHECK_MS / perRecord)));
    this.countdown = this.stride;
    this.lastCheck = now;
    return now - this.turnStart >= TURN_BUDGET_MS;
  }

  /**
   * Lets the event loop run a turn (timers included), then starts a new budget. Only this
   * starts one: waiting for the next chunk of a pipe may not leave the poll phase at all.
   */
  async yieldTurn(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.turnStart = performance.now();
    this.lastCheck = this.turnStart;
  }
}
