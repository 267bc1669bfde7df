/**
 * exec() and setDryRun().
 * - exec() runs in a separate node process (it replaces the process that
 *   calls it), loading the compiled package: built here from
 *   tsconfig.build.json into a temporary directory (so a stale dist/ cannot
 *   be tested by mistake), else the repository's dist/, else skipped with the
 *   reason printed. The helper then reports the node process's own pid.
 * - setDryRun() runs in this process: nothing is spawned, each would-be
 *   command line is recorded in toString() form, and a callback's status,
 *   stdout and stderr go through the normal status policy.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Command, CommandError, setDryRun } from '../../src/index';
import { REPO_ROOT } from '../helpers/build-helper';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { runNodeChild } from '../helpers/node-child';
import { liveChildren } from '../helpers/proc';
import { fdNumbers, readReport } from '../helpers/report';
import { makeTmpDir, removeTmpDirs, useTmpDir } from '../helpers/tmp';

useInvariants();
const tmp = useTmpDir('vc-exec-');

/** The compiled package's entry, or why there is none. */
function compiledEntry(): { entry: string } | { reason: string } {
  const tsconfig = path.join(REPO_ROOT, 'tsconfig.build.json');
  if (fs.existsSync(tsconfig)) {
    const out = path.join(makeTmpDir('vc-dist-'), 'dist');
    try {
      execFileSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', tsconfig, '--outDir', out], { cwd: REPO_ROOT, stdio: 'pipe' });
    } catch (e) {
      const err = e as { stdout?: Buffer; message: string };
      throw new Error(`tsc -p tsconfig.build.json failed:\n${err.stdout?.toString() || err.message}`);
    }
    // The compiled code finds the addon and node-gyp-build from the package root (dist/..).
    const root = path.dirname(out);
    fs.symlinkSync(path.join(REPO_ROOT, 'build'), path.join(root, 'build'));
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
    fs.copyFileSync(path.join(REPO_ROOT, 'package.json'), path.join(root, 'package.json'));
    return { entry: path.join(out, 'index.js') };
  }
  const dist = path.join(REPO_ROOT, 'dist', 'index.js');
  if (fs.existsSync(dist)) return { entry: dist };
  return { reason: 'neither tsconfig.build.json nor dist/index.js exists, so there is no compiled package to exec() from' };
}

let compiled: { entry: string } | { reason: string } = { reason: 'not built yet' };
beforeAll(() => {
  compiled = compiledEntry();
  if ('reason' in compiled) console.warn(`[skip] exec() tests: ${compiled.reason}`);
});
// vitest's fork workers may not run 'exit' handlers: remove the build directories now.
afterAll(() => removeTmpDirs());

describe('exec()', () => {
  it('replaces the calling node process with the program, after applying the plan', (ctx) => {
    if ('reason' in compiled) return ctx.skip();
    const dir = tmp.path;
    const log = path.join(dir, 'report.log');
    const pidFile = path.join(dir, 'node.pid');
    const r = runNodeChild(
      `
      fs.writeFileSync(ARGS.pidFile, String(process.pid));
      new vc.Command(HELPER, '--log', ARGS.log, '--no-stdio', '--exit', '7')
        .addEnvPair('VC_EXEC', 'yes').setWorkingDirectory(ARGS.dir).setUmask(0o027).exec();
      emit('exec returned');
    `,
      { args: { dir, log, pidFile }, env: { VC_TEST_ENTRY: compiled.entry } },
    );
    expect(r.result, `exec() returned; stderr:\n${r.stderr}`).toBeUndefined();
    expect(r.status).toBe(7);
    const rep = readReport(log);
    expect(rep.pid).toBe(Number(fs.readFileSync(pidFile, 'utf8')));
    expect(rep.ppid).toBe(process.pid);
    expect(rep.exe).toBe(fs.realpathSync(HELPER));
    expect(rep.cwd).toBe(dir);
    expect(rep.umask).toBe(0o027);
    expect(rep.envMap.get('VC_EXEC')).toBe('yes');
    // node's own fds (epoll, eventfd, the addon's) are gone; 0-2 are inherited.
    expect(fdNumbers(rep)).toEqual([0, 1, 2]);
  });

  it('a program that cannot be found throws CommandError in the still-running process', (ctx) => {
    if ('reason' in compiled) return ctx.skip();
    const r = runNodeChild(
      `
      try { new vc.Command('vc-no-such-program-xyz').exec(); emit('returned'); }
      catch (e) { emit({ cmdErr: e instanceof vc.CommandError, stage: e.stage, code: e.code }); }
    `,
      { env: { VC_TEST_ENTRY: compiled.entry } },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.result).toEqual({ cmdErr: true, stage: 'exec', code: 'ENOENT' });
  });

  it('a step failing after the point of no return exits 125 with the stage on stderr', (ctx) => {
    if ('reason' in compiled) return ctx.skip();
    const r = runNodeChild(
      `
      new vc.Command('true').setWorkingDirectory('/nonexistent/vc-exec').exec();
      emit('returned');
    `,
      { env: { VC_TEST_ENTRY: compiled.entry } },
    );
    expect(r.result).toBeUndefined();
    expect(r.status).toBe(125);
    expect(r.stderr).toContain('chdir');
  });
});

describe('setDryRun()', () => {
  afterEach(() => setDryRun(null));

  it('records each command line in toString() form and spawns nothing', async () => {
    const log: string[] = [];
    setDryRun({ log });
    const marker = path.join(tmp.path, 'ran');
    const a = new Command(HELPER, '--create', marker).addEnvPair('A', 'B').addEnvPair('C', 'D  E');
    const b = new Command('/bin/echo', 'x y');
    const ra = a.runSync();
    const rb = await b.run();
    expect(log).toEqual([a.toString(), b.toString()]);
    expect(log[1]).toBe("/bin/echo 'x y'");
    expect(log[0]).toBe(`A=B C='D  E' ${HELPER} --create ${marker}`);
    expect(ra.exitStatus).toBe(0);
    expect(rb.exitStatus).toBe(0);
    expect(fs.existsSync(marker)).toBe(false);
    expect(liveChildren()).toEqual([]);
  });

  it('with linebreaks, the log holds toString({ linebreaks: true })', () => {
    const log: string[] = [];
    setDryRun({ log, linebreaks: true });
    const c = new Command('true', '--foo', 'bar', '-z').addEnvPair('A', 'B');
    c.runSync();
    expect(log).toEqual([c.toString({ linebreaks: true })]);
    expect(log[0]).toContain('\\\n');
  });

  it('the callback supplies status, stdout and stderr, and the status policy applies', async () => {
    const calls: { argv: string[]; input: string | null }[] = [];
    setDryRun({
      callback: (call) => {
        calls.push({ argv: call.argv, input: call.input ? call.input.toString() : null });
        return { status: 3, stdout: 'out\n', stderr: 'bad thing\n' };
      },
    });
    const err = await new Command('mytool', 'arg')
      .setInputBuffer('in\n')
      .run()
      .then(
        () => null,
        (e: unknown) => e as CommandError,
      );
    expect(err).toBeInstanceOf(CommandError);
    expect(err!.exitStatus).toBe(3);
    expect(err!.stderr).toBe('bad thing\n');
    expect(err!.message).toBe('Child process (mytool arg) unexpected exit status 3: bad thing');

    const out: { value?: string | Buffer } = {};
    const r = new Command('mytool', 'again').setOutputBuffer(out).runSync({ status: true });
    expect(r.status).toBe(3);
    expect(out.value).toBe('out\n');
    expect(r.stderr).toBe('bad thing\n');
    expect(calls).toEqual([
      { argv: ['mytool', 'arg'], input: 'in\n' },
      { argv: ['mytool', 'again'], input: null },
    ]);
  });

  it('setDryRun(null) turns real runs back on', async () => {
    setDryRun({ callback: () => ({ status: 1 }) });
    await expect(new Command('true').run()).rejects.toBeInstanceOf(CommandError);
    setDryRun(null);
    const r = await new Command(HELPER, '--log', '-', '--no-stdio').run();
    expect(r.pid).toBeGreaterThan(0);
    expect(String(r.stdout)).toContain(`PID:${r.pid}\n`);
  });
});
