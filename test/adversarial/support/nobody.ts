/**
 * A copy of the package that uid 65534 (nobody) can load: the TypeScript
 * compiled with tsconfig.build.json, the built addon, package.json and
 * node-gyp-build, in a fresh directory made world-readable (a checkout or
 * home directory may not be). Built at most once per test file.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../helpers/build-helper';
import { makeTmpDir } from '../../helpers/tmp';

let cached: { entry: string } | { reason: string } | null = null;

export function nobodyPackage(): { entry: string } | { reason: string } {
  if (cached) return cached;
  cached = build();
  return cached;
}

function build(): { entry: string } | { reason: string } {
  if (process.getuid?.() !== 0) return { reason: 'not root: cannot start a process as nobody' };
  const probe = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']);
  if (probe.status !== 0) return { reason: `setpriv to uid 65534 failed: ${probe.stderr?.toString() || probe.error?.message}` };
  const addon = addonUnderTest();
  if ('reason' in addon) return addon;
  const dir = makeTmpDir('vc-adv-nobody-');
  execFileSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', path.join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', path.join(dir, 'dist')], {
    cwd: REPO_ROOT,
    stdio: 'pipe',
  });
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(addon.path, path.join(dir, 'build', 'Release', 'vircommand.node'));
  fs.copyFileSync(path.join(REPO_ROOT, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(REPO_ROOT, 'node_modules', 'node-gyp-build'), path.join(dir, 'node_modules', 'node-gyp-build'), { recursive: true });
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  return { entry: path.join(dir, 'dist', 'index.js') };
}

/**
 * The addon the tests run against, as node-gyp-build picks it from the checkout (a prebuild,
 * build/Release from node-gyp or cmake-js, an ASan build), not always build/Release.
 */
export function addonUnderTest(): { path: string } | { reason: string } {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- node-gyp-build ships no types; only its path() is used
    const nodeGypBuild = require('node-gyp-build') as { path(dir: string): string };
    return { path: nodeGypBuild.path(REPO_ROOT) };
  } catch (e) {
    return { reason: `no built addon for ${REPO_ROOT}: ${(e as Error).message}` };
  }
}

/** The sanitizer settings of this process (ASan/UBSan runs), to hand on to child processes. */
export function sanitizerEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'VIRCOMMAND_SANITIZER']) {
    const value = process.env[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/**
 * The argv prefix that runs a program as nobody with no supplementary groups; env(1) hands
 * on the sanitizer settings when this process has any.
 */
export const AS_NOBODY = [
  'setpriv',
  '--reuid=65534',
  '--regid=65534',
  '--clear-groups',
  ...(Object.keys(sanitizerEnv()).length > 0 ? ['env', ...Object.entries(sanitizerEnv()).map(([k, v]) => `${k}=${v}`)] : []),
];
