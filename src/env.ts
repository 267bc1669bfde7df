/**
 * The child's environment. Rules (libvirt's, made consistent):
 * - no env call at all: the child inherits the parent's environment (entries() is null);
 * - any env call, even addEnvPass() of an unset variable: the child gets a clean
 *   environment holding only the configured entries (libvirt would inherit everything
 *   when the only call passed an unset variable; we do not);
 * - a later entry for a name replaces the earlier one in place, so the order is the
 *   order in which names were first set (libvirt test8).
 */

/** Passed by addEnvPassCommon(), in this order, after LC_ALL=C, when set in the parent. */
export const PASS_COMMON_NAMES: readonly string[] = Object.freeze([
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'TMPDIR',
]);

/** Where an environment's values come from: process.env, or an injected object in tests. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** The configured environment of one command. Names and values are validated by the caller. */
export class EnvBuilder {
  #entries: string[] | null = null;
  readonly #source: EnvSource;

  /** `source` is read at each addPass()/addPassCommon() call, like getenv(). */
  constructor(source: EnvSource = process.env) {
    this.#source = source;
  }

  /** The NAME=value entries, or null when the child inherits the parent's environment. */
  entries(): string[] | null {
    return this.#entries === null ? null : [...this.#entries];
  }

  /** Adds `NAME=value` (the name is everything before the first '='), replacing in place. */
  addString(entry: string): void {
    const list = (this.#entries ??= []);
    const prefix = entry.slice(0, entry.indexOf('=') + 1);
    const at = list.findIndex((e) => e.startsWith(prefix));
    if (at >= 0) list[at] = entry;
    else list.push(entry);
  }

  /** Adds `name=value`. */
  addPair(name: string, value: string): void {
    this.addString(`${name}=${value}`);
  }

  /** Copies `name` from the source if it is set there; the environment is clean either way. */
  addPass(name: string): void {
    this.#entries ??= [];
    const value = this.#source[name];
    if (value !== undefined) this.addPair(name, value);
  }

  /** LC_ALL=C, then PASS_COMMON_NAMES that are set in the source. */
  addPassCommon(): void {
    this.addPair('LC_ALL', 'C');
    for (const name of PASS_COMMON_NAMES) this.addPass(name);
  }

  /** XDG_DATA_HOME, XDG_CACHE_HOME and XDG_CONFIG_HOME under `baseDir`. */
  addXDG(baseDir: string): void {
    this.addPair('XDG_DATA_HOME', `${baseDir}/.local/share`);
    this.addPair('XDG_CACHE_HOME', `${baseDir}/.cache`);
    this.addPair('XDG_CONFIG_HOME', `${baseDir}/.config`);
  }
}
