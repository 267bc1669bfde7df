/**
 * The Command: libvirt's virCommand API under its TypeScript names. Builder methods validate
 * their arguments at once (TypeError/RangeError) and return `this`; misuse of the command as
 * a whole (output twice, ...) is recorded, first one wins, and reported by the run or by
 * toString(), as libvirt does.
 *
 * One class, as libvirt's one virCommand struct: this file has its state (a #private field,
 * reached through stateOf() by the modules that add methods; the package entry does not export
 * it), the constructor, newArgs(), pid and getBinaryPath(). The builder methods are added by
 * one module per concern beside it (args-env, stdio, privileges, pre-exec, namespaces, mounts,
 * sched-lsm, container; command/index.ts loads them all), the running methods by
 * src/run/methods.ts. Each declares its methods on `interface Command` with their
 * documentation.
 */
import * as os from 'node:os';
import { CommandError } from '../errors';
import { type CommandState, commandLine, createState, resolveCandidates } from '../plan';
import { arg, checkString, typeError, valueError } from '../validate';
import { checkArgs } from './checks';

/** The recorded state of `command`; for the modules that add Command's methods only. */
export let stateOf: (command: Command) => CommandState;

/**
 * A command to run: a program, its arguments, its environment and how its child is set up.
 * @example const { stdout } = await new Command('uname', '-r').run();
 */
export class Command {
  readonly #s: CommandState;

  static {
    stateOf = (command) => command.#s;
  }

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
   * @throws {RangeError} for an empty array; {TypeError} for a non-string element, a NUL byte or an empty program
   * @example Command.newArgs(['ls', '-l', '/tmp'])
   */
  static newArgs(argv: readonly string[]): Command {
    if (!Array.isArray(argv)) throw typeError('Command.newArgs', arg('argv'), 'an array', argv);
    if (argv.length === 0) throw valueError('Command.newArgs', arg('argv'), 'must not be empty', RangeError);
    // argv[0] is checked here, not by the constructor, so that an error names this method.
    const program = checkString('Command.newArgs', 'argv[0]', argv[0], true);
    const rest = checkArgs('Command.newArgs', argv.slice(1), 'argv', 1);
    return new Command(program, ...rest);
  }

  /**
   * The pid of the running child, or null: also while a run() waits for its turn to spawn
   * (run() paces bursts; see the README).
   * @example cmd.runAsync(); cmd.pid
   */
  get pid(): number | null {
    const rec = this.#s.running;
    return rec && !rec.queued ? rec.pid : null;
  }

  /**
   * The program's path as a run would exec it: a name is looked up in the parent's PATH now
   * (virCommandGetBinaryPath); a path with a '/' is returned as given.
   * @throws {CommandError} with code 'ENOENT' when the PATH has no such program
   * @example new Command('true').getBinaryPath() // '/usr/bin/true'
   */
  getBinaryPath(): string {
    const program = this.#s.argv[0];
    const found = resolveCandidates(program)[0];
    if (found !== undefined) return found;
    throw new CommandError(`Cannot find '${program}' in path`, {
      command: commandLine(this.#s),
      stage: 'exec',
      code: 'ENOENT',
      errno: os.constants.errno.ENOENT,
      path: program,
    });
  }
}
