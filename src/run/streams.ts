/**
 * Node streams over a child's stdio pipes: runAsync({ stdin: 'pipe', stdout: 'pipe',
 * stderr: 'pipe' | 'stdout' }) makes pipes (native's 'pipe' StdioSpec: the parent's end is
 * handed to us, the child's end stays blocking) and wraps the parent's ends in net.Socket,
 * which reads and writes them on the event loop (libuv, epoll): no threadpool thread is held,
 * unlike fs streams. Backpressure is the socket's: a reader that does not read stops our reads,
 * the pipe fills and the child blocks in write(). The sockets own the fds and close them when
 * destroyed or ended. wait() and abort() await the end of the output streams being read
 * (outputsRead), so their readers have had everything, as child_process's 'close' promises.
 * lines() is in lines.ts; runRegex()/runNul() read stdout in consume.ts.
 */
import * as net from 'node:net';
import type { Readable } from 'node:stream';
import { DEFAULT_DRAIN_MS } from '../constants';
import type { ChildHandle, NativePlan } from '../native';
import type { CommandState } from '../plan';
import type { StdioPipes } from '../types';
import { arg, typeError } from '../validate';
import type { RunStreams } from '../run-record';

/** Which streams a run asked to be pipes. */
export interface PipeRequest {
  stdin: boolean;
  stdout: boolean;
  stderr: 'pipe' | 'stdout' | null;
}

const NO_STREAMS: RunStreams = Object.freeze({ stdin: null, stdout: null, stderr: null });
const streamsByState = new WeakMap<CommandState, RunStreams>();

/** The pipes asked for in run options (`stdin`, `stdout`, `stderr`), checked. */
export function parsePipeOptions(method: string, o: StdioPipes): PipeRequest {
  const one = (name: 'stdin' | 'stdout' | 'stderr', allowed: readonly string[]): string | null => {
    const v = o[name];
    if (v === undefined) return null;
    if (typeof v !== 'string' || !allowed.includes(v)) {
      throw typeError(method, arg(`options.${name}`), allowed.map((a) => `'${a}'`).join(' or '), v);
    }
    return v;
  };
  return {
    stdin: one('stdin', ['pipe']) !== null,
    stdout: one('stdout', ['pipe']) !== null,
    stderr: one('stderr', ['pipe', 'stdout']) as PipeRequest['stderr'],
  };
}

/** Whether any pipe was asked for. */
export function wantsPipes(req: PipeRequest | null): req is PipeRequest {
  return req !== null && (req.stdin || req.stdout || req.stderr !== null);
}

/** The misuse of asking a pipe for a stream the builder already configured, or null. */
export function pipeConflict(state: CommandState, req: PipeRequest): string | null {
  if (req.stdin && state.stdin) return "cannot specify input twice (stdin: 'pipe' and setInputFD/setInputBuffer)";
  if (req.stdout && state.stdout) return "cannot specify output twice (stdout: 'pipe' and setOutputFD/setOutputBuffer)";
  if (req.stderr && state.stderr) return "cannot specify error output twice (stderr: 'pipe' and setErrorFD/setErrorBuffer)";
  if (req.stderr === 'stdout' && !req.stdout) return "stderr: 'stdout' needs stdout: 'pipe'";
  if (state.daemonize) return 'a daemon cannot have pipe streams';
  return null;
}

/** Makes the plan's streams pipes as asked. */
export function applyPipes(plan: NativePlan, req: PipeRequest): void {
  if (req.stdin) plan.stdin = { type: 'pipe' };
  if (req.stdout) plan.stdout = { type: 'pipe' };
  if (req.stderr === 'pipe') plan.stderr = { type: 'pipe' };
  else if (req.stderr === 'stdout') plan.stderr = { type: 'stdout' };
}

// Writing to a child that has exited (or closed its stdin) fails with EPIPE. That is the
// stream's error (write callbacks, 'error' listeners, pipeline() get it), never an uncaught
// exception of the process: this listener is always there. Other errors are ignored here too
// when the caller has its own listener; alone, they are rethrown as Node would.
function guard(stream: net.Socket): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ECONNRESET') return;
    if (stream.listenerCount('error') === 1) throw err;
  });
}

function socketOn(fd: number, readable: boolean): net.Socket {
  const s = new net.Socket({ fd, readable, writable: !readable, allowHalfOpen: false });
  guard(s);
  return s;
}

/** Wraps the parent's pipe ends of a spawned child and remembers them as the command's streams. */
export function openStreams(state: CommandState, handle: ChildHandle, req: PipeRequest): RunStreams {
  const streams: RunStreams = {
    stdin: req.stdin && handle.stdinFd >= 0 ? socketOn(handle.stdinFd, false) : null,
    stdout: req.stdout && handle.stdoutFd >= 0 ? socketOn(handle.stdoutFd, true) : null,
    stderr: req.stderr === 'pipe' && handle.stderrFd >= 0 ? socketOn(handle.stderrFd, true) : null,
  };
  streamsByState.set(state, streams);
  return streams;
}

/** The command's streams (of the running or last run; nulls when none were asked for). */
export function streamsOf(state: CommandState): RunStreams {
  return streamsByState.get(state) ?? NO_STREAMS;
}

// A stream being read: a 'data' or 'readable' listener, pipe(), resume() or pause(), a for await
// loop, readline, lines(): anything that sets readableFlowing, which starts out null.
function beingRead(s: Readable | null): s is Readable {
  return s !== null && s.readableFlowing !== null;
}

// Resolves when `s` has ended (its reader has had every byte: 'end' comes after the last 'data')
// or was destroyed, or once waiting is pointless, checked every DEFAULT_DRAIN_MS:
// - 'wait' (the child has ended): nothing came and nothing waits for the reader: a grandchild
//   holds the pipe's write end. The stream stays open for its reader; only the waiting stops.
//   A slow reader is waited for: what it has not read yet is still its to read.
// - 'abort': the reader took nothing either (it may be the very code awaiting abort()).
// `until` is asked at each check: a wait's timeout or signal turns 'wait' into 'abort'.
function readToEnd(s: Readable, until: () => 'wait' | 'abort'): Promise<void> {
  if (s.readableEnded || s.destroyed) return Promise.resolve();
  const received = (): number => (s as net.Socket).bytesRead ?? 0;
  const delivered = (): number => received() - s.readableLength;
  return new Promise<void>((resolve) => {
    let lastIn = received();
    let lastOut = delivered();
    const done = (): void => {
      clearInterval(timer);
      s.off('end', done);
      s.off('close', done);
      resolve();
    };
    const timer = setInterval(() => {
      const idle = until() === 'wait' ? received() === lastIn && s.readableLength === 0 : delivered() === lastOut;
      if (idle) done();
      lastIn = received();
      lastOut = delivered();
    }, DEFAULT_DRAIN_MS);
    s.on('end', done);
    s.on('close', done);
  });
}

/**
 * The end of a run's output streams, once the child has ended: resolves when every output
 * stream being read (beingRead) has ended or was destroyed, so the reader has seen all the
 * output, as child_process's 'close' does (readToEnd says when it stops waiting instead). A
 * stream never read is not waited for: it keeps what the child wrote, readable after wait(),
 * until the next run, abort() or free() destroys it.
 */
export function outputsRead(streams: RunStreams | null, until: 'wait' | 'abort' | (() => 'wait' | 'abort') = 'wait'): Promise<void> {
  if (!streams) return Promise.resolve();
  const read = [streams.stdout, streams.stderr].filter(beingRead);
  if (read.length === 0) return Promise.resolve();
  const mode = typeof until === 'function' ? until : () => until;
  return Promise.all(read.map((s) => readToEnd(s, mode))).then(() => undefined);
}

/** Destroys the command's streams (abort(), free(), the next run): their fds are closed. */
export function destroyStreams(state: CommandState): void {
  const s = streamsByState.get(state);
  if (!s) return;
  streamsByState.delete(state);
  for (const stream of [s.stdin, s.stdout, s.stderr]) stream?.destroy();
}
