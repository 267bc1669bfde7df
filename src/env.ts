/**
 * The child's environment. Rules (libvirt's, made consistent):
 * - no env call at all: the child inherits the parent's environment (entries() is null);
 * - any env call, even addEnvPass() of an unset variable: the child gets a clean
 *   environment holding only the configured entries (libvirt would inherit everything
 *   when the only call passed an unset variable; we do not);
 * - a later entry for a name replaces the earlier one in place, so the order is the
 *   order in which names were first set (libvirt test8);
 * - "the parent's environment" is the calling thread's process.env, as with child_process:
 *   in a Worker, its own (new Worker(code, { env }), and what it set since), not the main
 *   thread's, which is the process's environ (see inheritedEnv()).
 */

import { isMainThread } from 'node:worker_threads';
import { envBytes, envLockAvailable } from './native';

/** An entry as text: a Buffer (non-UTF-8 bytes) as UTF-8 when valid, else as latin1. */
function entryText(entry: string | Buffer): string {
  if (typeof entry === 'string') return entry;
  const utf8 = entry.toString('utf8');
  return Buffer.from(utf8, 'utf8').equals(entry) ? utf8 : entry.toString('latin1');
}

/** The entries of a plan as text (toString(), dry runs). */
export function envStrings(env: readonly (string | Buffer)[] | null): string[] | null {
  return env === null ? null : env.map(entryText);
}

/** Passed by addEnvPassCommon(), in this order, after LC_ALL=C, when set in the parent. */
export const PASS_COMMON_NAMES: readonly string[] = Object.freeze(['LD_PRELOAD', 'LD_LIBRARY_PATH', 'PATH', 'HOME', 'USER', 'LOGNAME', 'TMPDIR']);

/** Where an environment's values come from: process.env, or an injected object in tests. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** The configured environment of one command. Names and values are validated by the caller. */
export class EnvBuilder {
  #entries: string[] | null = null;
  // NAME -> its index in #entries: a replacement in place finds its slot in O(1), so building
  // an environment of n entries is linear (a scan per entry made 100,000 entries take ~26 s).
  readonly #index = new Map<string, number>();
  // NAME -> the whole entry as bytes, for passed values that are not valid UTF-8.
  readonly #raw = new Map<string, Buffer>();
  readonly #source: EnvSource;
  readonly #fromProcess: boolean;

  /** `source` is read at each addPass()/addPassCommon() call, like getenv(). */
  constructor(source?: EnvSource) {
    this.#source = source ?? process.env;
    this.#fromProcess = source === undefined;
  }

  /** The NAME=value entries, or null when the child inherits the parent's environment. */
  entries(): string[] | null {
    return this.#entries === null ? null : [...this.#entries];
  }

  /**
   * The entries for the child: as entries(), but a passed value that is not valid UTF-8
   * is the Buffer of its bytes.
   */
  planEntries(): (string | Buffer)[] | null {
    if (this.#entries === null) return null;
    if (this.#raw.size === 0) return [...this.#entries];
    return this.#entries.map((e) => this.#raw.get(e.slice(0, e.indexOf('='))) ?? e);
  }

  /** Adds `NAME=value` (the name is everything before the first '='), replacing in place. */
  addString(entry: string): void {
    const list = (this.#entries ??= []);
    const name = entry.slice(0, entry.indexOf('='));
    this.#raw.delete(name);
    const at = this.#index.get(name);
    if (at !== undefined) list[at] = entry;
    else this.#index.set(name, list.push(entry) - 1);
  }

  /** Adds `name=value`. */
  addPair(name: string, value: string): void {
    this.addString(`${name}=${value}`);
  }

  /** Copies `name` from the source if it is set there; the environment is clean either way. */
  addPass(name: string): void {
    this.#entries ??= [];
    // Own properties only: process.env inherits toString, constructor, __proto__... from
    // Object.prototype, and an unset 'toString' must not pass "function toString() {...}".
    const value = Object.hasOwn(this.#source, name) ? this.#source[name] : undefined;
    if (typeof value !== 'string') return;
    this.addPair(name, value);
    // process.env decodes environ as UTF-8, lossily: take environ's bytes from the addon when
    // they differ from the value, but only when the value is their decoding. In a Worker,
    // process.env is the Worker's own copy and environ is the main thread's: its value for
    // the name may be another one altogether.
    if (!this.#fromProcess || !value.includes('\uFFFD')) return;
    const bytes = envBytes(name);
    if (bytes !== null && !bytes.equals(Buffer.from(value, 'utf8')) && bytes.toString('utf8') === value) {
      this.#raw.set(name, Buffer.concat([Buffer.from(`${name}=`, 'utf8'), bytes]));
    }
  }

  /**
   * Every variable set in the source now, in its order (as addPass() of each): the child starts
   * from the parent's whole environment and later entries override in place. A name that
   * cannot be passed (empty, or holding '=' or a NUL byte) is left out.
   */
  addPassAll(): void {
    this.#entries ??= [];
    // Object.keys: own names only (not process.env's inherited toString & co.).
    for (const name of Object.keys(this.#source)) {
      if (name === '' || name.includes('=') || name.includes('\0')) continue;
      const value = this.#source[name];
      if (typeof value !== 'string' || value.includes('\0')) continue;
      this.addPass(name);
    }
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

/**
 * The environment a child inherits when no env call was made, as plan entries, read at each
 * spawn (a change made through process.env reaches the child). The environment is only read
 * under Node's rules: a Worker started with SHARE_ENV may be calling setenv() meanwhile, and a
 * bare walk of environ then read freed memory.
 * - Main thread, where process.env is environ: null when the addon can copy environ under
 *   Node's own lock (envLockAvailable(); O(n), bytes as they are). Otherwise process.env's
 *   entries, each read by Node under its lock; a value that process.env decoded lossily (it
 *   holds U+FFFD) is passed as environ's bytes when envBytes() can read them under the lock.
 * - A Worker: its own process.env's entries (its copy, or environ under SHARE_ENV).
 * Own names only. A name holding '=' or a NUL byte cannot be passed and is left out.
 */
export function inheritedEnv(): (string | Buffer)[] | null {
  if (isMainThread && envLockAvailable()) return null;
  const entries: (string | Buffer)[] = [];
  const env = process.env;
  // Object.keys: own names only. A name another thread removed since reads as undefined.
  for (const name of Object.keys(env)) {
    const value = env[name];
    if (typeof value !== 'string' || name === '' || name.includes('=') || name.includes('\0') || value.includes('\0')) continue;
    const raw = isMainThread && value.includes('\uFFFD') ? envBytes(name) : null;
    entries.push(raw !== null && raw.toString('utf8') === value ? Buffer.concat([Buffer.from(`${name}=`, 'utf8'), raw]) : `${name}=${value}`);
  }
  return entries;
}
