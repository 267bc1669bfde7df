/**
 * Builds the C test fixtures in test/fixtures/ into build/test-helper/.
 *
 * - helper:  the report-writing test program (static if the toolchain can).
 * - sigtool: a test-only Node addon to block/ignore signals in a test
 *            process (never the product addon).
 *
 * Each output is rebuilt only when its source changed (mtime + size), so the
 * vitest globalSetup can call this on every run. Builds go to a temporary
 * name and are renamed into place, so a half-written binary is never used.
 * buildC() is that mechanism for any C file; the adversarial suites build
 * their support programs with it too.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// __dirname: vitest provides it for test modules and the globalSetup alike,
// and the project compiles TypeScript as CommonJS.
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const FIXTURE_DIR = path.join(REPO_ROOT, 'test', 'fixtures');
export const BUILD_DIR = path.join(REPO_ROOT, 'build', 'test-helper');

export interface BuiltFixture {
  path: string;
  /** true when linked with -static (the helper); addons are never static. */
  static: boolean;
  /** true when this call compiled it (false: the cached build was current). */
  rebuilt: boolean;
}

interface Stamp {
  srcMtimeMs: number;
  srcSize: number;
  flags: string[];
  static: boolean;
}

const CC = process.env.CC || 'cc';
export const BASE_FLAGS: readonly string[] = ['-O2', '-Wall', '-Wextra'];

/** The directory holding node_api.h, for building test-only addons. */
export function nodeIncludeDir(): string {
  const candidates = [path.resolve(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'];
  for (const dir of candidates) {
    if (fs.existsSync(path.join(dir, 'node_api.h'))) return dir;
  }
  throw new Error(`build-helper: node_api.h not found in ${candidates.join(', ')}`);
}

function compile(args: string[]): { ok: true } | { ok: false; message: string } {
  try {
    execFileSync(CC, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    return { ok: true };
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    return { ok: false, message: err.stderr?.toString() || err.message };
  }
}

function readStamp(file: string): Stamp | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Stamp;
  } catch {
    return null;
  }
}

export interface CBuild {
  /** the C source file */
  src: string;
  /** the output file; its stamp is `${out}.stamp.json` beside it */
  out: string;
  /** cc flags besides `-o OUT SRC` (default -O2 -Wall -Wextra) */
  flags?: readonly string[];
  /** try `-static` first and fall back to a dynamic link, with a warning */
  preferStatic?: boolean;
  /** the prefix of messages (default "build-helper") */
  label?: string;
}

/**
 * Compiles one C file with cc, unless the output is current: the stamp
 * beside it records the source's mtime and size and the flags. The output is
 * written under a temporary name and renamed into place, so test files
 * building in parallel never see a half-written file.
 */
export function buildC(spec: CBuild): BuiltFixture {
  const { src, out } = spec;
  const flags = [...(spec.flags ?? BASE_FLAGS)];
  const label = spec.label ?? 'build-helper';
  const stampFile = `${out}.stamp.json`;
  const st = fs.statSync(src);

  const stamp = readStamp(stampFile);
  if (stamp && fs.existsSync(out) && stamp.srcMtimeMs === st.mtimeMs && stamp.srcSize === st.size && JSON.stringify(stamp.flags) === JSON.stringify(flags)) {
    return { path: out, static: stamp.static, rebuilt: false };
  }

  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  let isStatic = flags.includes('-static');
  if (spec.preferStatic) {
    const r = compile([...flags, '-static', '-o', tmp, src]);
    if (r.ok) {
      isStatic = true;
    } else {
      // No static libc: a dynamic helper still works, but the dynamic loader
      // runs before main(); say so, since fd/env findings could then come
      // from ld.so rather than from the product.
      console.warn(`${label}: static link of ${path.basename(src, '.c')} failed, falling back to dynamic:\n${r.message}`);
      const r2 = compile([...flags, '-o', tmp, src]);
      if (!r2.ok) throw new Error(`${label}: cannot compile ${src}:\n${r2.message}`);
    }
  } else {
    const r = compile([...flags, '-o', tmp, src]);
    if (!r.ok) throw new Error(`${label}: cannot compile ${src}:\n${r.message}`);
  }
  fs.renameSync(tmp, out);
  const newStamp: Stamp = { srcMtimeMs: st.mtimeMs, srcSize: st.size, flags, static: isStatic };
  fs.writeFileSync(stampFile, JSON.stringify(newStamp));
  return { path: out, static: isStatic, rebuilt: true };
}

function build(name: string, outName: string, kind: 'exe' | 'addon'): BuiltFixture {
  return buildC({
    src: path.join(FIXTURE_DIR, `${name}.c`),
    out: path.join(BUILD_DIR, outName),
    flags: kind === 'exe' ? [...BASE_FLAGS] : [...BASE_FLAGS, '-shared', '-fPIC', `-DNODE_GYP_MODULE_NAME=${name}`, `-I${nodeIncludeDir()}`],
    preferStatic: kind === 'exe',
  });
}

/** build/test-helper/helper */
export function buildHelper(): BuiltFixture {
  return build('helper', 'helper', 'exe');
}

/** build/test-helper/sigtool.node (test-only signal addon) */
export function buildSigtool(): BuiltFixture {
  return build('sigtool', 'sigtool.node', 'addon');
}
