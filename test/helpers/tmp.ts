/**
 * Temporary directories that are always cleaned up.
 *
 * - makeTmpDir(): a fresh directory (realpath'd, so it compares equal to what
 *   a child reports as its cwd); removed when the process exits, or earlier
 *   with removeTmpDirs().
 * - useTmpDir(): for a test file; a new directory before each test, removed
 *   after it. Call it after useInvariants() so the removal runs before the
 *   invariant check.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';

const created = new Set<string>();

export function makeTmpDir(prefix = 'vc-test-'): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  created.add(dir);
  return dir;
}

export function removeTmpDirs(): void {
  for (const dir of created) {
    fs.rmSync(dir, { recursive: true, force: true });
    created.delete(dir);
  }
}

process.on('exit', removeTmpDirs);

export function useTmpDir(prefix = 'vc-test-'): { readonly path: string } {
  let current = '';
  beforeEach(() => {
    current = makeTmpDir(prefix);
  });
  afterEach(() => {
    if (current) {
      fs.rmSync(current, { recursive: true, force: true });
      created.delete(current);
      current = '';
    }
  });
  return {
    get path() {
      if (!current) throw new Error('useTmpDir: no directory outside a test');
      return current;
    },
  };
}
