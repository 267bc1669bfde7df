/**
 * Where the compiled fixtures are, for test files. Resolved once at import
 * (before any test replaces process.env): from vitest's inject() when the
 * globalSetup ran, else from VC_HELPER / VC_SIGTOOL, else built on the spot.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { buildHelper, buildSigtool } from './build-helper';

function fromInject<K extends 'vcHelper' | 'vcSigtool'>(key: K): string | undefined {
  try {
    return inject(key);
  } catch {
    return undefined;
  }
}

/** Path of the test helper program (test/fixtures/helper.c). */
export const HELPER: string = fromInject('vcHelper') || process.env.VC_HELPER || buildHelper().path;

/** Path of the test-only signal addon (test/fixtures/sigtool.c). */
export const SIGTOOL: string = fromInject('vcSigtool') || process.env.VC_SIGTOOL || buildSigtool().path;

/** The helper's arguments for a report written to `log`. */
export function logArgs(log: string): string[] {
  return ['--log', log];
}

/**
 * A copy of the helper at DIR/helper-netraw with the file capability
 * cap_net_raw+ep (for the no_new_privs tests: it must stop the capability
 * from being gained);
 * DIR is made 0755 so that an unprivileged uid can run it. Skips the running
 * test, printing why, when setcap fails here.
 */
export function netRawHelperCopy(dir: string, ctx: { skip: () => never }): string {
  fs.chmodSync(dir, 0o755);
  const copy = path.join(dir, 'helper-netraw');
  fs.copyFileSync(HELPER, copy);
  fs.chmodSync(copy, 0o755);
  try {
    execFileSync('setcap', ['cap_net_raw+ep', copy], { stdio: 'pipe' });
  } catch (e) {
    console.warn(`[skip] file capabilities: setcap failed here (${(e as Error).message.split('\n')[0]})`);
    ctx.skip();
  }
  return copy;
}
