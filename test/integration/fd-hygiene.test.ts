/**
 * A parent that holds hundreds of inheritable fds must not leak any of them
 * into a child: the child sees 0-2 and exactly the fds passed with passFD().
 *
 * Node opens everything with O_CLOEXEC, so the leaky parent is a separate
 * node process given 200 inheritable fds (3..202) through child_process's
 * stdio array, which dup2()s each entry to its index without CLOEXEC. A
 * second variant adds fds at high numbers through bash redirections. The
 * node process's own CLOEXEC fds (epoll, eventfd, the addon's pipes, ...)
 * must not show up in the helper either.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { loadNative, type NativeBinding, type NativePlan, setNativeBinding } from '../../src/native';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { expectChildOk, runNodeChild } from '../helpers/node-child';
import { fdNumbers, parseReport, type HelperReport } from '../helpers/report';
import { useTmpDir } from '../helpers/tmp';

useInvariants();
const tmp = useTmpDir('vc-fds-');

const FIRST = 3;
const COUNT = 200;
const LAST = FIRST + COUNT - 1; // 202

/**
 * The script run in the leaky parent. ARGS: { dir, fileA, fileB, high }.
 * fd 50 is fileA, fd 150 is fileB, every other fd in 3..202 is /dev/null.
 */
const SCRIPT = `
  const { dir, high } = ARGS;
  const pre = procFds();
  const reports = {};
  let seq = 0;
  const log = () => dir + '/h' + (++seq) + '.log';
  const readLog = (l) => { const t = fs.readFileSync(l, 'utf8'); fs.unlinkSync(l); return t; };
  const fdOpen = (fd) => { try { fs.readlinkSync('/proc/self/fd/' + fd); return true; } catch { return false; } };

  // A: run(), stdout/stderr captured
  { const l = log(); await new vc.Command(HELPER, '--log', l).run(); reports.run = readLog(l); }
  // B: runSync()
  { const l = log(); new vc.Command(HELPER, '--log', l).runSync(); reports.runSync = readLog(l); }
  // C: runAsync() + wait(), nothing captured
  { const l = log(); const c = new vc.Command(HELPER, '--log', l); c.runAsync(); await c.wait(); reports.async = readLog(l); }
  // D: buffers in and out (pipes of our own)
  {
    const l = log(); const out = {};
    const c = new vc.Command(HELPER, '--log', l).setInputBuffer('x\\n').setOutputBuffer(out);
    await c.run(); reports.buffers = readLog(l); reports.buffersOut = String(out.value);
  }
  // E: stdio from inherited fds at other numbers
  { const l = log(); await new vc.Command(HELPER, '--log', l, '--no-stdio').setInputFD(60).setOutputFD(61).setErrorFD(62).run(); reports.stdioFds = readLog(l); }
  // F: passFD 7, 50 and 150 (150 with CLOSE_PARENT)
  {
    const l = log();
    await new vc.Command(HELPER, '--log', l).passFD(7).passFD(50).passFD(150, vc.PASS_FD_CLOSE_PARENT).run();
    reports.passed = readLog(l);
  }
  const closedAfterPass = { 7: !fdOpen(7), 50: !fdOpen(50), 150: !fdOpen(150) };
  // G: high fds, if the launcher made them
  if (high.length) {
    const l = log(); const c = new vc.Command(HELPER, '--log', l);
    c.passFD(high[0]);
    await c.run(); reports.high = readLog(l);
  }
  emit({ pre, post: procFds(), reports, closedAfterPass });
`;

interface ScriptResult {
  pre: [number, string][];
  post: [number, string][];
  reports: Record<string, string>;
  closedAfterPass: Record<string, boolean>;
}

function runLeakyParent(opts: { high?: number[] } = {}): { res: ScriptResult; fileA: string; fileB: string } {
  const dir = tmp.path;
  const fileA = path.join(dir, 'file-a');
  const fileB = path.join(dir, 'file-b');
  const devnull = fs.openSync('/dev/null', 'r+');
  const fa = fs.openSync(fileA, 'w');
  const fb = fs.openSync(fileB, 'w');
  try {
    const extra: number[] = [];
    for (let fd = FIRST; fd <= LAST; fd++) extra.push(fd === 50 ? fa : fd === 150 ? fb : devnull);
    const high = opts.high ?? [];
    const prefix = high.length ? ['bash', '--norc', '-c', `exec "$@" ${high.map((n) => `${n}</dev/null`).join(' ')}`, 'bash'] : [];
    const r = runNodeChild(SCRIPT, { args: { dir, high }, extraStdio: extra, prefix });
    return { res: expectChildOk(r) as ScriptResult, fileA, fileB };
  } finally {
    fs.closeSync(devnull);
    fs.closeSync(fa);
    fs.closeSync(fb);
  }
}

function onlyStdio(r: HelperReport, extra: number[] = []): void {
  expect(fdNumbers(r), `fds seen by the helper: ${[...r.fds].join('; ')}`).toEqual([0, 1, 2, ...extra].sort((a, b) => a - b));
}

describe('fd hygiene with 200 inheritable fds in the parent', () => {
  it('the leaky parent really holds fds 3..202 without CLOEXEC (precondition)', () => {
    const { res, fileA, fileB } = runLeakyParent();
    const pre = new Map(res.pre);
    for (let fd = FIRST; fd <= LAST; fd++) expect(pre.has(fd), `fd ${fd}`).toBe(true);
    expect(pre.get(50)).toBe(fileA);
    expect(pre.get(150)).toBe(fileB);
    expect(pre.get(7)).toBe('/dev/null');
  });

  it('run(), runSync(), runAsync(), buffers: the helper sees only 0-2', () => {
    const { res } = runLeakyParent();
    for (const k of ['run', 'runSync', 'async', 'buffers', 'stdioFds']) {
      const rep = parseReport(res.reports[k]);
      onlyStdio(rep);
    }
    expect(res.reports.buffersOut).toBe('BEGIN STDOUT\nx\nEND STDOUT\n');
    // E: stdin/out/err came from fds 60-62 (all /dev/null), not from the
    // parent's own 0-2 (stdin 'ignore' is /dev/null too, stdout a pipe).
    const e = parseReport(res.reports.stdioFds);
    expect(e.fds.get(1)).toBe('/dev/null');
    expect(e.fds.get(2)).toBe('/dev/null');
  });

  it('passFD keeps exactly the passed fds, at the same numbers, same files', () => {
    const { res, fileA, fileB } = runLeakyParent();
    const rep = parseReport(res.reports.passed);
    onlyStdio(rep, [7, 50, 150]);
    expect(rep.fds.get(7)).toBe('/dev/null');
    expect(rep.fds.get(50)).toBe(fileA);
    expect(rep.fds.get(150)).toBe(fileB);
    // CLOSE_PARENT closed 150 in the parent only
    expect(res.closedAfterPass).toEqual({ 7: false, 50: false, 150: true });
  });

  it('the parent keeps every other fd, and gains none', () => {
    const { res } = runLeakyParent();
    const pre = new Map(res.pre);
    const post = new Map(res.post);
    pre.delete(150); // closed on purpose (CLOSE_PARENT)
    // Node or the addon may open fds lazily on first use (epoll, eventfd,
    // a pidfd watcher); what must hold: nothing inherited is lost or
    // replaced, and nothing is left open in 0..202 that was not there.
    for (const [fd, target] of pre) expect(post.get(fd), `fd ${fd}`).toBe(target);
    for (const fd of post.keys()) {
      if (fd <= LAST) expect(pre.has(fd), `new fd ${fd} -> ${post.get(fd)} in 0..${LAST}`).toBe(true);
    }
    expect(post.has(150)).toBe(false);
  });

  it('fds at high numbers (1000, 4000) are closed too, and can be passed', () => {
    const { res } = runLeakyParent({ high: [1000, 4000] });
    const pre = new Map(res.pre);
    expect(pre.get(1000)).toBe('/dev/null');
    expect(pre.get(4000)).toBe('/dev/null');
    onlyStdio(parseReport(res.reports.run));
    onlyStdio(parseReport(res.reports.runSync));
    const high = parseReport(res.reports.high);
    onlyStdio(high, [1000]);
  });
});

describe('the addon refuses a closed caller fd as stdio before forking', () => {
  // Behind the TS check (test/unit/run-policy.test.ts): a plan that reaches the addon with a
  // closed fd as stdin, stdout or stderr must not become the child's stdio through one of the
  // spawn's own pipes (or /dev/null) at that number, nor fail only in the child.
  it('runSync() and spawn() throw stage stdio, EBADF, without a pid (found by test/property/fds.test.ts)', () => {
    const open = fs.openSync('/dev/null', 'r');
    const closed = fs.openSync('/dev/null', 'r');
    fs.closeSync(closed);
    let plan: NativePlan | null = null;
    setNativeBinding({
      ...({} as NativeBinding),
      runSync: (p: NativePlan) => {
        plan = p;
        throw new Error('captured');
      },
    });
    try {
      expect(() => new Command(HELPER, '--no-stdio').setInputFD(open).setOutputFD(open).setErrorFD(open).runSync()).toThrow('captured');
    } finally {
      setNativeBinding(null);
      fs.closeSync(open);
    }
    const native = loadNative();
    for (const stream of ['stdin', 'stdout', 'stderr'] as const) {
      for (const start of [(p: NativePlan) => native.runSync(p), (p: NativePlan) => native.spawn(p, () => {})]) {
        const p = { ...(plan as unknown as NativePlan), [stream]: { type: 'fd', fd: closed } };
        for (const other of ['stdin', 'stdout', 'stderr'] as const) if (other !== stream) p[other] = { type: 'null' };
        let err: (Error & { stage?: string; errno?: number; pid?: number }) | null = null;
        try {
          start(p);
        } catch (e) {
          err = e as Error & { stage?: string; errno?: number; pid?: number };
        }
        expect(err, stream).not.toBeNull();
        expect({ stage: err!.stage, errno: Math.abs(err!.errno ?? 0), pid: err!.pid ?? 0 }, stream).toEqual({
          stage: 'stdio',
          errno: os.constants.errno.EBADF,
          pid: 0,
        });
      }
    }
  });
});
