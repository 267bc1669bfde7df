/**
 * Command's fds, stdio and the child's working directory and umask, plus the renderings
 * of the command line: toString() and writeArgLog(). The recorded data and run-time checks
 * are in stdio-setup.ts.
 */
import * as fs from 'node:fs';
import { PASS_FD_BLOCKING, PASS_FD_CLOSE_PARENT } from '../constants';
import { usageError } from '../errors';
import { type CommandState, commandLine, recordError } from '../plan';
import { formatArgLog, formatCommand } from '../to-string';
import { type BufferRef, OPTION_NAMES, type OutputTarget, type ToStringOptions } from '../types';
import { arg, checkBoolean, checkInteger, checkOptions, checkString, toPrivateBytes, typeError } from '../validate';
import { Command, stateOf } from './command';
import { defineMethods } from './define-methods';
import type { OutputConfig } from './stdio-setup';

declare module './command' {
  interface Command {
    /**
     * Keeps `fd` open in the child under the same number, for the first run only. With
     * PASS_FD_CLOSE_PARENT the parent's copy is closed after the first spawn attempt, or by
     * free(). With PASS_FD_BLOCKING the child clears O_NONBLOCK on it before exec: the flag
     * belongs to the open file description, so the parent's copy turns blocking too (combine
     * with PASS_FD_CLOSE_PARENT, or stop using it on the event loop). Passing an fd again is
     * ignored (the first flags win).
     * @param flags PASS_FD_CLOSE_PARENT, PASS_FD_BLOCKING, both, or 0 (the default)
     * @throws {RangeError} for an fd below 3 or unknown flags
     * @example cmd.passFD(fd, PASS_FD_CLOSE_PARENT).addArgFormat('--fd=%d', fd)
     */
    passFD(fd: number, flags?: number): this;
    /**
     * The child's stdin reads from `fd` (never closed by vircommand).
     * @throws {RangeError} for a negative fd
     * @example cmd.setInputFD(fs.openSync('in.txt', 'r'))
     */
    setInputFD(fd: number): this;
    /**
     * The child's stdout goes to an fd, or with an FdRef `{ fd: -1 }` into a new pipe whose
     * read end is stored in `ref.fd` at spawn (the caller reads and closes it; each run
     * makes a new pipe). Not with runSync(), which could deadlock on it.
     * @throws {TypeError|RangeError} for a target that is not an fd or an FdRef
     * @example const out = { fd: -1 }; cmd.setOutputFD(out); cmd.runAsync(); // read out.fd
     */
    setOutputFD(target: OutputTarget): this;
    /**
     * As setOutputFD() for stderr; the same FdRef as stdout shares stdout's pipe.
     * @throws {TypeError|RangeError} for a target that is not an fd or an FdRef
     * @example cmd.setErrorFD(2)
     */
    setErrorFD(target: OutputTarget): this;
    /** Pipes made for stdout/stderr get O_NONBLOCK on the parent's end. @example cmd.nonblockingFDs() */
    nonblockingFDs(): this;
    /**
     * Feeds `data` to the child's stdin (NUL bytes allowed); kept for every run. The bytes are
     * copied now, as libvirt copies its input string: changing, transferring or detaching the
     * Uint8Array afterwards changes nothing the child reads (copying 64 MiB took
     * about 35 ms on a busy 2-core machine).
     * @throws {TypeError} for data that is neither a string nor a Uint8Array, or a Uint8Array
     *   whose ArrayBuffer was detached
     * @example cmd.setInputBuffer('Hello World\n')
     */
    setInputBuffer(data: string | Uint8Array): this;
    /**
     * Feeds `data` to the child through a pipe whose read end the child gets as fd `fd` (the
     * write end stays with us): libvirt's virCommandSetSendBuffer, the way qemu receives
     * secrets (`-object secret,id=s0,fd=N`). libvirt makes the pipe itself and returns its
     * number; here you choose the number, so it is known before the run. Written by the run's
     * I/O loop (runSync()'s poll loop, the event loop for run() and runAsync()), kept for every
     * run; a child that exits without reading it ends it, without error. The bytes are copied
     * now, as for setInputBuffer(). Not with daemonize() or exec().
     * @throws {RangeError} for an fd below 3; {TypeError} for data neither a string nor a
     *   Uint8Array, or a Uint8Array whose ArrayBuffer was detached
     * @example cmd.setSendBuffer(3, secret).addArgFormat('secret,id=sec0,fd=%d', 3)
     */
    setSendBuffer(fd: number, data: string | Uint8Array): this;
    /**
     * libvirt's virCommandDoAsyncIO: there it moves string I/O to a thread for
     * virCommandRunAsync. runAsync() always drives buffers (setInputBuffer, setOutputBuffer,
     * setErrorBuffer, setSendBuffer) on the event loop, so what remains is its other effect: the
     * parent's ends of pipes made for stdout/stderr are non-blocking, as nonblockingFDs().
     * @example const pid = cmd.doAsyncIO().setOutputBuffer(out).runAsync(); await cmd.wait();
     */
    doAsyncIO(): this;
    /**
     * Captures stdout; `ref.value` is cleared now and filled after every run (also a failed
     * one). The same ref for stdout and stderr interleaves both in the order written.
     * @throws {TypeError} for a ref that is not an object
     * @example const out: BufferRef = {}; await cmd.setOutputBuffer(out).run(); out.value
     */
    setOutputBuffer(ref?: BufferRef): this;
    /**
     * Captures stderr, as setOutputBuffer() does stdout.
     * @throws {TypeError} for a ref that is not an object
     * @example cmd.setErrorBuffer(err)
     */
    setErrorBuffer(ref?: BufferRef): this;
    /**
     * The child's working directory (set once; not with daemonize()).
     * @throws {TypeError} for an empty string or a NUL byte
     * @example cmd.setWorkingDirectory('/tmp')
     */
    setWorkingDirectory(dir: string): this;
    /**
     * The child's umask; 0 is a real umask here (libvirt cannot set it).
     * @throws {TypeError} for a non-number; {RangeError} for a fraction, NaN, or outside 0..0o777
     * @example cmd.setUmask(0o022)
     */
    setUmask(mask: number): this;
    /** With `{ status: true }`, runs report the raw wait status, also for a death by signal. @example cmd.rawStatus() */
    rawStatus(): this;
    /**
     * The shell-quoted command line with its environment, as libvirt prints it.
     * @throws {CommandError} when a misuse was recorded
     * @example new Command('true').addEnvPair('A', 'B').addArg('G  H').toString() // "A=B true 'G  H'"
     */
    toString(options?: ToStringOptions): string;
    /**
     * Writes env and arguments, unquoted, space-separated, with a final newline, to `fd`.
     * @throws {CommandError} when a misuse was recorded; the write's own errors
     * @example cmd.writeArgLog(logFd)
     */
    writeArgLog(fd: number): this;
  }
}

defineMethods(Command.prototype, {
  passFD(fd: number, flags = 0) {
    const n = checkInteger('Command.passFD', arg('fd'), fd, 3, 2 ** 31 - 1);
    const f = checkInteger('Command.passFD', arg('flags'), flags, 0, PASS_FD_CLOSE_PARENT | PASS_FD_BLOCKING);
    const s = stateOf(this);
    if (!s.passFds.has(n)) s.passFds.set(n, f);
    return this;
  },

  setInputFD(fd: number) {
    const n = checkInteger('Command.setInputFD', arg('fd'), fd, 0, 2 ** 31 - 1);
    const s = stateOf(this);
    if (s.stdin) recordError(s, 'cannot specify input twice');
    else s.stdin = { kind: 'fd', fd: n };
    return this;
  },

  setOutputFD(target: OutputTarget) {
    return setOutput(this, 'stdout', toOutput('Command.setOutputFD', target));
  },

  setErrorFD(target: OutputTarget) {
    return setOutput(this, 'stderr', toOutput('Command.setErrorFD', target));
  },

  nonblockingFDs() {
    stateOf(this).nonblocking = true;
    return this;
  },

  setInputBuffer(data: string | Uint8Array) {
    const bytes = toPrivateBytes('Command.setInputBuffer', arg('data'), data);
    const s = stateOf(this);
    if (s.stdin) recordError(s, 'cannot specify input twice');
    else s.stdin = { kind: 'buffer', data: bytes };
    return this;
  },

  setSendBuffer(fd: number, data: string | Uint8Array) {
    const n = checkInteger('Command.setSendBuffer', arg('fd'), fd, 3, 2 ** 31 - 1);
    const bytes = toPrivateBytes('Command.setSendBuffer', arg('data'), data);
    const s = stateOf(this);
    if (s.sendBuffers.has(n)) recordError(s, `cannot set two send buffers on fd ${n}`);
    else s.sendBuffers.set(n, bytes);
    return this;
  },

  doAsyncIO() {
    stateOf(this).nonblocking = true;
    return this;
  },

  setOutputBuffer(ref?: BufferRef) {
    return setOutput(this, 'stdout', { kind: 'buffer', ref: toBufferRef('Command.setOutputBuffer', ref) });
  },

  setErrorBuffer(ref?: BufferRef) {
    return setOutput(this, 'stderr', { kind: 'buffer', ref: toBufferRef('Command.setErrorBuffer', ref) });
  },

  setWorkingDirectory(dir: string) {
    const d = checkString('Command.setWorkingDirectory', arg('dir'), dir, true);
    const s = stateOf(this);
    if (s.cwd !== null) recordError(s, 'cannot set working directory twice');
    else s.cwd = d;
    return this;
  },

  setUmask(mask: number) {
    stateOf(this).umask = checkInteger('Command.setUmask', arg('mask'), mask, 0, 0o777);
    return this;
  },

  rawStatus() {
    stateOf(this).rawStatus = true;
    return this;
  },

  toString(options?: ToStringOptions): string {
    const o = checkOptions<ToStringOptions>('Command.toString', options, OPTION_NAMES.toString);
    const linebreaks = checkBoolean('Command.toString', arg('options.linebreaks'), o.linebreaks, false);
    const stripPath = checkBoolean('Command.toString', arg('options.stripPath'), o.stripPath, false);
    throwIfMisused(stateOf(this));
    const s = stateOf(this);
    return formatCommand(s.argv, s.env.entries(), { linebreaks, stripPath });
  },

  writeArgLog(fd: number) {
    const n = checkInteger('Command.writeArgLog', arg('fd'), fd, 0, 2 ** 31 - 1);
    throwIfMisused(stateOf(this));
    const s = stateOf(this);
    const data = Buffer.from(formatArgLog(s.argv, s.env.entries()), 'utf8');
    for (let off = 0; off < data.length;) off += fs.writeSync(n, data, off);
    return this;
  },
});

// setOutputFD(), setErrorFD() and the output buffers: a second output for a stream is a misuse.
function setOutput(command: Command, stream: 'stdout' | 'stderr', config: OutputConfig): Command {
  const s = stateOf(command);
  if (s[stream]) recordError(s, stream === 'stdout' ? 'cannot specify output twice' : 'cannot specify error output twice');
  else s[stream] = config;
  return command;
}

function throwIfMisused(s: CommandState): void {
  if (s.error !== null) throw usageError(s.error, commandLine(s));
}

// setOutputFD()/setErrorFD() targets: an fd number or an FdRef.
function toOutput(method: string, target: unknown): OutputConfig {
  if (typeof target === 'number') return { kind: 'fd', fd: checkInteger(method, arg('target'), target, 0, 2 ** 31 - 1) };
  if (typeof target !== 'object' || target === null || !('fd' in target)) {
    throw typeError(method, arg('target'), 'an fd number or an object { fd: number }', target);
  }
  const ref = target;
  checkInteger(method, arg('target.fd'), ref.fd, -1, 2 ** 31 - 1);
  return { kind: 'ref', ref: target as { fd: number } };
}

// setOutputBuffer()/setErrorBuffer() refs: cleared at registration, as libvirt NULLs *buf.
function toBufferRef(method: string, ref: unknown): BufferRef | null {
  if (ref === undefined) return null;
  if (typeof ref !== 'object' || ref === null || Array.isArray(ref)) throw typeError(method, arg('ref'), 'an object', ref);
  (ref as BufferRef).value = undefined;
  return ref;
}
