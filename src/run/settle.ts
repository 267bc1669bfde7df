/**
 * The status policy (libvirt-facts §4): turns native's result of a run into a RunResult
 * or the CommandError the run ends with, and fills the run's buffer refs.
 */
import { CommandError, type CommandErrorDetails, type DecodedStatus, decodeStatus, failureError, failureExitStatus, statusError } from '../errors';
import type { NativeResult, StartFailure } from '../native';
import type { RunResult } from '../types';
import type { ParsedRunOptions } from '../validate';
import type { RunRecord } from './context';

function decode(buf: Buffer | null, o: ParsedRunOptions): string | Buffer | undefined {
  if (buf === null) return undefined;
  return o.encoding === 'buffer' ? buf : buf.toString('utf8');
}

/**
 * The status policy: a RunResult, or the CommandError the run ends with. The result's
 * stdout/stderr are always set (types.ts RunResult): empty for a stream not captured; an
 * error keeps undefined there.
 */
export function settle(rec: Pick<RunRecord, 'ctx' | 'endedBy'>, r: NativeResult, o: ParsedRunOptions): RunResult<string | Buffer> {
  const { ctx } = rec;
  const stdout = decode(r.stdout, o);
  const stderr = ctx.merged ? undefined : decode(r.stderr, o);
  const empty = o.encoding === 'buffer' ? Buffer.alloc(0) : '';
  if (ctx.outRef) ctx.outRef.value = stdout ?? empty;
  if (ctx.errRef && !ctx.merged) ctx.errRef.value = stderr ?? empty;
  const d = r.status === null ? null : decodeStatus(r.status);
  const details: CommandErrorDetails = {
    command: ctx.command, pid: r.pid || null, stdout, stderr,
    exitStatus: d?.exitStatus, signal: d?.signal, signalNumber: d?.signalNumber,
  };
  const cmd = ctx.command;
  const ended = rec.endedBy;
  if (ended?.why === 'abort') throw new CommandError(`Child process (${cmd}) was aborted`, { ...details, code: 'ABORT_ERR', cause: ended.reason });
  if (ended?.why === 'timeout' || r.timedOut) {
    const after = ended?.why === 'timeout' ? ended.ms : ctx.plan.timeoutMs;
    throw new CommandError(`Child process (${cmd}) timed out after ${after} ms`, { ...details, code: 'ETIMEDOUT', timedOut: true });
  }
  if (r.maxBufferExceeded) {
    const spec = ctx.plan[r.maxBufferExceeded];
    const limit = spec.type === 'capture' ? spec.maxBuffer : (ctx.plan.stdout.type === 'capture' ? ctx.plan.stdout.maxBuffer : 0);
    throw new CommandError(`Child process (${cmd}) ${r.maxBufferExceeded} maxBuffer length exceeded (limit ${limit} bytes)`, { ...details, code: 'ERR_CHILD_MAX_BUFFER' });
  }
  const make = (status: number, e: DecodedStatus): RunResult<string | Buffer> => ({
    pid: r.pid, status, exitStatus: e.exitStatus, signal: e.signal, signalNumber: e.signalNumber, coreDumped: e.coreDumped,
    stdout: stdout ?? (o.encoding === 'buffer' ? Buffer.alloc(0) : ''),
    stderr: stderr ?? (o.encoding === 'buffer' ? Buffer.alloc(0) : ''),
    timedOut: false, outputIncomplete: r.outputIncomplete, command: cmd,
  });
  if (r.failure) {
    const cause = (r as StartFailure).cause;
    if (!(o.status && r.failure.stage === 'exec')) throw failureError(ctx.plan, r.failure, ctx.notFoundIn, { ...details, cause });
    // libvirt test1: with a status slot, a failed exec is simply exit status 127 / 126.
    const code = failureExitStatus(r.failure) as number;
    return make(ctx.rawStatus ? code << 8 : code, decodeStatus(code << 8));
  }
  if (r.status !== null && d !== null && ctx.plan.hook && r.diedBeforeExec !== false && d.exited && (d.exitStatus === 126 || d.exitStatus === 127)) {
    // A hook closed the status pipe, then exec failed: the exit code is all there is.
    if (o.status) return make(ctx.rawStatus ? r.status : (d.exitStatus as number), d);
    throw new CommandError(`Child process (${cmd}): child failed before exec (status channel closed), exit ${d.exitStatus}`, {
      ...details, stage: 'hook', path: ctx.plan.hook.library,
    });
  }
  if (r.diedBeforeExec && r.status !== null && d !== null && !r.killedBy) {
    if (o.status && (ctx.rawStatus || d.exited)) return make(ctx.rawStatus ? r.status : (d.exitStatus as number), d);
    const how = d.exited ? `exited with status ${d.exitStatus}` : `died with signal ${d.signal} (${d.signalNumber})`;
    const stage = ctx.plan.hook ? 'hook' : 'handshake';
    throw new CommandError(`Child process (${cmd}): child ${how} before exec`, {
      ...details, stage, path: stage === 'hook' ? ctx.plan.hook?.library : null,
    });
  }
  if (r.status === null || d === null) throw new CommandError(`Child process (${cmd}) was not reaped`, { ...details, stage: 'wait' });
  if (o.status && (ctx.rawStatus || d.exited)) return make(ctx.rawStatus ? r.status : (d.exitStatus as number), d);
  if (r.status !== 0) throw statusError(r.status, details, r.stderr && !ctx.merged ? r.stderr.toString('utf8') : '');
  return make(0, d);
}
