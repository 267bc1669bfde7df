/**
 * exec(): replaces the current process with the command, with its setup steps and no fork.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { failureError } from '../errors';
import { loadNative, type NativeFailure, type NativePlan, spawnFailure, type StartFailure } from '../native';
import { checkRunnable, type CommandState } from '../plan';
import { prepare, resolveProgram } from './prepare';

// exec() changes this very process: report a program path that does not exist before
// any setup step (uid, caps, ...) is applied to it. Inside a chroot, native must judge.
function missingExecTarget(plan: NativePlan): NativeFailure | null {
  if (plan.chroot !== null || plan.mountSetup?.pivotRoot) return null;
  try {
    fs.statSync(path.resolve(plan.cwd ?? '.', plan.candidates[0]));
    return null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') return null;
    return { stage: 'exec', errno: os.constants.errno[code], value: 0 };
  }
}

/** exec(): replaces the current process with the command (no fork, no dry run). */
export function execInPlace(state: CommandState): never {
  checkRunnable(state, 'exec');
  const ctx = prepare(state, 'exec', { timeoutMs: 0, killGraceMs: 0, maxBuffer: 0 });
  const missing = resolveProgram(ctx)?.failure ?? missingExecTarget(ctx.plan);
  const details = { command: ctx.command, pid: process.pid };
  if (missing) throw failureError(ctx.plan, missing, ctx.notFoundIn, details);
  const native = loadNative();
  if (typeof native.execInPlace !== 'function') throw new Error('vircommand: this build of the native addon has no execInPlace(), so exec() is unavailable');
  let failed: StartFailure | null = null;
  try {
    native.execInPlace(ctx.plan);
  } catch (err) {
    failed = spawnFailure(err);
  }
  const failure = failed?.failure ?? { stage: 'exec', errno: os.constants.errno.EINVAL, value: 0 };
  throw failureError(ctx.plan, failure, ctx.notFoundIn, { ...details, cause: failed?.cause });
}
