/**
 * The one knob for how hard the slow tests push: VC_TEST_SCALE.
 *
 *   npm test          quick (the default): every test case runs, with smaller counts
 *   npm run test:all  VC_TEST_SCALE=full: the full counts each test names (CI runs
 *                     this once; its other passes, prebuilt/cmake/ASan, run quick)
 *
 * A test that loops (spawns, soak rounds, fds, property runs) takes its count from here:
 *
 *   import { scaled } from '../helpers/scale';
 *   const RUNS = scaled(2000, 300);   // 2000 under test:all, 300 under npm test
 *
 * Pick the quick count so the case still shows what it is about (a leak over 300 runs, a race
 * hit in 1000 tries), and keep the full count in the test's title or comment. Any other value
 * of VC_TEST_SCALE is an error, so a typo never silently runs the quick counts.
 */

const RAW = process.env.VC_TEST_SCALE ?? '';
if (!['', 'quick', 'full'].includes(RAW)) {
  throw new Error(`VC_TEST_SCALE=${RAW}: expected 'full' (npm run test:all) or 'quick' (the default)`);
}

/** true under `npm run test:all` (VC_TEST_SCALE=full) */
export const FULL_SCALE: boolean = RAW === 'full';

/** 'full' or 'quick', for messages */
export const SCALE: 'full' | 'quick' = FULL_SCALE ? 'full' : 'quick';

/** `full` under VC_TEST_SCALE=full, else `quick` (which must not be larger). */
export function scaled(full: number, quick: number): number {
  if (!(quick > 0 && quick <= full)) throw new RangeError(`scaled(${full}, ${quick}): the quick count must be in (0, full]`);
  return FULL_SCALE ? full : quick;
}
