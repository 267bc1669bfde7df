/**
 * Runs a short JavaScript program in a separate `node` process that loads
 * vircommand from this repository (src/ through ts-register.cjs, or the
 * module named by VC_TEST_ENTRY). Used where a test needs a parent process
 * in a state the vitest worker should not be put in: many inherited fds,
 * blocked or ignored signals, or one that calls cmd.exec().
 *
 * The script body runs inside an async function with these in scope:
 *   vc       the package's exports (Command, CommandError, ...)
 *   fs       node:fs
 *   HELPER   path of the test helper program
 *   ARGS     JSON value passed in opts.args
 *   emit(v)  send a JSON result back (the last call wins)
 *   procFds() this process's open fds as [[fd, target], ...]
 *   status() /proc/self/status as an object
 */
import { spawnSync, type StdioOptions } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './build-helper';
import { HELPER } from './helper';

export const TS_REGISTER = path.join(REPO_ROOT, 'test', 'helpers', 'ts-register.cjs');
export const PACKAGE_ENTRY = process.env.VC_TEST_ENTRY || path.join(REPO_ROOT, 'src', 'index.ts');

const MARK = '@@VC-RESULT@@';

/**
 * procFds() of the child scripts' preludes (here and in
 * test/adversarial/support/script.ts): this process's open fds as
 * [[fd, target], ...], sorted.
 */
export const PROC_FDS_JS = `function procFds() {
  const out = [];
  for (const n of fs.readdirSync('/proc/self/fd')) {
    try { out.push([Number(n), fs.readlinkSync('/proc/self/fd/' + n)]); } catch (e) {}
  }
  return out.sort((a, b) => a[0] - b[0]);
}`;

const PRELUDE = `'use strict';
const fs = require('fs');
const vc = require(process.env.VC_TEST_ENTRY);
const HELPER = process.env.VC_HELPER;
const ARGS = JSON.parse(process.env.VC_TEST_ARGS || 'null');
let __result;
function emit(v) { __result = v; }
${PROC_FDS_JS}
function status() {
  const o = {};
  for (const l of fs.readFileSync('/proc/self/status', 'utf8').split('\\n')) {
    const c = l.indexOf(':'); if (c > 0) o[l.slice(0, c)] = l.slice(c + 1).trim();
  }
  return o;
}
`;

/**
 * The variables by which a run of the suite points at another build of the addon and its
 * sanitizer runtime (scripts/test-binary.sh, scripts/test-asan.sh), as set in this process.
 * A node child gets a minimal environment, so it loads build/Release without them; a test whose
 * child must run the build under test (the ASan pass checking what the child does) passes
 * these in `env`.
 */
export function buildUnderTestEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['VIRCOMMAND_PREBUILD', 'LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'VIRCOMMAND_SANITIZER']) {
    const v = process.env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export interface NodeChildOptions {
  /** JSON-serialisable value available as ARGS in the script */
  args?: unknown;
  /** extra environment (the child otherwise gets a minimal one) */
  env?: Record<string, string>;
  /** stdio entries from index 3 on (fds inherited at that index) */
  extraStdio?: (number | 'ignore')[];
  /** argv prefix, e.g. ['bash', '-c', 'exec "$@" 7</dev/null', 'bash'] */
  prefix?: string[];
  timeoutMs?: number;
}

export interface NodeChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** the value given to emit(), if any */
  result: unknown;
  /** set when the script threw */
  error?: { message: string; stack?: string; code?: unknown; stage?: unknown };
}

export function runNodeChild(body: string, opts: NodeChildOptions = {}): NodeChildResult {
  const script = `${PRELUDE}
(async () => {
${body}
})().then(
  () => { if (__result !== undefined) process.stdout.write('\\n${MARK}' + JSON.stringify({ result: __result }) + '\\n'); },
  (e) => {
    process.stdout.write('\\n${MARK}' + JSON.stringify({ result: __result, error: { message: String(e && e.message), stack: e && e.stack, code: e && e.code, stage: e && e.stage } }) + '\\n');
    process.exitCode = 1;
  });
`;
  const argv = [...(opts.prefix ?? []), process.execPath, '-r', TS_REGISTER, '-e', script];
  const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', ...(opts.extraStdio ?? [])];
  const r = spawnSync(argv[0], argv.slice(1), {
    stdio,
    env: {
      PATH: '/usr/bin:/bin',
      VC_TEST_ENTRY: PACKAGE_ENTRY,
      VC_HELPER: HELPER,
      VC_TEST_ARGS: JSON.stringify(opts.args ?? null),
      ...opts.env,
    },
    cwd: REPO_ROOT,
    timeout: opts.timeoutMs ?? 20000,
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  const stdout = r.stdout ?? '';
  const at = stdout.lastIndexOf(`\n${MARK}`);
  let parsed: { result?: unknown; error?: NodeChildResult['error'] } = {};
  if (at >= 0) parsed = JSON.parse(stdout.slice(at + MARK.length + 1).trim());
  return {
    status: r.status,
    signal: r.signal,
    stdout: at >= 0 ? stdout.slice(0, at) : stdout,
    stderr: r.stderr ?? '',
    result: parsed.result,
    error: parsed.error,
  };
}

/** Throw with the child's output when it did not finish cleanly. */
export function expectChildOk(r: NodeChildResult): unknown {
  if (r.error || r.status !== 0) {
    throw new Error(
      `node child failed (status ${r.status}, signal ${r.signal})` +
        `${r.error ? `: ${r.error.stack ?? r.error.message}` : ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
    );
  }
  return r.result;
}
