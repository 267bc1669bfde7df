/**
 * The status policy, the one libvirt's virCommandRun applies (a non-zero exit or a death by
 * signal fails the run unless the caller asked for the status): turns native's result of a
 * run into a RunResult or the CommandError the run ends with, and fills the run's buffer refs.
 */
import { constants as bufferConstants } from 'node:buffer';
import { CommandError, type CommandErrorDetails, type DecodedStatus, decodeStatus, failureError, failureExitStatus, statusError } from '../errors';
import type { NativeResult, StartFailure } from '../native';
import type { RunResult } from '../types';
import type { ParsedRunOptions } from '../validate';
import type { RunRecord } from '../run-record';

const MAX_STRING_LENGTH = bufferConstants.MAX_STRING_LENGTH;
const MAX_BUFFER_LENGTH = bufferConstants.MAX_LENGTH;

// Output too large for a JavaScript string (past buffer.constants.MAX_STRING_LENGTH
// characters, ~512 MiB on Node 20): the stream it happened on, with V8's error.
interface TooLong {
  stream: 'stdout' | 'stderr';
  bytes: number;
  cause: unknown;
}

// A captured stream as the caller asked for it. When it cannot be a string, it stays the Buffer
// and `tooLong` says so: the run then fails with ERR_STRING_TOO_LONG rather than a bare Error
// thrown from toString() that loses the child's status.
function decode(buf: Buffer | null, o: ParsedRunOptions, stream: 'stdout' | 'stderr', tooLong: TooLong[]): string | Buffer | undefined {
  if (buf === null) return undefined;
  if (o.encoding === 'buffer') return buf;
  try {
    return buf.toString('utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ERR_STRING_TOO_LONG') throw err;
    tooLong.push({ stream, bytes: buf.length, cause: err });
    return buf;
  }
}

/**
 * The status policy: a RunResult, or the CommandError the run ends with. The result's
 * stdout/stderr are always set (types.ts RunResult): empty for a stream not captured; an
 * error keeps undefined there.
 */
export function settle(rec: Pick<RunRecord, 'ctx' | 'endedBy'>, r: NativeResult, o: ParsedRunOptions): RunResult<string | Buffer> {
  const { ctx } = rec;
  const tooLong: TooLong[] = [];
  const stdout = decode(r.stdout, o, 'stdout', tooLong);
  const stderr = ctx.merged ? undefined : decode(r.stderr, o, 'stderr', tooLong);
  const empty = o.encoding === 'buffer' ? Buffer.alloc(0) : '';
  if (ctx.outRef) ctx.outRef.value = stdout ?? empty;
  if (ctx.errRef && !ctx.merged) ctx.errRef.value = stderr ?? empty;
  const d = r.status === null ? null : decodeStatus(r.status);
  const details: CommandErrorDetails = {
    command: ctx.command,
    pid: r.pid || null,
    stdout,
    stderr,
    exitStatus: d?.exitStatus,
    signal: d?.signal,
    signalNumber: d?.signalNumber,
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
    const limit = spec.type === 'capture' ? spec.maxBuffer : ctx.plan.stdout.type === 'capture' ? ctx.plan.stdout.maxBuffer : 0;
    // No maxBuffer (or a larger one): the limit was the largest Buffer Node can make (plan.ts captureLimit).
    const why = limit === MAX_BUFFER_LENGTH ? ': buffer.constants.MAX_LENGTH, the largest Buffer Node can make' : '';
    throw new CommandError(`Child process (${cmd}) ${r.maxBufferExceeded} maxBuffer length exceeded (limit ${limit} bytes${why})`, {
      ...details,
      code: 'ERR_CHILD_MAX_BUFFER',
    });
  }
  if (tooLong.length > 0 && !r.failure) {
    // Checked after the timeout, abort and maxBuffer errors (which win, carrying the Buffer),
    // before the status policy, which would resolve or throw without the output.
    const t = tooLong[0];
    const how = d === null ? 'was not reaped' : d.exited ? `exited with status ${d.exitStatus}` : `was killed by ${d.signal}`;
    throw new CommandError(
      `Child process (${cmd}) ${t.stream} is too large for a string: ${t.bytes} bytes, more than the ${MAX_STRING_LENGTH} characters ` +
        `a JavaScript string can hold (the child ${how}); use { encoding: 'buffer' } or a maxBuffer`,
      { ...details, code: 'ERR_STRING_TOO_LONG', cause: t.cause },
    );
  }
  const make = (status: number, e: DecodedStatus): RunResult<string | Buffer> => ({
    pid: r.pid,
    status,
    exitStatus: e.exitStatus,
    signal: e.signal,
    signalNumber: e.signalNumber,
    coreDumped: e.coreDumped,
    stdout: stdout ?? (o.encoding === 'buffer' ? Buffer.alloc(0) : ''),
    stderr: stderr ?? (o.encoding === 'buffer' ? Buffer.alloc(0) : ''),
    timedOut: false,
    outputIncomplete: r.outputIncomplete,
    command: cmd,
  });
  if (r.failure) {
    const cause = (r as StartFailure).cause;
    // A program not found in PATH fails before any fork, with or without a status slot, as
    // libvirt's "Cannot find 'x' in path": no process ever had a status to report.
    const notFound = ctx.notFoundIn !== null;
    if (!(o.status && r.failure.stage === 'exec') || notFound) throw failureError(ctx.plan, r.failure, ctx.notFoundIn, { ...details, cause });
    // libvirt test1: with a status slot, a failed exec (of a path) is simply exit status 127 / 126.
    const code = failureExitStatus(r.failure) as number;
    return make(ctx.rawStatus ? code << 8 : code, decodeStatus(code << 8));
  }
  if (r.status !== null && d !== null && ctx.plan.hook && r.diedBeforeExec !== false && d.exited && (d.exitStatus === 126 || d.exitStatus === 127)) {
    // A hook closed the status pipe, then exec failed: the exit code is all there is.
    if (o.status) return make(ctx.rawStatus ? r.status : d.exitStatus, d);
    throw new CommandError(`Child process (${cmd}): child failed before exec (status channel closed), exit ${d.exitStatus}`, {
      ...details,
      stage: 'hook',
      path: ctx.plan.hook.library,
    });
  }
  if (r.diedBeforeExec && r.status !== null && d !== null && !r.killedBy) {
    if (o.status && (ctx.rawStatus || d.exited)) return make(ctx.rawStatus ? r.status : (d.exitStatus as number), d);
    const how = d.exited ? `exited with status ${d.exitStatus}` : `died with signal ${d.signal} (${d.signalNumber})`;
    const stage = ctx.plan.hook ? 'hook' : 'handshake';
    throw new CommandError(`Child process (${cmd}): child ${how} before exec`, {
      ...details,
      stage,
      path: stage === 'hook' ? ctx.plan.hook?.library : null,
    });
  }
  if (r.status === null || d === null) throw new CommandError(`Child process (${cmd}) was not reaped`, { ...details, stage: 'wait' });
  if (o.status && (ctx.rawStatus || d.exited)) return make(ctx.rawStatus ? r.status : (d.exitStatus as number), d);
  if (r.status !== 0) throw statusError(r.status, details, r.stderr && !ctx.merged ? r.stderr.toString('utf8') : '');
  return make(0, d);
}
