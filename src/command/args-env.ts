/**
 * Command's arguments and environment (addArg*, getArgList, addEnv*): the methods, added to
 * Command.prototype. The program and the first arguments come with the constructor
 * (command.ts).
 */
import { formatArg } from '../format';
import { arg, checkEnvName, checkString, typeError, valueError } from '../validate';
import { checkArgs } from './checks';
import { Command, stateOf } from './command';
import { defineMethods } from './define-methods';

declare module './command' {
  interface Command {
    /**
     * Appends one argument.
     * @throws {TypeError} for a non-string or a NUL byte
     * @example cmd.addArg('--verbose')
     */
    addArg(value: string): this;
    /**
     * Appends one argument `name=value`.
     * @throws {TypeError} for a non-string, a NUL byte, or an empty name (`=value` is no pair)
     * @example cmd.addArgPair('-log', 'bar.log') // -log=bar.log
     */
    addArgPair(name: string, value: string): this;
    /**
     * Appends one argument formatted printf-style: %s %d %i %u %x %o %f %%, flags '-' and
     * '0', width and .precision; integer conversions take numbers or bigints.
     * @throws {TypeError} for an unsupported conversion, or a wrong number or type of values
     * @example cmd.addArgFormat('%s,size=%uM', 'disk0', 512)
     */
    addArgFormat(format: string, ...values: unknown[]): this;
    /**
     * Appends the parts joined into ONE argument: libvirt's virCommandAddArgBuffer, with the
     * virBuffer's pieces as `parts` (no part gives one empty argument, as an empty buffer does).
     * @throws {TypeError} for a non-string part or a NUL byte
     * @example cmd.addArgBuffer('file=', path, ',format=raw') // one argument
     */
    addArgBuffer(...parts: string[]): this;
    /**
     * A copy of the arguments after the program (argv[1..]), as virCommandGetArgList.
     * @example new Command('ls', '-l').getArgList() // ['-l']
     */
    getArgList(): string[];
    /**
     * Appends every element of a non-empty array.
     * @throws {RangeError} for an empty array; {TypeError} for a non-string element
     * @example cmd.addArgSet(['-a', '-b'])
     */
    addArgSet(args: readonly string[]): this;
    /**
     * Appends each argument (none is fine).
     * @throws {TypeError} for a non-string or a NUL byte
     * @example cmd.addArgList('-c', 'exit 3')
     */
    addArgList(...args: string[]): this;
    /**
     * Sets LC_ALL=C and passes LD_PRELOAD, LD_LIBRARY_PATH, PATH, HOME, USER, LOGNAME and
     * TMPDIR where the parent has them. Like every env method, it makes the child's
     * environment clean: only configured entries; with no env call the child inherits all.
     * @example cmd.addEnvPassCommon()
     */
    addEnvPassCommon(): this;
    /**
     * Passes the parent's whole environment as it is now (the calling thread's `process.env`, as
     * child_process and execa's `extendEnv` read it), so that later env calls add to it or
     * override single variables in place: execa's `{ env: { X }, extendEnv: true }` and
     * child_process's `env: { ...process.env, X }` in one call. A call before it is overridden by
     * the parent's value of the same name; put overrides after it.
     * @example cmd.addEnvPassAll().addEnvPair('LANG', 'C') // everything, with LANG=C
     */
    addEnvPassAll(): this;
    /**
     * Passes the parent's variable `name`, if it is set now. The environment becomes clean
     * even when it is not set (libvirt would then inherit everything).
     * @throws {TypeError} for an empty name, '=' or a NUL byte
     * @example cmd.addEnvPass('DISPLAY')
     */
    addEnvPass(name: string): this;
    /**
     * Sets `name=value`; a later value for the same name replaces it in place.
     * @throws {TypeError} for an empty name, '=' in the name, or a NUL byte
     * @example cmd.addEnvPair('LANG', 'C')
     */
    addEnvPair(name: string, value: string): this;
    /**
     * Sets an entry formatted printf-style (as addArgFormat()), which must read `NAME=value`.
     * @throws {TypeError} for a bad format or values, or a result without '=' or with an empty NAME
     * @example cmd.addEnvFormat('QEMU_AUDIO_DRV=%s', 'none')
     */
    addEnvFormat(format: string, ...values: unknown[]): this;
    /**
     * Sets a preformatted `NAME=value` entry.
     * @throws {TypeError} without '=', with an empty name, or with a NUL byte
     * @example cmd.addEnvString('USER=test')
     */
    addEnvString(entry: string): this;
    /**
     * Sets XDG_DATA_HOME, XDG_CACHE_HOME and XDG_CONFIG_HOME under `baseDir`.
     * @throws {TypeError} for an empty string or a NUL byte
     * @example cmd.addEnvXDG('/var/lib/app') // XDG_CACHE_HOME=/var/lib/app/.cache
     */
    addEnvXDG(baseDir: string): this;
  }
}

defineMethods(Command.prototype, {
  addArg(value: string) {
    stateOf(this).argv.push(checkString('Command.addArg', arg('value'), value));
    return this;
  },

  addArgPair(name: string, value: string) {
    const n = checkString('Command.addArgPair', arg('name'), name, true);
    stateOf(this).argv.push(`${n}=${checkString('Command.addArgPair', arg('value'), value)}`);
    return this;
  },

  addArgFormat(format: string, ...values: unknown[]) {
    const f = checkString('Command.addArgFormat', arg('format'), format);
    const text = formatArg('Command.addArgFormat', f, values);
    stateOf(this).argv.push(checkString('Command.addArgFormat', 'the formatted argument', text));
    return this;
  },

  addArgBuffer(...parts: string[]) {
    stateOf(this).argv.push(checkArgs('Command.addArgBuffer', parts, 'parts').join(''));
    return this;
  },

  getArgList(): string[] {
    return stateOf(this).argv.slice(1);
  },

  addArgSet(args: readonly string[]) {
    if (!Array.isArray(args)) throw typeError('Command.addArgSet', arg('args'), 'an array', args);
    if (args.length === 0) throw valueError('Command.addArgSet', arg('args'), 'must not be empty', RangeError);
    appendAll(stateOf(this).argv, checkArgs('Command.addArgSet', args, 'args'));
    return this;
  },

  addArgList(...args: string[]) {
    appendAll(stateOf(this).argv, checkArgs('Command.addArgList', args, 'args'));
    return this;
  },

  addEnvPassCommon() {
    stateOf(this).env.addPassCommon();
    return this;
  },

  addEnvPassAll() {
    stateOf(this).env.addPassAll();
    return this;
  },

  addEnvPass(name: string) {
    stateOf(this).env.addPass(checkEnvName('Command.addEnvPass', arg('name'), name));
    return this;
  },

  addEnvPair(name: string, value: string) {
    const n = checkEnvName('Command.addEnvPair', arg('name'), name);
    stateOf(this).env.addPair(n, checkString('Command.addEnvPair', arg('value'), value));
    return this;
  },

  addEnvFormat(format: string, ...values: unknown[]) {
    const m = 'Command.addEnvFormat';
    const text = checkString(m, 'the formatted entry', formatArg(m, checkString(m, arg('format'), format), values));
    if (text.indexOf('=') < 1) throw valueError(m, 'the formatted entry', 'must have the form NAME=value with a non-empty NAME');
    stateOf(this).env.addString(text);
    return this;
  },

  addEnvString(entry: string) {
    const e = checkString('Command.addEnvString', arg('entry'), entry);
    if (e.indexOf('=') < 1) throw valueError('Command.addEnvString', arg('entry'), 'must have the form NAME=value with a non-empty NAME');
    stateOf(this).env.addString(e);
    return this;
  },

  addEnvXDG(baseDir: string) {
    stateOf(this).env.addXDG(checkString('Command.addEnvXDG', arg('baseDir'), baseDir, true));
    return this;
  },
});

// push(...items) passes every item as a call argument: past ~100,000 items that overflows the
// stack (RangeError: Maximum call stack size exceeded). A loop has no such limit.
function appendAll(list: string[], items: readonly string[]): void {
  for (const item of items) list.push(item);
}
