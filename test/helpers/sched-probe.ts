/**
 * test/fixtures/sched-probe.c, built once per test file (static, so no loader runs before it
 * looks): a program that reports its scheduling and LSM state as "KEY:value" lines.
 */
import path from 'node:path';
import { buildC, BUILD_DIR, FIXTURE_DIR } from './build-helper';

/** The probe's path, built on first use. */
export function schedProbe(): string {
  return buildC({
    src: path.join(FIXTURE_DIR, 'sched-probe.c'),
    out: path.join(BUILD_DIR, 'sched-probe'),
    preferStatic: true,
    label: 'sched-probe',
  }).path;
}
