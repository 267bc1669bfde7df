/**
 * The methods that run a Command and follow its child: run(), runSync(), runAsync(), spawn(),
 * wait(), abort(), kill(), free(), exec(), the handshake, the pipe streams, lines(),
 * runRegex(), runNul() and the dispose methods, added to Command.prototype as the builder's
 * concern modules add theirs (src/command/). They live here because src/command/ never
 * imports src/run/: this module loads the whole builder (command/index.ts) and is where the
 * package entry takes Command from, so every Command it hands out has all its methods.
 */
import type { Readable, Writable } from 'node:stream';
import { Command } from '../command/index';
import { stateOf } from '../command/command';
import { defineMethods } from '../command/define-methods';
import { usageError } from '../errors';
import { commandLine } from '../plan';
import type { SignalInput } from '../signal-names';
import type { AbortOptions, Output, OutputEncoding, RunAsyncOptions, RunOptions, RunResult, WaitOptions } from '../types';
import type { LinesOptions, RunNulOptions, RunRegexOptions, Spawned } from '../types-streams';
import * as runner from './index';
import { type KillOptions, kill as killChild } from './kill';
import { lines } from './lines';
import { runNul, runRegex } from './regex';
import { streamsOf } from './streams';

declare module '../command/command' {
  interface Command {
    /**
     * Resolves when the running child has done its setup and waits to exec.
     * @throws {CommandError} for misuse (no handshake, not running, twice) or a child that failed first
     * @example await cmd.handshakeWait()
     */
    handshakeWait(): Promise<void>;
    /**
     * Lets the waiting child exec.
     * @throws {CommandError} for misuse (no handshake, not running, twice)
     * @example cmd.handshakeNotify()
     */
    handshakeNotify(): void;
    /**
     * Replaces the current process with the command (with its setup steps; no fork).
     * @throws {CommandError} when it cannot (misuse, program not found, a failed step)
     * @example new Command('/bin/sh', '-c', 'exec env').exec()
     */
    exec(): never;
    /**
     * Runs the command and waits without blocking the event loop. Unset stdout/stderr are
     * captured into the result. Without `status`, a non-zero exit or a death by signal rejects.
     * The output is a string, or a Buffer with `{ encoding: 'buffer' }` (the type follows).
     * @throws {CommandError} per the status policy, for a failed setup step, a timeout, an abort or misuse
     * @example const { stdout } = await new Command('uname', '-r').run();
     */
    run<E extends OutputEncoding = 'utf8'>(options?: RunOptions<E>): Promise<RunResult<Output<E>>>;
    /**
     * As run(), blocking until the child ended and its pipes are drained. An AbortSignal is
     * only checked before the start.
     * @throws {CommandError} as run(); also for FdRef pipes or a handshake, which would deadlock
     * @example const { status } = new Command('sh', '-c', 'exit 3').runSync({ status: true });
     */
    runSync<E extends OutputEncoding = 'utf8'>(options?: RunOptions<E>): RunResult<Output<E>>;
    /**
     * Starts the command and returns its pid; stdio not set goes to /dev/null (buffers
     * work: the event loop drives them). Collect it with wait(); see also abort(), free().
     * @throws {CommandError} for misuse (also for a daemon) or a failed start
     * @example const pid = cmd.runAsync(); const r = await cmd.wait();
     */
    runAsync(options?: RunAsyncOptions): number;
    /**
     * runAsync() that returns the pid together with the pipes the options asked for, typed
     * non-null: after `spawn({ stdin: 'pipe' })`, `stdin` is a Writable, not `Writable | null`,
     * so strict TypeScript needs no `!`. The streams are `cmd.stdin`/`stdout`/`stderr` (the same
     * objects, with the same rules); collect the child with wait() as after runAsync().
     * @throws {CommandError} as runAsync(); {TypeError} for invalid options
     * @example const { stdin, stdout } = cmd.spawn({ stdin: 'pipe', stdout: 'pipe' }); stdin.end('data'); for await (const c of stdout) ...
     */
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- `{}`: no options given, so no pipes
    spawn<O extends RunAsyncOptions = {}>(options?: O): Spawned<O>;
    /**
     * The child's stdin as a Writable, after runAsync({ stdin: 'pipe' }) or spawn(); else null. end() it
     * to give the child EOF. Writing after the child closed its stdin fails the stream with
     * EPIPE (its 'error' event, write callbacks), never as an uncaught exception. The streams
     * belong to one run: the next run, abort() and free() destroy them.
     * @example cmd.runAsync({ stdin: 'pipe' }); cmd.stdin.end('data')
     */
    get stdin(): Writable | null;
    /**
     * The child's stdout as a Readable, after runAsync({ stdout: 'pipe' }); else null. Nothing
     * is captured. Once you read it (a 'data' listener, pipe(), for await, readline), wait()
     * also waits for its end, as child_process's 'close'; a stream never read is not waited
     * for. Destroying it early closes the pipe: a child that writes on gets SIGPIPE (or EPIPE if
     * it ignores SIGPIPE).
     * @example cmd.runAsync({ stdout: 'pipe' }); for await (const chunk of cmd.stdout) ...
     */
    get stdout(): Readable | null;
    /** The child's stderr as a Readable, after runAsync({ stderr: 'pipe' }); else null. @example cmd.stderr?.pipe(process.stderr) */
    get stderr(): Readable | null;
    /**
     * The lines of the child's stdout (or `{ stream: 'stderr' | 'all' }`), without their '\n',
     * as they come; a last line without '\n' is included. Reads the stream: backpressure holds
     * (the child blocks while you do not ask for the next line). A break destroys the stream(s)
     * at once; abort(), free() or a timeout end the loop normally (the reason is on wait()).
     * @throws {CommandError} when that stream is not a pipe (runAsync({ stdout: 'pipe' }))
     * @example for await (const line of cmd.lines()) console.log(line)
     */
    lines(options?: LinesOptions): AsyncGenerator<string>;
    /**
     * libvirt's virCommandRunRegex: runs the command and, while its stdout streams in, matches
     * every regex in turn against each line ('\n'-separated; a line starting with `prefix` has
     * it stripped first). When all match, `callback` gets the capture groups of every regex,
     * concatenated ('' for a group that took no part). A callback that throws or rejects stops
     * the run: the child is killed and the run rejects with that error. Resolves as run(); the
     * timeout, signal, abort() and free() end it even while a callback's promise is pending.
     * String patterns are libvirt's (GRegex/PCRE), translated or refused at once; `{ parse:
     * 'after-exit' }` parses only after a successful run, as libvirt does.
     * @throws {TypeError} for bad regexes, callback or options; {CommandError} as run()
     * @example await new Command('ip', '-o', 'link').runRegex([/^\d+: (\S+):/], ([name]) => names.push(name))
     */
    runRegex<E extends OutputEncoding = 'utf8'>(
      regexes: readonly (RegExp | string)[],
      callback: (groups: string[], lineIndex: number) => unknown,
      options?: RunRegexOptions<E>,
    ): Promise<RunResult<Output<E>>>;
    /**
     * libvirt's virCommandRunNul: runs the command and, while its stdout streams in, splits it at
     * NUL bytes and calls `callback` with every `numColumns` fields, and once more with the
     * fewer fields left at the end, if any. Stops as runRegex() does. Resolves as run().
     * @throws {RangeError} for numColumns < 1; {TypeError} for a bad callback; {CommandError} as run()
     * @example await new Command('find', '.', '-print0').runNul(1, ([path]) => paths.push(path))
     */
    runNul<E extends OutputEncoding = 'utf8'>(
      numColumns: number,
      callback: (fields: Output<E>[]) => unknown,
      options?: RunNulOptions<E>,
    ): Promise<RunResult<Output<E>>>;
    /**
     * Waits for the child of runAsync() (or of a run() in flight) and applies the status
     * policy; concurrent waits share the end. As child_process's 'close', it also waits for the
     * end of every output stream being read, so their readers have had all the output.
     * @throws {CommandError} as run(), or when nothing is running
     * @example const { status } = await cmd.wait({ status: true });
     */
    wait<E extends OutputEncoding = 'utf8'>(options?: WaitOptions<E>): Promise<RunResult<Output<E>>>;
    /**
     * Terminates the running child (SIGTERM, SIGKILL after `grace` ms, 0 to 2^53-1) and reaps
     * it; pending waits reject with ABORT_ERR. A no-op when nothing runs; rejects only for
     * invalid options (an unknown name, a bad grace), before signalling anything.
     * @throws {TypeError|RangeError} for invalid options (as a rejection)
     * @example await cmd.abort({ grace: 50 })
     */
    abort(options?: AbortOptions): Promise<void>;
    /**
     * Sends a signal to the running child, as child_process's subprocess.kill(): a name
     * ('SIGTERM', 'TERM') or a number 0-64, SIGTERM by default. Returns true when it was sent,
     * false when no child of this command runs (not started, already reaped, released by
     * free()): a reused pid is never signalled. Nothing waits or reaps: wait() reports the end.
     * With `{ group: true }` the signal goes to the process group the child leads (made by
     * setsid() or setpgid(0), checked at this call), its own background children included;
     * false when it leads none. abort(), free(), a timeout, an AbortSignal and maxBuffer end
     * such a group by themselves.
     * @throws {TypeError|RangeError} for an unknown signal name, a number out of range or bad options
     * @example cmd.kill('SIGHUP'); cmd.setsid().runAsync(); cmd.kill('SIGTERM', { group: true })
     */
    kill(signal?: number | SignalInput, options?: KillOptions): boolean;
    /**
     * Releases the command: closes PASS_FD_CLOSE_PARENT fds not yet closed; a running child
     * is killed and reaped (blocking ~10 ms at most before SIGKILL), or with
     * runAsync({ autoReap: false }) left running for pidWait()/pidAbort(). Daemons are never
     * touched. The command cannot run afterwards.
     * @example cmd.free()
     */
    free(): void;
    /** free(), for `using`. @example { using cmd = new Command('sleep', '9'); cmd.runAsync(); } // freed here */
    [Symbol.dispose](): void;
    /**
     * free() for `await using`, without blocking the thread: a running child (not one started
     * with `{ autoReap: false }`) gets SIGTERM, SIGKILL 100 ms later, and the promise resolves
     * once it is reaped. Symbol.asyncDispose exists from Node 20.4 (and 18.18).
     * @example { await using cmd = new Command('sleep', '9'); cmd.runAsync(); } // killed and reaped here
     */
    [Symbol.asyncDispose](): Promise<void>;
  }
}

defineMethods(Command.prototype, {
  handshakeWait(): Promise<void> {
    return runner.handshakeWait(stateOf(this));
  },

  handshakeNotify(): void {
    runner.handshakeNotify(stateOf(this));
  },

  exec(): never {
    return runner.execInPlace(stateOf(this));
  },

  run<E extends OutputEncoding = 'utf8'>(options?: RunOptions<E>): Promise<RunResult<Output<E>>> {
    return runner.run(stateOf(this), options) as Promise<RunResult<Output<E>>>;
  },

  runSync<E extends OutputEncoding = 'utf8'>(options?: RunOptions<E>): RunResult<Output<E>> {
    return runner.runSync(stateOf(this), options) as RunResult<Output<E>>;
  },

  runAsync(options?: RunAsyncOptions): number {
    return runner.runAsync(stateOf(this), options);
  },

  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- `{}`: no options given, so no pipes
  spawn<O extends RunAsyncOptions = {}>(options?: O): Spawned<O> {
    const pid = this.runAsync(options);
    const s = streamsOf(stateOf(this));
    return { pid, stdin: s.stdin, stdout: s.stdout, stderr: s.stderr } as Spawned<O>;
  },

  get stdin(): Writable | null {
    return streamsOf(stateOf(this)).stdin;
  },

  get stdout(): Readable | null {
    return streamsOf(stateOf(this)).stdout;
  },

  get stderr(): Readable | null {
    return streamsOf(stateOf(this)).stderr;
  },

  lines(options?: LinesOptions): AsyncGenerator<string> {
    const s = stateOf(this);
    return lines(s, 'Command.lines', options, (why) => usageError(why, commandLine(s)));
  },

  runRegex<E extends OutputEncoding = 'utf8'>(
    regexes: readonly (RegExp | string)[],
    callback: (groups: string[], lineIndex: number) => unknown,
    options?: RunRegexOptions<E>,
  ): Promise<RunResult<Output<E>>> {
    return runRegex(stateOf(this), regexes, callback, options) as Promise<RunResult<Output<E>>>;
  },

  runNul<E extends OutputEncoding = 'utf8'>(
    numColumns: number,
    callback: (fields: Output<E>[]) => unknown,
    options?: RunNulOptions<E>,
  ): Promise<RunResult<Output<E>>> {
    return runNul(stateOf(this), numColumns, callback as (fields: (string | Buffer)[]) => unknown, options) as Promise<RunResult<Output<E>>>;
  },

  wait<E extends OutputEncoding = 'utf8'>(options?: WaitOptions<E>): Promise<RunResult<Output<E>>> {
    return runner.wait(stateOf(this), options) as Promise<RunResult<Output<E>>>;
  },

  abort(options?: AbortOptions): Promise<void> {
    return runner.abort(stateOf(this), options);
  },

  kill(signal?: number | SignalInput, options?: KillOptions): boolean {
    return killChild(stateOf(this), signal, options);
  },

  free(): void {
    runner.free(stateOf(this));
  },

  [Symbol.dispose](): void {
    this.free();
  },

  [Symbol.asyncDispose](): Promise<void> {
    return runner.disposeAsync(stateOf(this));
  },
});

export { Command };
