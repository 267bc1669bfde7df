/**
 * Type tests (vitest typecheck, `npm run test:types`): the whole public API is exported
 * from the package entry with the right types, results and errors are typed precisely
 * (output by encoding, stage/code/signal/capability names as literal unions), and `using` /
 * `await using` type-check. Each `@ts-expect-error` is a line that must not compile.
 */
import { Readable } from 'node:stream';
import { describe, expectTypeOf, it } from 'vitest';
import {
  CAPABILITY_NAMES,
  COMMAND_STAGES,
  Command,
  CommandError,
  EXIT_CANCELED,
  EXIT_CANNOT_INVOKE,
  EXIT_ENOENT,
  PASS_FD_BLOCKING,
  PASS_FD_CLOSE_PARENT,
  capabilityName,
  killByPidFile,
  pidAbort,
  pidWait,
  readPidFile,
  setDryRun,
} from '../../src/index';
import type {
  BufferRef,
  CapabilityName,
  MountOptions,
  MountType,
  KillByPidFileResult,
  KillOptions,
  CommandErrorCode,
  CommandStage,
  DryRunOptions,
  ErrnoCode,
  FdRef,
  OutputEncoding,
  PidWaitOptions,
  RunAsyncOptions,
  RunOptions,
  RunResult,
  SignalInput,
  SignalName,
  ToStringOptions,
  WaitOptions,
} from '../../src/index';

declare const cmd: Command;

describe('exports of the public API', () => {
  it('constants have their libvirt values as literal types', () => {
    expectTypeOf<typeof PASS_FD_CLOSE_PARENT>().toEqualTypeOf<1>();
    expectTypeOf<typeof EXIT_CANCELED>().toEqualTypeOf<125>();
    expectTypeOf<typeof EXIT_CANNOT_INVOKE>().toEqualTypeOf<126>();
    expectTypeOf<typeof EXIT_ENOENT>().toEqualTypeOf<127>();
  });

  it('new Command(bin, ...args) and Command.newArgs(argv)', () => {
    expectTypeOf(Command).constructorParameters.toEqualTypeOf<[program: string, ...args: string[]]>();
    expectTypeOf(Command.newArgs).parameters.toEqualTypeOf<[argv: readonly string[]]>();
    expectTypeOf(Command.newArgs).returns.toEqualTypeOf<Command>();
    // @ts-expect-error the program is required
    new Command();
    // @ts-expect-error arguments are strings
    new Command('ls', 1);
  });

  it('every builder method returns this', () => {
    expectTypeOf(cmd.addArg('a')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.addArgPair('name', 'value')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.addArgFormat('%s=%d', 'a', 1)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.addArgSet(['a', 'b'])).toEqualTypeOf<Command>();
    expectTypeOf(cmd.addArgList('a', 'b')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.addEnvPassCommon()).toEqualTypeOf<Command>();
    expectTypeOf(cmd.addEnvPass('HOME')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.addEnvPassAll()).toEqualTypeOf<Command>();
    expectTypeOf(cmd.addEnvPair('LANG', 'C')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.addEnvString('A=B')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.addEnvXDG('/var/lib/x')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.daemonize()).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setPidFile('/run/x.pid')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.clearCaps()).toEqualTypeOf<Command>();
    expectTypeOf(cmd.allowCap(12)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.allowCap('CAP_NET_ADMIN')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setUID(0)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setUser('nobody')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setUser(65534)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.getUser()).toEqualTypeOf<string | number | null>();
    expectTypeOf(cmd.setHostname('box').setDomainname('example')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setSeccompFilter(new Uint8Array(8))).toEqualTypeOf<Command>();
    // @ts-expect-error a seccomp program is bytes, not numbers
    cmd.setSeccompFilter([0, 0, 0, 0, 0, 0, 0, 0]);
    expectTypeOf(cmd.setGID(0)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setUmask(0o022)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setMaxProcesses(10)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setMaxMemLock(1024)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setMaxFiles(1024)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setMaxCoreSize(0)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.passFD(3)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.passFD(3, PASS_FD_CLOSE_PARENT)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setInputFD(0)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setOutputFD(1)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setOutputFD({ fd: -1 })).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setErrorFD({ fd: -1 })).toEqualTypeOf<Command>();
    expectTypeOf(cmd.nonblockingFDs()).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setInputBuffer('text')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setInputBuffer(new Uint8Array(1))).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setOutputBuffer()).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setErrorBuffer({})).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setWorkingDirectory('/')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setPreExecHook({ library: '/lib/x.so', symbol: 'f', data: 'd' })).toEqualTypeOf<Command>();
    expectTypeOf(cmd.requireHandshake()).toEqualTypeOf<Command>();
    expectTypeOf(cmd.writeArgLog(2)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.rawStatus()).toEqualTypeOf<Command>();
    // calls added in libvirt 9-11
    expectTypeOf(cmd.setSendBuffer(3, 'secret')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setSendBuffer(3, new Uint8Array(1))).toEqualTypeOf<Command>();
    expectTypeOf(cmd.doAsyncIO()).toEqualTypeOf<Command>();
    expectTypeOf(cmd.addEnvFormat('A=%d', 1)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.addArgBuffer('a', 'b')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setCpuAffinity([0, 1])).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setCpuAffinity('0-1')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setMemoryPolicy('bind', [0])).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setRunAlone()).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setRunAmong(1)).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setSELinuxLabel('l')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setAppArmorProfile('p')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.getArgList()).toEqualTypeOf<string[]>();
    expectTypeOf(cmd.getUID()).toEqualTypeOf<number>();
    expectTypeOf(cmd.getGID()).toEqualTypeOf<number>();
    expectTypeOf(cmd.getBinaryPath()).toEqualTypeOf<string>();
    // @ts-expect-error not a memory policy name
    cmd.setMemoryPolicy('nearest');
    // @ts-expect-error a umask is a number
    cmd.setUmask('022');
    // @ts-expect-error a capability is a number or a name
    cmd.allowCap(true);
  });

  it('pivotRoot, addMount, addDevMount: containers', () => {
    expectTypeOf(cmd.pivotRoot('/srv/root')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.addMount('/data', { type: 'bind', source: '/srv/data', readonly: true })).toEqualTypeOf<Command>();
    expectTypeOf(cmd.addMount('/tmp', { type: 'tmpfs', options: 'size=1m' })).toEqualTypeOf<Command>();
    expectTypeOf(cmd.addDevMount()).toEqualTypeOf<Command>();
    expectTypeOf<MountType>().toEqualTypeOf<'bind' | 'tmpfs' | 'proc' | 'sysfs' | 'mqueue' | 'devpts'>();
    expectTypeOf<MountOptions['type']>().toEqualTypeOf<MountType>();
    // @ts-expect-error the type is one of the listed file systems
    cmd.addMount('/x', { type: 'overlay' });
    // @ts-expect-error options are required
    cmd.addMount('/x');
  });

  it('a subclass keeps its own type through the chain (this, not Command)', () => {
    class Mine extends Command {
      mine(): this {
        return this;
      }
    }
    expectTypeOf(new Mine('true').addArg('a').mine()).toEqualTypeOf<Mine>();
  });

  it('FdRef and BufferRef', () => {
    expectTypeOf<FdRef>().toEqualTypeOf<{ fd: number }>();
    expectTypeOf<BufferRef['value']>().toEqualTypeOf<string | Buffer | undefined>();
    expectTypeOf(cmd.setOutputFD).parameter(0).toEqualTypeOf<number | FdRef>();
  });

  it('running: run, runSync, runAsync, wait, abort, kill, free, exec, toString', () => {
    expectTypeOf(cmd.run()).toEqualTypeOf<Promise<RunResult>>();
    expectTypeOf(cmd.run({ status: true })).toEqualTypeOf<Promise<RunResult>>();
    expectTypeOf(cmd.runSync({ status: true })).toEqualTypeOf<RunResult>();
    expectTypeOf(cmd.runAsync).parameters.toEqualTypeOf<[options?: RunAsyncOptions]>();
    expectTypeOf(cmd.runAsync()).toEqualTypeOf<number>();
    expectTypeOf(cmd.wait()).toEqualTypeOf<Promise<RunResult>>();
    expectTypeOf(cmd.abort()).toEqualTypeOf<Promise<void>>();
    expectTypeOf(cmd.kill()).toEqualTypeOf<boolean>();
    expectTypeOf(cmd.kill('SIGHUP')).toEqualTypeOf<boolean>();
    expectTypeOf(cmd.kill('TERM', { group: true })).toEqualTypeOf<boolean>();
    expectTypeOf(cmd.kill(9)).toEqualTypeOf<boolean>();
    expectTypeOf(cmd.kill).parameters.toEqualTypeOf<[signal?: number | SignalInput, options?: KillOptions]>();
    // @ts-expect-error not a signal name
    cmd.kill('SIGNOPE');
    expectTypeOf(cmd.free()).toEqualTypeOf<void>();
    expectTypeOf(cmd.exec).returns.toEqualTypeOf<never>();
    expectTypeOf(cmd.handshakeWait()).toEqualTypeOf<Promise<void>>();
    // streams, lines, runRegex, runNul (issue 12/13)
    expectTypeOf(cmd.runAsync({ stdin: 'pipe', stdout: 'pipe', stderr: 'stdout' })).toEqualTypeOf<number>();
    expectTypeOf(cmd.stdin).toEqualTypeOf<import('node:stream').Writable | null>();
    expectTypeOf(cmd.stdout).toEqualTypeOf<import('node:stream').Readable | null>();
    expectTypeOf(cmd.lines({ stream: 'all' })).toEqualTypeOf<AsyncGenerator<string>>();
    expectTypeOf(
      cmd.runRegex([/a/, 'b'], (groups: string[], line: number) => void [groups, line], { prefix: 'x', groups: [0, 0], status: true }),
    ).toEqualTypeOf<Promise<RunResult>>();
    expectTypeOf(cmd.runNul(2, async (fields) => void fields)).toEqualTypeOf<Promise<RunResult>>();
    expectTypeOf(cmd.runRegex(['^(\\S+)$'], () => {}, { parse: 'after-exit' })).toEqualTypeOf<Promise<RunResult>>();
    // @ts-expect-error parse is 'streaming' or 'after-exit'
    void cmd.runRegex([/a/], () => {}, { parse: 'later' });
    expectTypeOf<typeof PASS_FD_BLOCKING>().toEqualTypeOf<2>();
    expectTypeOf(cmd.handshakeNotify()).toEqualTypeOf<void>();
    expectTypeOf(cmd.toString).parameters.toEqualTypeOf<[options?: ToStringOptions]>();
    expectTypeOf(cmd.toString({ linebreaks: true })).toEqualTypeOf<string>();
  });

  it('RunResult carries the status and the captured output', () => {
    expectTypeOf<RunResult['status']>().toEqualTypeOf<number>();
    expectTypeOf<RunResult['exitStatus']>().toEqualTypeOf<number | null>();
    expectTypeOf<RunResult['signal']>().toEqualTypeOf<SignalName | null>();
    expectTypeOf<RunResult['stdout']>().toEqualTypeOf<string>();
    expectTypeOf<RunResult['stderr']>().toEqualTypeOf<string>();
    expectTypeOf<RunResult<Buffer>['stdout']>().toEqualTypeOf<Buffer>();
  });

  it('readPidFile and killByPidFile', () => {
    expectTypeOf(readPidFile('/run/a.pid')).toEqualTypeOf<number | null>();
    expectTypeOf(readPidFile('/run/a.pid', { lock: true })).toEqualTypeOf<number | null>();
    expectTypeOf(killByPidFile('/run/a.pid')).toEqualTypeOf<Promise<KillByPidFileResult>>();
    expectTypeOf(killByPidFile('/run/a.pid', 'SIGTERM', { wait: 1000, force: true, remove: true })).toEqualTypeOf<Promise<KillByPidFileResult>>();
    expectTypeOf<KillByPidFileResult['outcome']>().toEqualTypeOf<'signalled' | 'missing' | 'not-locked' | 'locked-by-other' | 'gone' | 'other-program'>();
  });

  it('pidWait, pidAbort and setDryRun', () => {
    expectTypeOf(pidWait).parameters.toEqualTypeOf<[pid: number, options?: PidWaitOptions]>();
    expectTypeOf(pidWait(1)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(pidAbort).parameters.toEqualTypeOf<[pid: number]>();
    expectTypeOf(pidAbort(1)).toEqualTypeOf<Promise<void>>();
    expectTypeOf(setDryRun).parameters.toEqualTypeOf<[options: DryRunOptions | null]>();
    expectTypeOf(setDryRun).returns.toEqualTypeOf<void>();
  });

  it('CommandError is an Error with its documented fields', () => {
    expectTypeOf<CommandError>().toMatchTypeOf<Error>();
    expectTypeOf<CommandError['command']>().toEqualTypeOf<string>();
    expectTypeOf<CommandError['exitStatus']>().toEqualTypeOf<number | null>();
    expectTypeOf<CommandError['exitCode']>().toEqualTypeOf<number | null>();
    expectTypeOf<CommandError['signal']>().toEqualTypeOf<SignalName | null>();
    expectTypeOf<CommandError['stage']>().toEqualTypeOf<CommandStage | null>();
    expectTypeOf<CommandError['errno']>().toEqualTypeOf<number | null>();
    expectTypeOf<CommandError['code']>().toEqualTypeOf<CommandErrorCode | undefined>();
    expectTypeOf<CommandError['shortMessage']>().toEqualTypeOf<string>();
    // An error can come from a run of either encoding: its output type stays open.
    expectTypeOf<CommandError['stderr']>().toEqualTypeOf<string | Buffer | undefined>();
  });
});

describe('output typed by encoding', () => {
  it('string by default and with utf8; Buffer with encoding buffer; never undefined', async () => {
    expectTypeOf(cmd.run()).toEqualTypeOf<Promise<RunResult<string>>>();
    expectTypeOf(cmd.run({ status: true, timeout: 5 })).toEqualTypeOf<Promise<RunResult<string>>>();
    expectTypeOf(cmd.run({ encoding: 'utf8' })).toEqualTypeOf<Promise<RunResult<string>>>();
    expectTypeOf(cmd.run({ encoding: 'buffer', status: true })).toEqualTypeOf<Promise<RunResult<Buffer>>>();
    expectTypeOf((await cmd.run({ encoding: 'buffer' })).stderr).toEqualTypeOf<Buffer>();
    expectTypeOf(cmd.runSync().stdout).toEqualTypeOf<string>();
    expectTypeOf(cmd.runSync({ encoding: 'buffer' }).stdout).toEqualTypeOf<Buffer>();
    expectTypeOf(cmd.wait()).toEqualTypeOf<Promise<RunResult<string>>>();
    expectTypeOf(cmd.wait({ encoding: 'buffer' })).toEqualTypeOf<Promise<RunResult<Buffer>>>();
    // run({ input }): a string, bytes or a Readable; the result is typed by encoding as before
    expectTypeOf(cmd.run({ input: 'text' })).toEqualTypeOf<Promise<RunResult<string>>>();
    expectTypeOf(cmd.run({ input: Readable.from(['x']), encoding: 'buffer' })).toEqualTypeOf<Promise<RunResult<Buffer>>>();
    expectTypeOf(cmd.runSync({ input: new Uint8Array(1) }).stdout).toEqualTypeOf<string>();
    // @ts-expect-error input is not a number
    void cmd.run({ input: 42 });
    // @ts-expect-error wait() has no input: the child is already running
    void cmd.wait({ input: 'x' });
    // @ts-expect-error a Buffer result is not a string
    const notString: string = cmd.runSync({ encoding: 'buffer' }).stdout;
    // @ts-expect-error a string result is not a Buffer
    const notBuffer: Buffer = cmd.runSync().stdout;
    // @ts-expect-error stdout is always there ('' when not captured), never undefined
    const notUndefined: undefined = cmd.runSync().stderr;
    // @ts-expect-error only 'utf8' and 'buffer'
    void cmd.run({ encoding: 'latin1' });
    void [notString, notBuffer, notUndefined];
  });

  it('an encoding known only as OutputEncoding gives string | Buffer', () => {
    const enc = 'buffer' as OutputEncoding;
    expectTypeOf(cmd.runSync({ encoding: enc }).stdout).toEqualTypeOf<string | Buffer>();
    const options: RunOptions = { status: true };
    expectTypeOf(cmd.runSync(options).stdout).toEqualTypeOf<string | Buffer>();
    const waitOptions: WaitOptions = {};
    expectTypeOf(cmd.wait(waitOptions)).toEqualTypeOf<Promise<RunResult<string | Buffer>>>();
  });
});

describe('names as string-literal unions', () => {
  it('CommandError.stage is a CommandStage, the union of COMMAND_STAGES', () => {
    expectTypeOf<(typeof COMMAND_STAGES)[number]>().toEqualTypeOf<CommandStage>();
    expectTypeOf<'chdir' | 'exec' | 'validate' | 'pidfile' | 'caps' | 'hook'>().toMatchTypeOf<CommandStage>();
    const e = new CommandError('x');
    if (e.stage === 'chdir') expectTypeOf(e.stage).toEqualTypeOf<'chdir'>();
    // @ts-expect-error not a stage
    if (e.stage === 'chdri') return;
    // @ts-expect-error details take stages only
    new CommandError('x', { stage: 'somewhere' });
  });

  it('CommandError.code is an errno name or one of our codes', () => {
    expectTypeOf<'ENOENT' | 'EACCES' | 'ETIMEDOUT' | 'EAGAIN'>().toMatchTypeOf<ErrnoCode>();
    expectTypeOf<
      ErrnoCode | 'ABORT_ERR' | 'ERR_CHILD_MAX_BUFFER' | 'ERR_COMMAND_USAGE' | 'ERR_STRING_TOO_LONG' | 'ERR_DLOPEN_FAILED' | 'ERR_UNKNOWN_USER'
    >().toEqualTypeOf<CommandErrorCode>();
    const e = new CommandError('x', { code: 'ENOENT' });
    // @ts-expect-error not an errno name
    if (e.code === 'ENOENTT') return;
    // @ts-expect-error not a code of ours
    new CommandError('x', { code: 'ERR_SOMETHING' });
  });

  it('signals: SignalName in results and errors, names (with or without SIG) in setParentDeathSignal', () => {
    expectTypeOf<'SIGTERM' | 'SIGKILL' | 'SIGRTMIN+3'>().toMatchTypeOf<SignalName>();
    expectTypeOf(cmd.setParentDeathSignal('SIGTERM')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setParentDeathSignal('TERM')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.setParentDeathSignal(15)).toEqualTypeOf<Command>();
    // @ts-expect-error not a signal name
    cmd.setParentDeathSignal('SIGTERMM');
    const e = new CommandError('x');
    // @ts-expect-error not a signal a child can die of
    if (e.signal === 'SIGTREM') return;
  });

  it('capabilities: CapabilityName from CAPABILITY_NAMES; allowCap takes its spellings', () => {
    expectTypeOf<(typeof CAPABILITY_NAMES)[number]>().toEqualTypeOf<CapabilityName>();
    expectTypeOf(capabilityName(12)).toEqualTypeOf<CapabilityName | undefined>();
    expectTypeOf(cmd.allowCap('CAP_NET_ADMIN')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.allowCap('NET_ADMIN')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.allowCap('cap_net_admin')).toEqualTypeOf<Command>();
    expectTypeOf(cmd.allowCap('net_admin')).toEqualTypeOf<Command>();
    // @ts-expect-error not a capability
    cmd.allowCap('CAP_NET_ADMINN');
  });
});

describe('explicit resource management', () => {
  it('`using cmd = new Command(...)` type-checks and binds a Command', () => {
    {
      using disposable = new Command('true');
      expectTypeOf(disposable).toEqualTypeOf<Command>();
    }
    expectTypeOf(cmd[Symbol.dispose]).toEqualTypeOf<() => void>();
    expectTypeOf<Command>().toMatchTypeOf<Disposable>();
  });

  it('`await using cmd = new Command(...)` type-checks: Command is AsyncDisposable', async () => {
    {
      await using disposable = new Command('true');
      expectTypeOf(disposable).toEqualTypeOf<Command>();
    }
    expectTypeOf(cmd[Symbol.asyncDispose]).toEqualTypeOf<() => Promise<void>>();
    expectTypeOf<Command>().toMatchTypeOf<AsyncDisposable>();
  });
});

describe('spawn(): the pipes the options asked for are typed non-null', () => {
  type Writable = import('node:stream').Writable;
  type Readable = import('node:stream').Readable;

  it('a pipe asked for is a Writable/Readable, one not asked for is null', () => {
    const a = cmd.spawn({ stdin: 'pipe', stdout: 'pipe' });
    expectTypeOf(a.pid).toEqualTypeOf<number>();
    expectTypeOf(a.stdin).toEqualTypeOf<Writable>();
    expectTypeOf(a.stdout).toEqualTypeOf<Readable>();
    expectTypeOf(a.stderr).toEqualTypeOf<null>();
    a.stdin.end('no ! needed under strict');
    const b = cmd.spawn();
    expectTypeOf(b.stdin).toEqualTypeOf<null>();
    expectTypeOf(b.stdout).toEqualTypeOf<null>();
    const c = cmd.spawn({ stdout: 'pipe', stderr: 'stdout', autoReap: false });
    expectTypeOf(c.stdout).toEqualTypeOf<Readable>();
    expectTypeOf(c.stderr).toEqualTypeOf<null>();
    expectTypeOf(cmd.spawn({ stderr: 'pipe' }).stderr).toEqualTypeOf<Readable>();
  });

  it('options known only at run time give Writable | null, as cmd.stdin', () => {
    const opts: RunAsyncOptions = {};
    expectTypeOf(cmd.spawn(opts).stdin).toEqualTypeOf<Writable | null>();
    expectTypeOf(cmd.spawn(opts).stderr).toEqualTypeOf<Readable | null>();
  });

  it('invalid pipe values do not compile', () => {
    // @ts-expect-error stdin is 'pipe' or absent
    cmd.spawn({ stdin: 'inherit' });
    // @ts-expect-error not an option of runAsync()
    cmd.spawn({ timeout: 5 });
  });
});
