/**
 * Where the compiled fixtures are, for test files. Resolved once at import
 * (before any test replaces process.env): from vitest's inject() when the
 * globalSetup ran, else from VC_HELPER / VC_SIGTOOL, else built on the spot.
 */
import { inject } from 'vitest';
import { buildHelper, buildSigtool } from './build-helper';

function fromInject<K extends 'vcHelper' | 'vcSigtool'>(key: K): string | undefined {
  try {
    return inject(key) as string | undefined;
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
