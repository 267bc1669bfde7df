import { afterEach, describe, expect, it } from 'vitest';
import { Command, CommandError, isCommandError, PASS_FD_CLOSE_PARENT, setDryRun } from '../../src/index';

type Coded = Error & { code?: string };

function errorOf(fn: () => unknown): Coded {
  try {
    fn();
  } catch (e) {
    return e as Coded;
  }
  throw new Error('expected a throw');
}

function expectArgError(fn: () => unknown, ctor: typeof TypeError | typeof RangeError, code: string, message: string | RegExp): void {
  const e = errorOf(fn);
  expect(e).toBeInstanceOf(ctor);
  expect(e.code).toBe(code);
  if (typeof message === 'string') expect(e.message.startsWith(message), e.message).toBe(true);
  else expect(e.message).toMatch(message);
}

const cmd = (): Command => new Command('true');

describe('invalid arguments throw at once', () => {
  it('names the method and the argument', () => {
    expectArgError(() => cmd().addArg('a\0b'), TypeError, 'ERR_INVALID_ARG_VALUE', "Command.addArg: argument 'value' must not contain NUL bytes");
    expectArgError(() => cmd().addArg(5 as unknown as string), TypeError, 'ERR_INVALID_ARG_TYPE', "Command.addArg: argument 'value' must be a string");
    expectArgError(() => cmd().addEnvPair('A=B', 'x'), TypeError, 'ERR_INVALID_ARG_VALUE', "Command.addEnvPair: argument 'name' must not contain '='");
    expectArgError(() => cmd().addArgSet(['a', 'b', 3 as unknown as string]), TypeError, 'ERR_INVALID_ARG_TYPE', 'Command.addArgSet: args[2] must be a string');
    expectArgError(() => cmd().addArgList('x', null as unknown as string), TypeError, 'ERR_INVALID_ARG_TYPE', 'Command.addArgList: args[1] must be a string');
  });

  it('checks programs, argv and arrays', () => {
    expectArgError(() => new Command(''), TypeError, 'ERR_INVALID_ARG_VALUE', "new Command: argument 'program' must not be empty");
    expectArgError(() => new Command('a\0'), TypeError, 'ERR_INVALID_ARG_VALUE', /NUL/);
    expectArgError(() => Command.newArgs([]), RangeError, 'ERR_INVALID_ARG_VALUE', "Command.newArgs: argument 'argv' must not be empty");
    expectArgError(() => cmd().addArgSet([]), RangeError, 'ERR_INVALID_ARG_VALUE', "Command.addArgSet: argument 'args' must not be empty");
    expect(Command.newArgs(['ls', '-l']).toString()).toBe('ls -l');
    expect(cmd().addArgList().addArgPair('-log', 'bar.log').toString()).toBe('true -log=bar.log');
  });

  it('names Command.newArgs and the argv element for its own argv (found by test/property/args.test.ts)', () => {
    // The empty program used to be reported as "new Command: argument 'program'".
    expectArgError(() => Command.newArgs(['']), TypeError, 'ERR_INVALID_ARG_VALUE', 'Command.newArgs: argv[0] must not be empty');
    expectArgError(() => Command.newArgs(['', 'a\0']), TypeError, 'ERR_INVALID_ARG_VALUE', 'Command.newArgs: argv[0] must not be empty');
    expectArgError(() => Command.newArgs(['ls', 'a', 'b\0']), TypeError, 'ERR_INVALID_ARG_VALUE', 'Command.newArgs: argv[2] must not contain NUL bytes');
    expectArgError(() => Command.newArgs(['l\0s']), TypeError, 'ERR_INVALID_ARG_VALUE', 'Command.newArgs: argv[0] must not contain NUL bytes');
  });

  it('refuses the holes of sparse arrays instead of recording undefined', () => {
    // addArgSet(['a', , 'b']) used to record an argument undefined (toString printed it) and
    // the run then failed in the addon's plan check; setGroups likewise.
    /* eslint-disable no-sparse-arrays -- the holes are the case under test */
    expectArgError(
      () => cmd().addArgSet(['a', , 'b'] as string[]),
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      'Command.addArgSet: args[1] must be a string (received undefined)',
    );
    expectArgError(
      () => cmd().addArgSet(new Array<string>(2)),
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      'Command.addArgSet: args[0] must be a string (received undefined)',
    );
    expectArgError(
      () => Command.newArgs(['ls', , 'x'] as string[]),
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      'Command.newArgs: argv[1] must be a string (received undefined)',
    );
    expectArgError(
      () => cmd().setGroups([1, , 2] as number[]),
      TypeError,
      'ERR_INVALID_ARG_TYPE',
      'Command.setGroups: gids[1] must be a number (received undefined)',
    );
    const c = cmd().addArg('x');
    expect(() => c.addArgSet(['y', , 'z'] as string[])).toThrow(TypeError);
    /* eslint-enable no-sparse-arrays */
    expect(c.toString()).toBe('true x');
  });

  it('checks environment entries', () => {
    expectArgError(() => cmd().addEnvString('NOEQUALS'), TypeError, 'ERR_INVALID_ARG_VALUE', "Command.addEnvString: argument 'entry'");
    expectArgError(() => cmd().addEnvString('=value'), TypeError, 'ERR_INVALID_ARG_VALUE', "Command.addEnvString: argument 'entry'");
    expectArgError(() => cmd().addEnvPass(''), TypeError, 'ERR_INVALID_ARG_VALUE', "Command.addEnvPass: argument 'name' must not be empty");
    expectArgError(() => cmd().addEnvPair('A', 'b\0'), TypeError, 'ERR_INVALID_ARG_VALUE', "Command.addEnvPair: argument 'value' must not contain NUL bytes");
    expect(cmd().addEnvString('A==b').toString()).toBe('A==b true');
  });

  it('checks fds and numbers', () => {
    expectArgError(() => cmd().passFD(2), RangeError, 'ERR_OUT_OF_RANGE', "Command.passFD: argument 'fd'");
    expectArgError(() => cmd().passFD(3.5), RangeError, 'ERR_OUT_OF_RANGE', "Command.passFD: argument 'fd'");
    expectArgError(() => cmd().passFD('3' as unknown as number), TypeError, 'ERR_INVALID_ARG_TYPE', "Command.passFD: argument 'fd'");
    expectArgError(() => cmd().passFD(3, 4), RangeError, 'ERR_OUT_OF_RANGE', "Command.passFD: argument 'flags'");
    expectArgError(() => cmd().setInputFD(-1), RangeError, 'ERR_OUT_OF_RANGE', "Command.setInputFD: argument 'fd'");
    expectArgError(() => cmd().setOutputFD({ fd: -2 }), RangeError, 'ERR_OUT_OF_RANGE', "Command.setOutputFD: argument 'target.fd'");
    expectArgError(() => cmd().setErrorFD('x' as unknown as number), TypeError, 'ERR_INVALID_ARG_TYPE', "Command.setErrorFD: argument 'target'");
    expectArgError(() => cmd().setUmask(0.5), RangeError, 'ERR_OUT_OF_RANGE', "Command.setUmask: argument 'mask'");
    expectArgError(() => cmd().setUmask(0o1000), RangeError, 'ERR_OUT_OF_RANGE', "Command.setUmask: argument 'mask'");
    expectArgError(() => cmd().setUID(2 ** 32 - 1), RangeError, 'ERR_OUT_OF_RANGE', "Command.setUID: argument 'uid'");
    expectArgError(() => cmd().setGroups([1, -1]), RangeError, 'ERR_OUT_OF_RANGE', 'Command.setGroups: gids[1]');
    expectArgError(() => cmd().setNice(20), RangeError, 'ERR_OUT_OF_RANGE', "Command.setNice: argument 'n'");
    expectArgError(() => cmd().setMaxFiles(-1), RangeError, 'ERR_OUT_OF_RANGE', "Command.setMaxFiles: argument 'n'");
    expectArgError(() => cmd().setRlimit('BOGUS' as 'NOFILE', 1), RangeError, 'ERR_INVALID_ARG_VALUE', "Command.setRlimit: argument 'resource'");
    expectArgError(
      () => cmd().setParentDeathSignal('SIGBOGUS' as 'SIGTERM'),
      RangeError,
      'ERR_INVALID_ARG_VALUE',
      "Command.setParentDeathSignal: argument 'signal'",
    );
    expectArgError(() => cmd().joinNamespace(3, 'bogus' as 'net'), RangeError, 'ERR_INVALID_ARG_VALUE', "Command.joinNamespace: argument 'type'");
    expectArgError(() => cmd().unshare(['net', 'nope' as 'net']), RangeError, 'ERR_INVALID_ARG_VALUE', 'Command.unshare: flags[1]');
    expectArgError(
      () => cmd().setPreExecHook({ library: '', symbol: 'f' }),
      TypeError,
      'ERR_INVALID_ARG_VALUE',
      "Command.setPreExecHook: argument 'hook.library'",
    );
    expectArgError(() => cmd().setWorkingDirectory('a\0'), TypeError, 'ERR_INVALID_ARG_VALUE', /NUL/);
    expectArgError(() => cmd().setPidFile(''), TypeError, 'ERR_INVALID_ARG_VALUE', /must not be empty/);
    expectArgError(() => cmd().runSync({ timeout: -1 }), RangeError, 'ERR_OUT_OF_RANGE', "Command.runSync: argument 'options.timeout'");
    expectArgError(() => cmd().runSync({ encoding: 'latin1' as 'utf8' }), TypeError, 'ERR_INVALID_ARG_VALUE', "Command.runSync: argument 'options.encoding'");
  });

  it('says what a wrong encoding was: its text, or its kind for what is not a string', () => {
    expectArgError(() => cmd().runSync({ encoding: 'latin1' as 'utf8' }), TypeError, 'ERR_INVALID_ARG_VALUE', /\(received latin1\)$/);
    expectArgError(() => cmd().runSync({ encoding: {} as 'utf8' }), TypeError, 'ERR_INVALID_ARG_VALUE', /\(received object\)$/);
    expectArgError(() => cmd().runSync({ encoding: 8 as unknown as 'utf8' }), TypeError, 'ERR_INVALID_ARG_VALUE', /\(received number 8\)$/);
  });

  it('does not take Object.prototype keys for names', () => {
    expect(() => cmd().setRlimit('constructor' as 'NOFILE', 1)).toThrow(RangeError);
    expect(() => cmd().joinNamespace(3, 'toString' as 'net')).toThrow(RangeError);
    expect(() => cmd().unshare(['__proto__' as 'net'])).toThrow(RangeError);
    expect(() => cmd().setParentDeathSignal('constructor' as 'SIGTERM')).toThrow(RangeError);
    expect(() => cmd().allowCap('constructor' as 'CAP_KILL')).toThrow(RangeError);
  });

  it('accepts the edge values', () => {
    expect(() =>
      cmd()
        .setUmask(0)
        .setUID(0)
        .setGID(2 ** 32 - 2)
        .setNice(-20)
        .passFD(3, PASS_FD_CLOSE_PARENT),
    ).not.toThrow();
    expect(() => cmd().setMaxMemLock(Infinity).setMaxCoreSize(0).setRlimit(7, 10).setParentDeathSignal('TERM')).not.toThrow();
    expect(() => cmd().setOutputFD({ fd: -1 }).setErrorFD(2).setInputFD(0)).not.toThrow();
  });
});

describe('misuse of the command is deferred to the run', () => {
  afterEach(() => setDryRun(null));

  function usage(c: Command, reason: string): void {
    for (const attempt of [() => c.toString(), () => c.runSync(), () => c.runAsync()]) {
      const e = errorOf(attempt);
      expect(isCommandError(e)).toBe(true);
      expect(e).toBeInstanceOf(CommandError);
      const ce = e as CommandError;
      expect(ce.stage).toBe('validate');
      expect(ce.code).toBe('ERR_COMMAND_USAGE');
      expect(ce.message).toContain(reason);
    }
  }

  it('records the first misuse only', () => {
    const c = cmd().setOutputBuffer().setOutputFD(1).setInputFD(0).setInputBuffer('x');
    usage(c, 'cannot specify output twice');
  });

  it('reports each kind of twice', () => {
    usage(cmd().setErrorFD(2).setErrorBuffer(), 'cannot specify error output twice');
    usage(cmd().setInputBuffer('a').setInputBuffer('b'), 'cannot specify input twice');
    usage(cmd().setWorkingDirectory('/').setWorkingDirectory('/tmp'), 'cannot set working directory twice');
    usage(cmd().setPreExecHook({ library: 'l', symbol: 's' }).setPreExecHook({ library: 'l', symbol: 's' }), 'cannot set pre-exec hook twice');
    usage(cmd().requireHandshake().requireHandshake(), 'cannot require handshake twice');
  });

  it('rejects combinations at run time', async () => {
    setDryRun({});
    const runUsage = (c: Command, run: (c: Command) => unknown, reason: string): void => {
      const e = errorOf(() => run(c)) as CommandError;
      expect(e.code).toBe('ERR_COMMAND_USAGE');
      expect(e.message).toContain(reason);
    };
    runUsage(cmd().setPidFile('/run/x.pid'), (c) => c.runSync(), 'creation of pid file requires daemonized command');
    runUsage(cmd().daemonize(), (c) => c.runAsync(), 'daemonized command cannot use runAsync()');
    runUsage(cmd().daemonize().setWorkingDirectory('/tmp'), (c) => c.runSync(), 'daemonized command cannot set working directory /tmp');
    runUsage(cmd().daemonize().setInputBuffer('x'), (c) => c.runSync(), 'cannot mix string I/O with daemon');
    runUsage(cmd().setOutputFD({ fd: -1 }), (c) => c.runSync(), 'cannot mix caller pipes with blocking execution');
    runUsage(cmd().requireHandshake(), (c) => c.runSync(), 'handshake');
    const running = cmd();
    running.runAsync();
    runUsage(running, (c) => c.runAsync(), 'command is already running as pid 0');
    await running.wait();
    const freed = cmd();
    freed.free();
    runUsage(freed, (c) => c.runSync(), 'command has been freed');
    await expect(cmd().wait()).rejects.toThrow('command is not running');
  });

  it('allows pipes with run() and toString() of a sound command', async () => {
    setDryRun({});
    await expect(cmd().setOutputFD({ fd: -1 }).run()).resolves.toMatchObject({ status: 0 });
    expect(cmd().daemonize().setPidFile('/run/p').toString()).toBe('true');
  });
});
