/**
 * vitest globalSetup: compile the C fixtures once per run (cached across
 * runs) and hand their paths to the test files, both through vitest's
 * provide/inject and through environment variables (VC_HELPER,
 * VC_HELPER_STATIC, VC_SIGTOOL) for scripts outside vitest.
 */
import type { TestProject } from 'vitest/node';
import { buildHelper, buildSigtool } from './build-helper';

declare module 'vitest' {
  export interface ProvidedContext {
    vcHelper: string;
    vcHelperStatic: boolean;
    vcSigtool: string;
  }
}

export default function setup(project: TestProject): void {
  const helper = buildHelper();
  const sigtool = buildSigtool();
  if (!helper.static) {
    console.warn('global-setup: the test helper is dynamically linked (no static libc)');
  }
  process.env.VC_HELPER = helper.path;
  process.env.VC_HELPER_STATIC = helper.static ? '1' : '0';
  process.env.VC_SIGTOOL = sigtool.path;
  project.provide('vcHelper', helper.path);
  project.provide('vcHelperStatic', helper.static);
  project.provide('vcSigtool', sigtool.path);
}
