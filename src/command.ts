/**
 * The Command builder: libvirt's virCommand API under its TypeScript names. Builder
 * methods validate their arguments at once (TypeError/RangeError) and return `this`;
 * misuse of the command as a whole (output twice, ...) is recorded, first one wins, and
 * reported by the run or by toString(), as libvirt does. Running lives in run.ts.
 */
import * as fs from 'node:fs';
import { resolveCapability } from './capabilities';
import { ID_MAX, MEMLOCK_UNLIMITED, NAMESPACE_FLAGS, PASS_FD_CLOSE_PARENT, RLIMIT_NUMBERS, SIGNAL_MAX } from './constants';
import { signalNumber, usageError } from './errors';
import { formatArg } from './format';
import { type CommandState, commandLine, createState, type OutputConfig, recordError } from './plan';
import * as runner from './run';
import { formatArgLog, formatCommand } from './to-string';
import type {
  AbortOptions, BufferRef, NamespaceName, OutputTarget, PreExecHook, RlimitName, RunAsyncOptions, RunOptions,
  RunResult, ToStringOptions, WaitOptions,
} from './types';
import {
  arg, checkBoolean, checkEnvName, checkInteger, checkLimit, checkOptions, checkString, toBytes,
  typeError, valueError,
} from './validate';

const NOT_NUMBER_OR_NAME = 'a number or a name';

function checkArgs(method: string, args: readonly unknown[], label: string): string[] {
  return args.map((a, i) => checkString(method, `${label}[${i}]`, a));
}

function namespaceFlag(method: string, what: string, type: unknown): number {
  if (typeof type === 'string') {
    const flag = Object.hasOwn(NAMESPACE_FLAGS, type) ? NAMESPACE_FLAGS[type] : undefined;
    if (flag === undefined) throw valueError(method, what, `is not a namespace name: '${type}'`, RangeError);
    return flag;
  }
  if (typeof type !== 'number') throw typeError(method, what, NOT_NUMBER_OR_NAME, type);
  return checkInteger(method, what, type, 0, 0xffffffff);
}

/**
 * A command to run: a program, its arguments, its environment and how its child is set up.
 * @example const { stdout } = await new Command('uname', '-r').run();
 */
export class Command {
  readonly #s: CommandState;

  /**
   * @param program the program: a path, or a name looked up in the parent's PATH at run time
   * @param args its arguments
   * @throws {TypeError} for a program or argument that is not a string, is empty (program) or has a NUL byte
   * @example new Command('ip', 'link', 'show')
   */
  constructor(program: string, ...args: string[]) {
    const p = checkString('new Command', arg('program'), program, true);
    this.#s = createState([p, ...checkArgs('new Command', args, 'args')]);
  }

  /**
   * A command from an argv array whose first element is the program.
   * @throws {RangeError} for an empty array; {TypeError} for a non-string element
   * @example Command.newArgs(['ls', '-l', '/tmp'])
   */
  static newArgs(argv: readonly string[]): Command {
    if (!Array.isArray(argv)) throw typeError('Command.newArgs', arg('argv'), 'an array', argv);
    if (argv.length === 0) throw valueError('Command.newArgs', arg('argv'), 'must not be empty', RangeError);
    const [program, ...rest] = checkArgs('Command.newArgs', argv, 'argv');
    return new Command(program, ...rest);
  }

  /** The pid of the running child, or null. @example cmd.runAsync(); cmd.pid */
  get pid(): number | null {
    return this.#s.running?.pid ?? null;
  }

  /**
   * Appends one argument.
   * @throws {TypeError} for a non-string or a NUL byte
   * @example cmd.addArg('--verbose')
   */
  addArg(value: string): this {
    this.#s.argv.push(checkString('Command.addArg', arg('value'), value));
    return this;
  }

  /**
   * Appends one argument `name=value`.
   * @throws {TypeError} for a non-string or a NUL byte
   * @example cmd.addArgPair('-log', 'bar.log') // -log=bar.log
   */
  addArgPair(name: string, value: string): this {
    const n = checkString('Command.addArgPair', arg('name'), name);
    this.#s.argv.push(`${n}=${checkString('Command.addArgPair', arg('value'), value)}`);
    return this;
  }

  /**
   * Appends one argument formatted printf-style: %s %d %i %u %x %o %f %%, flags '-' and
   * '0', width and .precision; integer conversions take numbers or bigints.
   * @throws {TypeError} for an unsupported conversion, or a wrong number or type of values
   * @example cmd.addArgFormat('%s,size=%uM', 'disk0', 512)
   */
  addArgFormat(format: string, ...values: unknown[]): this {
    const f = checkString('Command.addArgFormat', arg('format'), format);
    const text = formatArg('Command.addArgFormat', f, values);
    this.#s.argv.push(checkString('Command.addArgFormat', 'the formatted argument', text));
    return this;
  }

  /**
   * Appends every element of a non-empty array.
   * @throws {RangeError} for an empty array; {TypeError} for a non-string element
   * @example cmd.addArgSet(['-a', '-b'])
   */
  addArgSet(args: readonly string[]): this {
    if (!Array.isArray(args)) throw typeError('Command.addArgSet', arg('args'), 'an array', args);
    if (args.length === 0) throw valueError('Command.addArgSet', arg('args'), 'must not be empty', RangeError);
    this.#s.argv.push(...checkArgs('Command.addArgSet', args, 'args'));
    return this;
  }

  /**
   * Appends each argument (none is fine).
   * @throws {TypeError} for a non-string or a NUL byte
   * @example cmd.addArgList('-c', 'exit 3')
   */
  addArgList(...args: string[]): this {
    this.#s.argv.push(...checkArgs('Command.addArgList', args, 'args'));
    return this;
  }

  /**
   * Sets LC_ALL=C and passes LD_PRELOAD, LD_LIBRARY_PATH, PATH, HOME, USER, LOGNAME and
   * TMPDIR where the parent has them. Like every env method, it makes the child's
   * environment clean: only configured entries; with no env call the child inherits all.
   * @example cmd.addEnvPassCommon()
   */
  addEnvPassCommon(): this {
    this.#s.env.addPassCommon();
    return this;
  }

  /**
   * Passes the parent's variable `name`, if it is set now. The environment becomes clean
   * even when it is not set (libvirt would then inherit everything).
   * @throws {TypeError} for an empty name, '=' or a NUL byte
   * @example cmd.addEnvPass('DISPLAY')
   */
  addEnvPass(name: string): this {
    this.#s.env.addPass(checkEnvName('Command.addEnvPass', arg('name'), name));
    return this;
  }

  /**
   * Sets `name=value`; a later value for the same name replaces it in place.
   * @throws {TypeError} for an empty name, '=' in the name, or a NUL byte
   * @example cmd.addEnvPair('LANG', 'C')
   */
  addEnvPair(name: string, value: string): this {
    const n = checkEnvName('Command.addEnvPair', arg('name'), name);
    this.#s.env.addPair(n, checkString('Command.addEnvPair', arg('value'), value));
    return this;
  }

  /**
   * Sets a preformatted `NAME=value` entry.
   * @throws {TypeError} without '=', with an empty name, or with a NUL byte
   * @example cmd.addEnvString('USER=test')
   */
  addEnvString(entry: string): this {
    const e = checkString('Command.addEnvString', arg('entry'), entry);
    if (e.indexOf('=') < 1) throw valueError('Command.addEnvString', arg('entry'), "must have the form NAME=value with a non-empty NAME");
    this.#s.env.addString(e);
    return this;
  }

  /**
   * Sets XDG_DATA_HOME, XDG_CACHE_HOME and XDG_CONFIG_HOME under `baseDir`.
   * @throws {TypeError} for an empty string or a NUL byte
   * @example cmd.addEnvXDG('/var/lib/app') // XDG_CACHE_HOME=/var/lib/app/.cache
   */
  addEnvXDG(baseDir: string): this {
    this.#s.env.addXDG(checkString('Command.addEnvXDG', arg('baseDir'), baseDir, true));
    return this;
  }

  /**
   * Keeps `fd` open in the child under the same number, for the first run only. With
   * PASS_FD_CLOSE_PARENT the parent's copy is closed after the first spawn attempt, or by
   * free(). Passing an fd again is ignored (the first flags win).
   * @throws {RangeError} for an fd below 3 or unknown flags
   * @example cmd.passFD(fd, PASS_FD_CLOSE_PARENT).addArgFormat('--fd=%d', fd)
   */
  passFD(fd: number, flags = 0): this {
    const n = checkInteger('Command.passFD', arg('fd'), fd, 3, 2 ** 31 - 1);
    const f = checkInteger('Command.passFD', arg('flags'), flags, 0, PASS_FD_CLOSE_PARENT);
    if (!this.#s.passFds.has(n)) this.#s.passFds.set(n, f);
    return this;
  }

  /**
   * The child's stdin reads from `fd` (never closed by vircommand).
   * @throws {RangeError} for a negative fd
   * @example cmd.setInputFD(fs.openSync('in.txt', 'r'))
   */
  setInputFD(fd: number): this {
    const n = checkInteger('Command.setInputFD', arg('fd'), fd, 0, 2 ** 31 - 1);
    if (this.#s.stdin) recordError(this.#s, 'cannot specify input twice');
    else this.#s.stdin = { kind: 'fd', fd: n };
    return this;
  }

  /**
   * The child's stdout goes to an fd, or with an FdRef `{ fd: -1 }` into a new pipe whose
   * read end is stored in `ref.fd` at spawn (the caller reads and closes it; each run
   * makes a new pipe). Not with runSync(), which could deadlock on it.
   * @throws {TypeError|RangeError} for a target that is not an fd or an FdRef
   * @example const out = { fd: -1 }; cmd.setOutputFD(out); cmd.runAsync(); // read out.fd
   */
  setOutputFD(target: OutputTarget): this {
    return this.#setOutput('stdout', toOutput('Command.setOutputFD', target));
  }

  /**
   * As setOutputFD() for stderr; the same FdRef as stdout shares stdout's pipe.
   * @throws {TypeError|RangeError} for a target that is not an fd or an FdRef
   * @example cmd.setErrorFD(2)
   */
  setErrorFD(target: OutputTarget): this {
    return this.#setOutput('stderr', toOutput('Command.setErrorFD', target));
  }

  /** Pipes made for stdout/stderr get O_NONBLOCK on the parent's end. @example cmd.nonblockingFDs() */
  nonblockingFDs(): this {
    this.#s.nonblocking = true;
    return this;
  }

  /**
   * Feeds `data` to the child's stdin (NUL bytes allowed); kept for every run.
   * @throws {TypeError} for data that is neither a string nor a Uint8Array
   * @example cmd.setInputBuffer('Hello World\n')
   */
  setInputBuffer(data: string | Uint8Array): this {
    const bytes = toBytes('Command.setInputBuffer', arg('data'), data);
    if (this.#s.stdin) recordError(this.#s, 'cannot specify input twice');
    else this.#s.stdin = { kind: 'buffer', data: bytes };
    return this;
  }

  /**
   * Captures stdout; `ref.value` is cleared now and filled after every run (also a failed
   * one). The same ref for stdout and stderr interleaves both in the order written.
   * @throws {TypeError} for a ref that is not an object
   * @example const out: BufferRef = {}; await cmd.setOutputBuffer(out).run(); out.value
   */
  setOutputBuffer(ref?: BufferRef): this {
    return this.#setOutput('stdout', { kind: 'buffer', ref: toBufferRef('Command.setOutputBuffer', ref) });
  }

  /**
   * Captures stderr, as setOutputBuffer() does stdout.
   * @throws {TypeError} for a ref that is not an object
   * @example cmd.setErrorBuffer(err)
   */
  setErrorBuffer(ref?: BufferRef): this {
    return this.#setOutput('stderr', { kind: 'buffer', ref: toBufferRef('Command.setErrorBuffer', ref) });
  }

  #setOutput(stream: 'stdout' | 'stderr', config: OutputConfig): this {
    if (this.#s[stream]) recordError(this.#s, stream === 'stdout' ? 'cannot specify output twice' : 'cannot specify error output twice');
    else this.#s[stream] = config;
    return this;
  }

  /**
   * The child's working directory (set once; not with daemonize()).
   * @throws {TypeError} for an empty string or a NUL byte
   * @example cmd.setWorkingDirectory('/tmp')
   */
  setWorkingDirectory(dir: string): this {
    const d = checkString('Command.setWorkingDirectory', arg('dir'), dir, true);
    if (this.#s.cwd !== null) recordError(this.#s, 'cannot set working directory twice');
    else this.#s.cwd = d;
    return this;
  }

  /**
   * The child's umask; 0 is a real umask here (libvirt cannot set it).
   * @throws {TypeError} for a non-integer; {RangeError} outside 0..0o777
   * @example cmd.setUmask(0o022)
   */
  setUmask(mask: number): this {
    if (typeof mask !== 'number' || !Number.isInteger(mask)) throw typeError('Command.setUmask', arg('mask'), 'an integer', mask);
    this.#s.umask = checkInteger('Command.setUmask', arg('mask'), mask, 0, 0o777);
    return this;
  }

  /** With `{ status: true }`, runs report the raw wait status, also for a death by signal. @example cmd.rawStatus() */
  rawStatus(): this {
    this.#s.rawStatus = true;
    return this;
  }

  /**
   * The shell-quoted command line with its environment, as libvirt prints it.
   * @throws {CommandError} when a misuse was recorded
   * @example new Command('true').addEnvPair('A', 'B').addArg('G  H').toString() // "A=B true 'G  H'"
   */
  toString(options?: ToStringOptions): string {
    const o = checkOptions<ToStringOptions>('Command.toString', options);
    const linebreaks = checkBoolean('Command.toString', arg('options.linebreaks'), o.linebreaks, false);
    const stripPath = checkBoolean('Command.toString', arg('options.stripPath'), o.stripPath, false);
    this.#throwIfMisused();
    return formatCommand(this.#s.argv, this.#s.env.entries(), { linebreaks, stripPath });
  }

  /**
   * Writes env and arguments, unquoted, space-separated, with a final newline, to `fd`.
   * @throws {CommandError} when a misuse was recorded; the write's own errors
   * @example cmd.writeArgLog(logFd)
   */
  writeArgLog(fd: number): this {
    const n = checkInteger('Command.writeArgLog', arg('fd'), fd, 0, 2 ** 31 - 1);
    this.#throwIfMisused();
    const data = Buffer.from(formatArgLog(this.#s.argv, this.#s.env.entries()), 'utf8');
    for (let off = 0; off < data.length; ) off += fs.writeSync(n, data, off);
    return this;
  }

  #throwIfMisused(): void {
    if (this.#s.error !== null) throw usageError(this.#s.error, commandLine(this.#s));
  }

  /**
   * Runs the program as a daemon: double fork, setsid, cwd '/', stdio to /dev/null unless
   * set to fds. Use run()/runSync(), which return once the intermediate process exited.
   * @example await new Command('dnsmasq').daemonize().setPidFile('/run/d.pid').run()
   */
  daemonize(): this {
    this.#s.daemonize = true;
    return this;
  }

  /**
   * The daemon writes its pid to `path` (locked, kept open across exec); needs daemonize().
   * @throws {TypeError} for an empty string or a NUL byte
   * @example cmd.daemonize().setPidFile('/run/app.pid')
   */
  setPidFile(path: string): this {
    this.#s.pidFile = checkString('Command.setPidFile', arg('path'), path, true);
    return this;
  }

  /** The child drops every capability, but those allowed with allowCap(). @example cmd.clearCaps() */
  clearCaps(): this {
    this.#s.clearCaps = true;
    return this;
  }

  /**
   * Keeps capability `cap` (a number, 'CAP_NET_ADMIN' or 'NET_ADMIN') in the child.
   * @throws {RangeError} for an unknown name, a number above 63 or above the kernel's last
   * @example cmd.clearCaps().allowCap('CAP_NET_BIND_SERVICE')
   */
  allowCap(cap: number | string): this {
    this.#s.keepCaps.add(resolveCapability('Command.allowCap', cap));
    return this;
  }

  /**
   * The child's user id (raw setuid; capabilities follow clearCaps()/allowCap()).
   * @throws {RangeError} outside 0..2^32-2
   * @example cmd.setUID(1000)
   */
  setUID(uid: number): this {
    this.#s.uid = checkInteger('Command.setUID', arg('uid'), uid, 0, ID_MAX);
    return this;
  }

  /**
   * The child's group id.
   * @throws {RangeError} outside 0..2^32-2
   * @example cmd.setGID(1000)
   */
  setGID(gid: number): this {
    this.#s.gid = checkInteger('Command.setGID', arg('gid'), gid, 0, ID_MAX);
    return this;
  }

  /**
   * The child's supplementary groups ([] drops them all); by default native takes the
   * target user's groups when uid/gid are set and the parent is root.
   * @throws {TypeError} for a non-array; {RangeError} for an id outside 0..2^32-2
   * @example cmd.setGroups([100, 27])
   */
  setGroups(gids: readonly number[]): this {
    if (!Array.isArray(gids)) throw typeError('Command.setGroups', arg('gids'), 'an array', gids);
    this.#s.groups = gids.map((g, i) => checkInteger('Command.setGroups', `gids[${i}]`, g, 0, ID_MAX));
    return this;
  }

  /** RLIMIT_NPROC = n (soft and hard; Infinity: unlimited). @throws {RangeError} for a negative or fractional n @example cmd.setMaxProcesses(64) */
  setMaxProcesses(n: number): this {
    return this.#limit('Command.setMaxProcesses', 'n', RLIMIT_NUMBERS.NPROC, n);
  }

  /**
   * RLIMIT_MEMLOCK = bytes; 2^53-1 or more, or Infinity, means unlimited.
   * @throws {RangeError} for a negative or fractional value
   * @example cmd.setMaxMemLock(64 * 2 ** 20)
   */
  setMaxMemLock(bytes: number): this {
    const b = typeof bytes === 'number' && bytes >= MEMLOCK_UNLIMITED ? Infinity : bytes;
    return this.#limit('Command.setMaxMemLock', 'bytes', RLIMIT_NUMBERS.MEMLOCK, b);
  }

  /** RLIMIT_NOFILE = exactly n (libvirt sets n+1). @throws {RangeError} for a negative or fractional n @example cmd.setMaxFiles(1024) */
  setMaxFiles(n: number): this {
    return this.#limit('Command.setMaxFiles', 'n', RLIMIT_NUMBERS.NOFILE, n);
  }

  /** RLIMIT_CORE = bytes (0 disables core dumps). @throws {RangeError} for a negative or fractional value @example cmd.setMaxCoreSize(0) */
  setMaxCoreSize(bytes: number): this {
    return this.#limit('Command.setMaxCoreSize', 'bytes', RLIMIT_NUMBERS.CORE, bytes);
  }

  #limit(method: string, name: string, resource: number, value: number): this {
    const v = checkLimit(method, arg(name), value);
    this.#s.rlimits.set(resource, { soft: v, hard: v });
    return this;
  }

  /**
   * Any resource limit: a number or a name ('NOFILE', 'RLIMIT_NOFILE'); Infinity means
   * unlimited; `hard` defaults to `soft`. A later call for a resource replaces it.
   * @throws {RangeError} for an unknown resource or bad amounts (soft above hard fails the run at stage 'rlimit')
   * @example cmd.setRlimit('STACK', 8 * 2 ** 20, Infinity)
   */
  setRlimit(resource: number | RlimitName, soft: number, hard: number = soft): this {
    const m = 'Command.setRlimit';
    let r: number | undefined;
    if (typeof resource === 'string') {
      const name = resource.toUpperCase().replace(/^RLIMIT_/, '');
      r = Object.hasOwn(RLIMIT_NUMBERS, name) ? RLIMIT_NUMBERS[name] : undefined;
    } else if (typeof resource === 'number') r = checkInteger(m, arg('resource'), resource, 0, 15);
    else throw typeError(m, arg('resource'), NOT_NUMBER_OR_NAME, resource);
    if (r === undefined) throw valueError(m, arg('resource'), `is not a resource name: '${String(resource)}'`, RangeError);
    const s = checkLimit(m, arg('soft'), soft);
    // soft above hard is left to the kernel: the run fails at stage 'rlimit' with EINVAL.
    this.#s.rlimits.set(r, { soft: s, hard: checkLimit(m, arg('hard'), hard) });
    return this;
  }

  /** The child starts a new session (not with setpgid()). @example cmd.setsid() */
  setsid(): this {
    this.#s.setsid = true;
    return this;
  }

  /**
   * The child joins process group `pgid`, or leads its own with 0.
   * @throws {RangeError} for a negative or fractional pgid
   * @example cmd.setpgid()
   */
  setpgid(pgid = 0): this {
    this.#s.pgid = checkInteger('Command.setpgid', arg('pgid'), pgid, 0, 2 ** 31 - 1);
    return this;
  }

  /** PR_SET_NO_NEW_PRIVS in the child. @example cmd.setNoNewPrivs() */
  setNoNewPrivs(): this {
    this.#s.noNewPrivs = true;
    return this;
  }

  /**
   * The signal the child gets when the parent thread dies (0: none).
   * @throws {RangeError} for an unknown name or a number outside 0..64
   * @example cmd.setParentDeathSignal('SIGTERM')
   */
  setParentDeathSignal(signal: number | string): this {
    const m = 'Command.setParentDeathSignal';
    if (typeof signal === 'string') {
      const n = signalNumber(signal);
      if (n === undefined) throw valueError(m, arg('signal'), `is not a signal name: '${signal}'`, RangeError);
      this.#s.parentDeathSignal = n;
    } else {
      this.#s.parentDeathSignal = checkInteger(m, arg('signal'), signal, 0, SIGNAL_MAX);
    }
    return this;
  }

  /**
   * The child joins the namespace open at `fd` (setns); `type` checks its kind (0: any).
   * @throws {RangeError} for a negative fd or an unknown namespace name
   * @example cmd.joinNamespace(fs.openSync('/run/netns/blue', 'r'), 'net')
   */
  joinNamespace(fd: number, type: number | NamespaceName): this {
    const n = checkInteger('Command.joinNamespace', arg('fd'), fd, 0, 2 ** 31 - 1);
    this.#s.namespaces.push({ fd: n, type: namespaceFlag('Command.joinNamespace', arg('type'), type) });
    return this;
  }

  /**
   * The child unshares these namespaces: CLONE_* bits or names; calls add up.
   * @throws {RangeError} for an unknown name or a bad number
   * @example cmd.unshare(['net', 'uts'])
   */
  unshare(flags: number | readonly NamespaceName[]): this {
    const m = 'Command.unshare';
    if (Array.isArray(flags)) for (const [i, f] of flags.entries()) this.#s.unshareFlags |= namespaceFlag(m, `flags[${i}]`, f);
    else if (typeof flags === 'number') this.#s.unshareFlags |= checkInteger(m, arg('flags'), flags, 0, 0xffffffff);
    else throw typeError(m, arg('flags'), 'a number or an array of namespace names', flags);
    this.#s.unshareFlags >>>= 0;
    return this;
  }

  /**
   * The child moves itself into this cgroup v2 directory before exec: a path, or an fd open on
   * the directory (the child opens `cgroup.procs` relative to it, so a rename does not matter;
   * the fd must stay open until the run).
   * @throws {TypeError} for an empty path or a NUL byte; {RangeError} for an fd that is not open
   * @example cmd.joinCgroup('/sys/fs/cgroup/app')
   */
  joinCgroup(dir: string | number): this {
    const m = 'Command.joinCgroup';
    if (typeof dir !== 'number') {
      this.#s.cgroup = checkString(m, arg('dir'), dir, true);
      this.#s.cgroupFd = -1;
      return this;
    }
    const fd = checkInteger(m, arg('dir'), dir, 0, 2 ** 31 - 1);
    try {
      fs.fstatSync(fd);
    } catch (err) {
      throw valueError(m, arg('dir'), `is not an open fd (${(err as Error).message})`, RangeError);
    }
    this.#s.cgroup = null;
    this.#s.cgroupFd = fd;
    return this;
  }

  /**
   * The child chroots to `dir` before exec (the program path is then inside it).
   * @throws {TypeError} for an empty string or a NUL byte
   * @example cmd.chroot('/srv/jail')
   */
  chroot(dir: string): this {
    this.#s.chroot = checkString('Command.chroot', arg('dir'), dir, true);
    return this;
  }

  /**
   * The child's nice value.
   * @throws {RangeError} outside -20..19
   * @example cmd.setNice(10)
   */
  setNice(n: number): this {
    this.#s.nice = checkInteger('Command.setNice', arg('n'), n, -20, 19);
    return this;
  }

  /**
   * A native `int symbol(void *data)` from a shared library, run in the child before
   * exec (on a real fork); a non-zero return fails the run at stage 'hook'. Set once.
   * @throws {TypeError} for a missing library or symbol, or bad data
   * @example cmd.setPreExecHook({ library: '/usr/lib/libhook.so', symbol: 'prepare', data: 'x' })
   */
  setPreExecHook(hook: PreExecHook): this {
    const m = 'Command.setPreExecHook';
    if (typeof hook !== 'object' || hook === null) throw typeError(m, arg('hook'), 'an object', hook);
    const library = checkString(m, arg('hook.library'), hook.library, true);
    const symbol = checkString(m, arg('hook.symbol'), hook.symbol, true);
    const data = hook.data === undefined ? Buffer.alloc(0) : toBytes(m, arg('hook.data'), hook.data);
    if (this.#s.hook) recordError(this.#s, 'cannot set pre-exec hook twice');
    else this.#s.hook = { library, symbol, data };
    return this;
  }

  /**
   * The child stops before exec until handshakeWait() and handshakeNotify() (run() or
   * runAsync(), not runSync()). Set once.
   * @example cmd.requireHandshake(); cmd.runAsync(); await cmd.handshakeWait(); cmd.handshakeNotify();
   */
  requireHandshake(): this {
    if (this.#s.handshake) recordError(this.#s, 'cannot require handshake twice');
    this.#s.handshake = true;
    return this;
  }

  /**
   * Resolves when the running child has done its setup and waits to exec.
   * @throws {CommandError} for misuse (no handshake, not running, twice) or a child that failed first
   * @example await cmd.handshakeWait()
   */
  handshakeWait(): Promise<void> {
    return runner.handshakeWait(this.#s);
  }

  /**
   * Lets the waiting child exec.
   * @throws {CommandError} for misuse (no handshake, not running, twice)
   * @example cmd.handshakeNotify()
   */
  handshakeNotify(): void {
    runner.handshakeNotify(this.#s);
  }

  /**
   * Replaces the current process with the command (with its setup steps; no fork).
   * @throws {CommandError} when it cannot (misuse, program not found, a failed step)
   * @example new Command('/bin/sh', '-c', 'exec env').exec()
   */
  exec(): never {
    return runner.execInPlace(this.#s);
  }

  /**
   * Runs the command and waits without blocking the event loop. Unset stdout/stderr are
   * captured into the result. Without `status`, a non-zero exit or a death by signal rejects.
   * @throws {CommandError} per the status policy, for a failed setup step, a timeout, an abort or misuse
   * @example const { stdout } = await new Command('uname', '-r').run();
   */
  run(options?: RunOptions): Promise<RunResult> {
    return runner.run(this.#s, options);
  }

  /**
   * As run(), blocking until the child ended and its pipes are drained. An AbortSignal is
   * only checked before the start.
   * @throws {CommandError} as run(); also for FdRef pipes or a handshake, which would deadlock
   * @example const { status } = new Command('sh', '-c', 'exit 3').runSync({ status: true });
   */
  runSync(options?: RunOptions): RunResult {
    return runner.runSync(this.#s, options);
  }

  /**
   * Starts the command and returns its pid; stdio not set goes to /dev/null (buffers
   * work: the event loop drives them). Collect it with wait(); see also abort(), free().
   * @throws {CommandError} for misuse (also for a daemon) or a failed start
   * @example const pid = cmd.runAsync(); const r = await cmd.wait();
   */
  runAsync(options?: RunAsyncOptions): number {
    return runner.runAsync(this.#s, options);
  }

  /**
   * Waits for the child of runAsync() (or of a run() in flight) and applies the status
   * policy; concurrent waits share the end.
   * @throws {CommandError} as run(), or when nothing is running
   * @example const { status } = await cmd.wait({ status: true });
   */
  wait(options?: WaitOptions): Promise<RunResult> {
    return runner.wait(this.#s, options);
  }

  /**
   * Terminates the running child (SIGTERM, SIGKILL after `grace` ms) and reaps it; pending
   * waits reject with ABORT_ERR. A no-op when nothing runs; never throws.
   * @example await cmd.abort({ grace: 50 })
   */
  abort(options?: AbortOptions): Promise<void> {
    return runner.abort(this.#s, options);
  }

  /**
   * Releases the command: closes PASS_FD_CLOSE_PARENT fds not yet closed; a running child
   * is killed and reaped (blocking ~10 ms at most before SIGKILL), or with
   * runAsync({ autoReap: false }) left running for pidWait()/pidAbort(). Daemons are never
   * touched. The command cannot run afterwards.
   * @example cmd.free()
   */
  free(): void {
    runner.free(this.#s);
  }

  /** free(), for `using`. @example { using cmd = new Command('sleep', '9'); cmd.runAsync(); } // freed here */
  [Symbol.dispose](): void {
    this.free();
  }
}

// setOutputFD()/setErrorFD() targets: an fd number or an FdRef.
function toOutput(method: string, target: unknown): OutputConfig {
  if (typeof target === 'number') return { kind: 'fd', fd: checkInteger(method, arg('target'), target, 0, 2 ** 31 - 1) };
  if (typeof target !== 'object' || target === null || !('fd' in target)) {
    throw typeError(method, arg('target'), 'an fd number or an object { fd: number }', target);
  }
  const ref = target as { fd: unknown };
  checkInteger(method, arg('target.fd'), ref.fd, -1, 2 ** 31 - 1);
  return { kind: 'ref', ref: target as { fd: number } };
}

// setOutputBuffer()/setErrorBuffer() refs: cleared at registration, as libvirt NULLs *buf.
function toBufferRef(method: string, ref: unknown): BufferRef | null {
  if (ref === undefined) return null;
  if (typeof ref !== 'object' || ref === null || Array.isArray(ref)) throw typeError(method, arg('ref'), 'an object', ref);
  (ref as BufferRef).value = undefined;
  return ref as BufferRef;
}
