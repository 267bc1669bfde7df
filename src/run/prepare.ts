/**
 * The plan stage of a run: the RunContext built from a command's state (its NativePlan,
 * command line and buffer refs), the caller's fds checked before any fork, and the PATH
 * lookup of the program.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { dryRunActive } from '../dry-run';
import { envStrings, inheritedEnv } from '../env';
import { CommandError } from '../errors';
import { emptyResult, type NativePlan, type NativeResult } from '../native';
import { buildPlan, type CommandState, DEFAULT_PATH, type PlanControl, resolveCandidates, type RunMode } from '../plan';
import { formatCommand } from '../to-string';
import { applyIdMapHelpers } from '../command/idmap-helper';
import { stderrSharesStdout } from '../command/stdio-setup';
import { applyMappedRoot, applyUser } from '../command/user';
import type { RunContext } from '../run-record';

/** The context of a run of `state` in `mode`. */
export function prepare(state: CommandState, mode: RunMode, control: PlanControl): RunContext {
  const plan = buildPlan(state, mode, control);
  if (!dryRunActive()) checkCallerFds(state, plan);
  // Looked up at each run (users, helpers): the run, not the builder call, reports them.
  const command = formatCommand(plan.argv, envStrings(plan.env));
  applyUser(state.container.user, plan, command);
  applyMappedRoot(state, plan, process.geteuid?.() === 0);
  if (!dryRunActive()) applyIdMapHelpers({ uid: state.nsSetup.uidMappings, gid: state.nsSetup.gidMappings }, plan, command);
  const out = state.stdout?.kind === 'buffer' ? state.stdout.ref : null;
  const err = state.stderr?.kind === 'buffer' ? state.stderr.ref : null;
  return {
    command: formatCommand(plan.argv, envStrings(plan.env)),
    plan,
    rawStatus: state.rawStatus,
    merged: stderrSharesStdout(state),
    outRef: out,
    errRef: err,
    notFoundIn: null,
  };
}

// Completes the plan of a real spawn (not a dry run) from the calling thread's environment
// (in a Worker, its own process.env): the inherited environment when no env call was made
// (env.ts inheritedEnv), and plan.candidates from its PATH. On a miss, the result of the
// failed run.
export function resolveProgram(ctx: RunContext): NativeResult | null {
  ctx.plan.env ??= inheritedEnv();
  ctx.plan.candidates = resolveCandidates(ctx.plan.argv[0]);
  if (ctx.plan.candidates.length > 0) return null;
  ctx.notFoundIn = process.env.PATH ?? DEFAULT_PATH;
  return emptyResult(0, { stage: 'exec', errno: os.constants.errno.ENOENT, value: 0 });
}

// The caller's fds the plan uses, each with the call that gave it: passFD(), and the fds
// given as stdin, stdout or stderr (setInputFD, setOutputFD/setErrorFD with a number or an
// FdRef holding an fd). Not the stdio that exec() inherits unconfigured.
function callerFds(state: CommandState, plan: NativePlan): [string, number][] {
  const out: [string, number][] = plan.passFds.map((fd) => ['passFD', fd]);
  if (state.stdin?.kind === 'fd' && plan.stdin.type === 'fd') out.push(['setInputFD', plan.stdin.fd]);
  if (state.stdout && plan.stdout.type === 'fd') out.push(['setOutputFD', plan.stdout.fd]);
  if (state.stderr && plan.stderr.type === 'fd') out.push(['setErrorFD', plan.stderr.fd]);
  return out;
}

// A caller's fd that is closed by now: refused before any fork. Native would pass, or make
// the child's stdin/stdout/stderr, whatever the spawn's own pipes (or /dev/null) put at that
// number; a number nothing takes would only fail in the child, after the fork.
function checkCallerFds(state: CommandState, plan: NativePlan): void {
  for (const [call, fd] of callerFds(state, plan)) {
    try {
      fs.fstatSync(fd);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EBADF') continue;
      const command = formatCommand(plan.argv, envStrings(plan.env));
      throw new CommandError(`Invalid use of command API: ${call} fd ${fd} is not open`, {
        command,
        stage: 'validate',
        code: 'EBADF',
        errno: os.constants.errno.EBADF,
        value: fd,
        cause: err,
      });
    }
  }
}
