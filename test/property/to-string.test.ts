/**
 * Property test of toString()'s quoting: for random
 * arguments and environment values, `/bin/sh -c "$(cmd.toString())"` must
 * run the same program with exactly the same argv and, as the env entries
 * are shell assignments in front of it (libvirt's format), the same
 * environment: sh is started with only HOME set, so the program gets exactly
 * the configured entries plus what sh exports by itself (dash: PWD and that
 * HOME), measured first. With and without { linebreaks: true }. HOME and a
 * working directory full of one-character file names make an unquoted ~, *,
 * ? or [...] show.
 *
 * Names are shell identifiers here: libvirt's format writes NAME=value with
 * only the value quoted, which is an assignment only for such names (see the
 * report of this work for names that are not).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { useTmpDir } from '../helpers/tmp';
import { params, shortText, textList, utf8 } from './support/arbitraries';
import { expectBytes, HELPER_OPTIONS, readRawReport, sortBytes, useSpawnCounter } from './support/harness';

useInvariants();
const tmp = useTmpDir('vc-prop-tostring-');
const spawns = useSpawnCounter();

/** The kernel's limit for one argv string (MAX_ARG_STRLEN): the whole `sh -c` script is one. */
const MAX_ARG_STRLEN = 32 * 4096;

/** A shell identifier, often one that collides with another or with what sh exports itself. */
const identifier: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/), weight: 4 },
  { arbitrary: fc.constantFrom('A', 'B', 'a', '_', 'PWD', 'HOME', 'LC_ALL'), weight: 2 },
);

interface Case {
  args: string[];
  env: { name: string; value: string; how: 'pair' | 'string' }[];
  linebreaks: boolean;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  // one huge argument at most, of 24 KiB at most: quoted (each ' becomes 4 bytes) it still fits
  args: textList({ maxLength: 8, maxHuge: 1, hugeBytes: 24 * 1024, item: shortText.filter((s) => !HELPER_OPTIONS.has(s)) }),
  env: fc.array(fc.record({ name: identifier, value: shortText, how: fc.constantFrom('pair' as const, 'string' as const) }), { maxLength: 6 }),
  linebreaks: fc.boolean(),
});

/** sh's whole environment: HOME, so that an unquoted ~ would be expanded. */
const SH_ENV = { HOME: '/nonexistent/vc-home' };

/**
 * A working directory for sh where an unquoted pattern would match something: files named
 * with one word character or one of a few others ('*', '?' and '[ab]' all match).
 */
function baitDir(dir: string): string {
  const cwd = path.join(dir, 'cwd');
  fs.mkdirSync(cwd);
  for (const name of [...'abcxyzABCXYZ019_-=%,:@+é', 'ab', '-x', '.x']) fs.writeFileSync(path.join(cwd, name), '');
  return cwd;
}

/** Runs `script` with `/bin/sh -c` in `cwd` with only SH_ENV; returns the helper's report. */
function viaShell(script: string, cwd: string, log: string): ReturnType<typeof readRawReport> {
  const r = spawnSync('/bin/sh', ['-c', script], { cwd, env: SH_ENV, encoding: 'utf8' });
  expect(r.error, 'spawning /bin/sh').toBeUndefined();
  expect({ status: r.status, signal: r.signal, stderr: r.stderr }, `/bin/sh -c ${script.slice(0, 300)}`).toEqual({
    status: 0,
    signal: null,
    stderr: 'BEGIN STDERR\nEND STDERR\n',
  });
  return readRawReport(log);
}

/** NAME of a NAME=value entry, as bytes. */
const nameOf = (entry: Buffer): string => entry.subarray(0, entry.indexOf(0x3d)).toString('latin1');

describe('toString() quoting round-trips through /bin/sh', () => {
  it('sh -c "$(toString())" runs the same argv and environment, byte for byte (200 runs)', () => {
    const dir = tmp.path;
    const cwd = baitDir(dir);
    // What sh exports by itself (dash: PWD, and the HOME it was given).
    const ownLog = path.join(dir, 'own.log');
    const own = viaShell(`exec ${HELPER} --log ${ownLog}`, cwd, ownLog).env;
    let seq = 0;
    fc.assert(
      fc.property(caseArb, (c) => {
        const log = path.join(dir, `s${++seq}.log`);
        const cmd = new Command(HELPER, '--log', log, ...c.args);
        const configured: [string, string][] = [];
        for (const { name, value, how } of c.env) {
          if (how === 'pair') cmd.addEnvPair(name, value);
          else cmd.addEnvString(`${name}=${value}`);
          const at = configured.findIndex(([n]) => n === name);
          if (at >= 0) configured[at] = [name, value];
          else configured.push([name, value]);
        }
        const script = cmd.toString({ linebreaks: c.linebreaks });
        expect(utf8(script).length, 'the script fits one argv string').toBeLessThan(MAX_ARG_STRLEN);
        const got = viaShell(script, cwd, log);
        expectBytes(got.args, c.args.map(utf8), 'argv through sh');
        const names = new Set(configured.map(([n]) => n));
        const want = [...configured.map(([n, v]) => utf8(`${n}=${v}`)), ...own.filter((e) => !names.has(nameOf(e)))];
        expectBytes(sortBytes(got.env), sortBytes(want), 'environ through sh');
      }),
      params(200),
    );
    expect(spawns.count, 'toString() spawns nothing').toBe(0);
  });
});
