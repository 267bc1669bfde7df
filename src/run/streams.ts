/**
 * Node streams over a child's stdio pipes: runAsync({ stdin: 'pipe', stdout: 'pipe',
 * stderr: 'pipe' | 'stdout' }) makes pipes (native's 'pipe' StdioSpec: the parent's end is
 * handed to us, the child's end stays blocking) and wraps the parent's ends in net.Socket,
 * which reads and writes them on the event loop (libuv, epoll): no threadpool thread is held,
 * unlike fs streams. Backpressure is the socket's: a reader that does not read stops our reads,
 * the pipe fills and the child blocks in write(). The sockets own the fds and close them when
 * destroyed or ended.
 */
import * as net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { ChildHandle, NativePlan } from '../native';
import type { CommandState } from '../plan';
import { OPTION_NAMES } from '../types';
import type { LinesOptions, StdioPipes } from '../types-streams';
import { arg, checkOptions, typeError } from '../validate';

/** Which streams a run asked to be pipes. */
export interface PipeRequest {
  stdin: boolean;
  stdout: boolean;
  stderr: 'pipe' | 'stdout' | null;
}

/** The streams of a command's current or last run. */
export interface RunStreams {
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
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
  if (req.stdin && state.stdin) return 'cannot specify input twice (stdin: \'pipe\' and setInputFD/setInputBuffer)';
  if (req.stdout && state.stdout) return 'cannot specify output twice (stdout: \'pipe\' and setOutputFD/setOutputBuffer)';
  if (req.stderr && state.stderr) return 'cannot specify error output twice (stderr: \'pipe\' and setErrorFD/setErrorBuffer)';
  if (req.stderr === 'stdout' && !req.stdout) return 'stderr: \'stdout\' needs stdout: \'pipe\'';
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

/** Destroys the command's streams (abort(), free(), the next run): their fds are closed. */
export function destroyStreams(state: CommandState): void {
  const s = streamsByState.get(state);
  if (!s) return;
  streamsByState.delete(state);
  for (const stream of [s.stdin, s.stdout, s.stderr]) stream?.destroy();
}

// ---------------------------------------------------------------------------------------------
// Splitting into records

/**
 * Splits a stream into records ending in `delim`, as Buffers without the delimiter. The bytes
 * after the last delimiter are a record when `keepLast` says so: 'nonEmpty' (readline), 'always'
 * (libvirt's g_strsplit-style split: "a\n" is "a" and ""), 'never'. Memory stays bounded by one
 * chunk plus the longest record: the generator reads the next chunk only when asked.
 */
export async function* records(stream: AsyncIterable<Buffer | string>, delim: number, keepLast: 'nonEmpty' | 'always'): AsyncGenerator<Buffer> {
  let partial: Buffer[] = [];
  let sawAny = false;
  for await (const c of stream) {
    const chunk = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
    if (chunk.length === 0) continue;
    sawAny = true;
    let start = 0;
    for (let i = chunk.indexOf(delim, start); i !== -1; i = chunk.indexOf(delim, start)) {
      const piece = chunk.subarray(start, i);
      if (partial.length > 0) {
        partial.push(piece);
        yield Buffer.concat(partial);
        partial = [];
      } else {
        yield piece;
      }
      start = i + 1;
    }
    // Copied: a subarray would keep the whole chunk alive while the record grows.
    if (start < chunk.length) partial.push(Buffer.from(chunk.subarray(start)));
  }
  const last = partial.length > 0 ? Buffer.concat(partial) : Buffer.alloc(0);
  if (last.length > 0 || (keepLast === 'always' && sawAny)) yield last;
}

// Yields the values of several async iterators as they come; each one is only advanced after
// its last value was consumed, so backpressure holds.
async function* merge<T>(iters: AsyncIterator<T>[]): AsyncGenerator<T> {
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<T> }>>();
  const next = (i: number): void => {
    pending.set(i, iters[i].next().then((r) => ({ i, r })));
  };
  iters.forEach((_, i) => next(i));
  try {
    while (pending.size > 0) {
      const { i, r } = await Promise.race(pending.values());
      if (r.done) {
        pending.delete(i);
        continue;
      }
      next(i);
      yield r.value;
    }
  } finally {
    for (const [i] of pending) await iters[i].return?.();
  }
}

/** The lines of the command's stdout, stderr or both, as strings without the '\n'. */
export function lines(state: CommandState, method: string, options: unknown, onMisuse: (why: string) => Error): AsyncGenerator<string> {
  const o = checkOptions<LinesOptions>(method, options, OPTION_NAMES.lines);
  const which = o.stream ?? 'stdout';
  if (which !== 'stdout' && which !== 'stderr' && which !== 'all') {
    throw typeError(method, arg('options.stream'), "'stdout', 'stderr' or 'all'", which);
  }
  const s = streamsOf(state);
  const wanted = which === 'all' ? [s.stdout, s.stderr] : [s[which]];
  const sources = wanted.filter((x): x is Readable => x !== null);
  if (sources.length === 0 || (which !== 'all' && sources.length !== 1)) {
    const what = which === 'all' ? 'neither stdout nor stderr is a pipe' : `${which} is not a pipe`;
    throw onMisuse(`lines(): ${what}: ask runAsync({ ${which === 'stderr' ? 'stderr' : 'stdout'}: 'pipe' })`);
  }
  const iters = sources.map((src) => records(src, 0x0a, 'nonEmpty')[Symbol.asyncIterator]());
  const gen = iters.length === 1 ? iters[0] : merge(iters);
  return (async function* () {
    try {
      for (let r = await gen.next(); !r.done; r = await gen.next()) yield (r.value as Buffer).toString('utf8');
    } finally {
      await gen.return?.(undefined); // a break destroys the stream(s), as readline does
    }
  })();
}
