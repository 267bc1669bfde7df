/**
 * Root-only tests: `describeRoot(name, fn)` runs the suite when the process
 * is root and otherwise skips it, printing why (a skip is never silent).
 */
import { describe } from 'vitest';

export const isRoot: boolean = typeof process.getuid === 'function' && process.getuid() === 0;

export function describeRoot(name: string, fn: () => void): void {
  if (!isRoot) {
    console.warn(`[skip] "${name}": needs root (running as uid ${process.getuid?.()})`);
    describe.skip(`${name} [skipped: needs root]`, fn);
    return;
  }
  describe(name, fn);
}
