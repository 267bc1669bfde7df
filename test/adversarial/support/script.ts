/**
 * Runs a JavaScript body in a separate `node` process that loads vircommand
 * (src/ through ts-register.cjs, or a compiled copy), for cases that change
 * process-wide state: closed or replaced fds 0-2, inherited non-CLOEXEC fds,
 * lowered limits, a cgroup, a seccomp filter, a masked /proc, strace.
 *
 * Unlike test/helpers/node-child.ts, the result comes back through a file
 * (VC_RESULT_FILE), so the script's stdio can be anything (closed, files,
 * an IPC channel), and the run is asynchronous (stdio may hold 'ipc').
 *
 * The body runs inside an async function with these in scope:
 *   vc        the package's exports
 *   fs, path, net, cp (node:child_process)
 *   ft        fdtool.node (support/fdtool.c): dup2, getfd, fstat, pipe, ...
 *   HELPER    test/fixtures/helper.c, built
 *   PROBE     support/probe.c, built
 *   HOOKS     support/hooks.c, built as a shared library
 *   ARGS      JSON value from opts.args
 *   emit(v)   the result handed back (the last call wins)
 *   procFds() [[fd, target], ...] of this process
 *   children() [{ pid, state, comm }] whose parent is this process
 *   sleep(ms)
 *   counters  { uncaught, unhandled } (process-level error events)
 */
import { spawn, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../helpers/build-helper';
import { HELPER } from '../../helpers/helper';
import { PROC_FDS_JS, TS_REGISTER } from '../../helpers/node-child';
import { makeTmpDir } from '../../helpers/tmp';
import { buildSupport } from './build';

export const SRC_ENTRY = path.join(REPO_ROOT, 'src', 'index.ts');

const PRELUDE = `'use strict';
const fs = require('fs');
const path = require('path');
const net = require('net');
const cp = require('child_process');
const __entry = process.env.VC_TEST_ENTRY;
const vc = require(__entry);
const HELPER = process.env.VC_HELPER;
const PROBE = process.env.VC_PROBE;
const HOOKS = process.env.VC_HOOKS;
const ARGS = JSON.parse(process.env.VC_TEST_ARGS || 'null');
const ft = (() => { const m = { exports: {} }; process.dlopen(m, process.env.VC_FDTOOL); return m.exports; })();
const counters = { uncaught: 0, unhandled: 0 };
process.on('uncaughtException', (e) => { counters.uncaught++; counters.lastUncaught = String(e && e.stack || e); });
process.on('unhandledRejection', (e) => { counters.unhandled++; counters.lastUnhandled = String(e && e.stack || e); });
let __result;
function emit(v) { __result = v; }
function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
${PROC_FDS_JS}
function children() {
  const out = [];
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\\d+$/.test(n)) continue;
    try {
      const s = fs.readFileSync('/proc/' + n + '/stat', 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === process.pid) out.push({ pid: Number(n), state: f[0], comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')) });
    } catch (e) {}
  }
  return out;
}
function __finish(payload) {
  fs.writeFileSync(process.env.VC_RESULT_FILE, JSON.stringify(payload));
}
`;

export interface ScriptOptions {
  args?: unknown;
  env?: Record<string, string>;
  /** full stdio of the node process; default ['ignore', 'pipe', 'pipe'] */
  stdio?: StdioOptions;
  /** argv before node, e.g. ['bash', '-c', 'ulimit -n 64 && exec "$@"', 'bash'] */
  prefix?: string[];
  /** the package to load (default src/index.ts through ts-register) */
  entry?: string;
  /** the node binary (default process.execPath) */
  node?: string;
  timeoutMs?: number;
  cwd?: string;
}

export interface ScriptResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  result: any;
  error?: { message: string; stack?: string; code?: unknown; stage?: unknown };
}

export async function runScript(body: string, opts: ScriptOptions = {}): Promise<ScriptResult> {
  const sup = buildSupport();
  const dir = makeTmpDir('vc-adv-script-');
  fs.chmodSync(dir, 0o777);
  const resultFile = path.join(dir, 'result.json');
  const scriptFile = path.join(dir, 'script.js');
  const script = `${PRELUDE}
(async () => {
${body}
})().then(
  () => { __finish({ result: __result, counters }); },
  (e) => { __finish({ result: __result, counters, error: { message: String(e && e.message), stack: e && e.stack, code: e && e.code, stage: e && e.stage } }); process.exitCode = 1; });
`;
  fs.writeFileSync(scriptFile, script, { mode: 0o644 });
  const entry = opts.entry ?? SRC_ENTRY;
  const nodeArgs = ['--no-warnings', ...(entry.endsWith('.ts') ? ['-r', TS_REGISTER] : []), scriptFile];
  const argv = [...(opts.prefix ?? []), opts.node ?? process.execPath, ...nodeArgs];
  const stdio = opts.stdio ?? ['ignore', 'pipe', 'pipe'];
  const child = spawn(argv[0], argv.slice(1), {
    stdio,
    env: {
      PATH: '/usr/bin:/bin',
      VC_TEST_ENTRY: entry,
      VC_HELPER: HELPER,
      VC_PROBE: sup.probe,
      VC_HOOKS: sup.hooks,
      VC_FDTOOL: sup.fdtoolPath,
      VC_RESULT_FILE: resultFile,
      VC_TEST_ARGS: JSON.stringify(opts.args ?? null),
      ...opts.env,
    },
    cwd: opts.cwd ?? REPO_ROOT,
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const timeoutMs = opts.timeoutMs ?? 60000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, sig) => resolve([code, sig]));
  });
  clearTimeout(timer);
  let parsed: { result?: unknown; error?: ScriptResult['error']; counters?: unknown } = {};
  try {
    parsed = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
  } catch {
    // no result: the script died; the caller sees status/signal/stderr
  }
  fs.rmSync(dir, { recursive: true, force: true });
  if (timedOut) stderr += `\n[runScript: killed after ${timeoutMs} ms]`;
  return { status, signal, stdout, stderr, result: parsed.result, error: parsed.error };
}

/** The script's result, or a thrown Error with everything known when it did not finish cleanly. */
export function scriptOk(r: ScriptResult): any {
  if (r.error || r.status !== 0 || r.result === undefined) {
    throw new Error(
      `node script failed (status ${r.status}, signal ${r.signal})` +
        `${r.error ? `: ${r.error.stack ?? r.error.message}` : ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`,
    );
  }
  return r.result;
}

/** bash prefix that runs `setup` (e.g. "ulimit -n 64", "exec 251</dev/null") and then node. */
export function bashPrefix(setup: string): string[] {
  return ['bash', '--norc', '--noprofile', '-c', `${setup}\nexec "$@"`, 'bash'];
}
