/**
 * Adversarial tests of exit status and signals:
 *
 * - exit codes and signal deaths are exact, in every status mode;
 * - the program starts with no signal ignored, blocked or caught, however
 *   the parent had them (ignored SIGCHLD/SIGUSR1/SIGTERM, blocked SIGTERM and
 *   SIGINT, Node's own ignored SIGPIPE/SIGXFSZ), observed from outside through
 *   /proc/<pid>/status after exec, and functionally (`yes | head -1`);
 * - no parent handler runs in the child window: a sibling process signals
 *   every new child as soon as it appears, and a hook raises a signal in it;
 * - an EINTR storm on the parent changes nothing in the results.
 *
 * All but the first change process-wide signal state, so they run in a separate node
 * process (test/helpers/node-child.ts). test/integration/signals.test.ts
 * already checks the helper's report for blocked/ignored parents; here the
 * twist is SIGCHLD ignored too, the outside view, and the functional SIGPIPE
 * checks.
 */
import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { HELPER, SIGTOOL } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { expectChildOk, runNodeChild } from '../helpers/node-child';
import { parseReport, sigBit } from '../helpers/report';
import { scaled } from '../helpers/scale';
import { useTmpDir } from '../helpers/tmp';
import { rejection, support, thrown } from './support/process-tools';

useInvariants();
const tmp = useTmpDir('vc-adv-sig-');

let S: ReturnType<typeof support>;
beforeAll(() => {
  S = support();
});

const hex16 = (v: bigint) => v.toString(16).padStart(16, '0');

describe('exit codes and signal deaths are exact', () => {
  const CODES = [0, 1, 42, 125, 126, 127, 137, 255];

  it.each(CODES)('sh -c "exit %i": run(), runSync(), { status }, rawStatus()', async (n) => {
    const make = () => new Command('sh', '-c', `exit ${n}`);
    const text = `Child process (sh -c 'exit ${n}') unexpected exit status ${n}`;
    // Default run: resolves only for 0, otherwise libvirt's message, nothing appended
    // (stderr was captured and is empty).
    if (n === 0) {
      const r = await make().run();
      expect({ status: r.status, exitStatus: r.exitStatus, signal: r.signal, signalNumber: r.signalNumber, coreDumped: r.coreDumped }).toEqual({
        status: 0,
        exitStatus: 0,
        signal: null,
        signalNumber: null,
        coreDumped: false,
      });
      expect(make().runSync().exitStatus).toBe(0);
    } else {
      for (const err of [await rejection(make().run()), thrown(() => make().runSync())]) {
        expect(err.message).toBe(text);
        expect({ exitStatus: err.exitStatus, signal: err.signal, signalNumber: err.signalNumber }).toEqual({ exitStatus: n, signal: null, signalNumber: null });
      }
    }
    // { status: true }: the exit status, never thrown.
    for (const r of [await make().run({ status: true }), make().runSync({ status: true })]) {
      expect({ status: r.status, exitStatus: r.exitStatus, signal: r.signal, signalNumber: r.signalNumber, coreDumped: r.coreDumped }).toEqual({
        status: n,
        exitStatus: n,
        signal: null,
        signalNumber: null,
        coreDumped: false,
      });
    }
    // rawStatus(): the raw wait status.
    for (const r of [await make().rawStatus().run({ status: true }), make().rawStatus().runSync({ status: true })]) {
      expect(r.status).toBe(n << 8);
      expect(r.exitStatus).toBe(n);
      expect(r.signal).toBeNull();
    }
  });

  const DEATHS: [string, () => Command, string, number][] = [
    ['sh -c "kill -9 $$"', () => new Command('sh', '-c', 'kill -9 $$'), 'SIGKILL', 9],
    ['sh -c "kill -TERM $$"', () => new Command('sh', '-c', 'kill -TERM $$'), 'SIGTERM', 15],
    // The helper raises SIGABRT on itself (what abort() does); no core (RLIMIT_CORE 0).
    ['helper --signal 6 (SIGABRT)', () => new Command(HELPER, '--no-stdio', '--signal', '6').setMaxCoreSize(0), 'SIGABRT', 6],
  ];

  it.each(DEATHS)('%s: signal fields, "unexpected fatal signal", raw status', async (_name, make, name, num) => {
    for (const err of [await rejection(make().run()), thrown(() => make().runSync())]) {
      expect(err.message).toMatch(new RegExp(`unexpected fatal signal ${num}$`));
      expect({ signal: err.signal, signalNumber: err.signalNumber, exitStatus: err.exitStatus }).toEqual({ signal: name, signalNumber: num, exitStatus: null });
    }
    // { status: true } without rawStatus(): a death by signal still throws (docs/running.md).
    const withStatus = await rejection(make().run({ status: true }));
    expect(withStatus.signal).toBe(name);
    expect(withStatus.message).toMatch(new RegExp(`unexpected fatal signal ${num}$`));
    for (const r of [await make().rawStatus().run({ status: true }), make().rawStatus().runSync({ status: true })]) {
      expect({ status: r.status, exitStatus: r.exitStatus, signal: r.signal, signalNumber: r.signalNumber, coreDumped: r.coreDumped }).toEqual({
        status: num,
        exitStatus: null,
        signal: name,
        signalNumber: num,
        coreDumped: false,
      });
    }
  });

  it('coreDumped is set exactly when the wait status has WCOREDUMP', async (ctx) => {
    const pattern = fs.readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim();
    if (pattern.startsWith('|') || pattern.includes('/')) {
      console.warn(`[skip] coreDumped: core_pattern is ${JSON.stringify(pattern)}; only a plain file name in the cwd can be relied on here`);
      ctx.skip();
      return;
    }
    const r = await new Command(HELPER, '--no-stdio', '--signal', '6')
      .setRlimit('CORE', Infinity)
      .setWorkingDirectory(tmp.path)
      .rawStatus()
      .run({ status: true });
    expect(r.signal).toBe('SIGABRT');
    expect(r.status & 0x80, `raw status ${r.status}: no core was dumped`).toBe(0x80);
    expect(r.coreDumped).toBe(true);
    expect(fs.readdirSync(tmp.path).some((f) => f.startsWith('core'))).toBe(true);
    const err = await rejection(new Command(HELPER, '--no-stdio', '--signal', '6').setRlimit('CORE', Infinity).setWorkingDirectory(tmp.path).run());
    expect(err.signal).toBe('SIGABRT');
    expect(err.message).toMatch(/unexpected fatal signal 6$/);
  });
});

// ----------------------------------------------------------------- signal state at exec

const SIGNAL_STATE_SCRIPT = `
  const sig = require(ARGS.sigtool);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  sig.ignore(17); sig.ignore(10); sig.ignore(15);
  sig.block([15, 2]);
  const st = () => { const s = status(); return { ign: s.SigIgn, blk: s.SigBlk, cgt: s.SigCgt }; };
  const out = { parent: st(), a: {}, b: {}, c: {} };
  const sigLines = (pid) => {
    const o = {};
    for (const l of fs.readFileSync('/proc/' + pid + '/status', 'utf8').split('\\n')) {
      const m = /^(SigIgn|SigBlk|SigCgt):\\s*(\\S+)/.exec(l);
      if (m) o[m[1]] = m[2];
    }
    return o;
  };
  // (a) the helper, observed from outside after exec, with SIGCHLD ignored in the parent.
  for (const mode of ['runAsync', 'run']) {
    const log = ARGS.dir + '/a-' + mode + '.log';
    const c = new vc.Command(HELPER, '--log', log, '--no-stdio', '--sleep', '10000');
    let pid;
    if (mode === 'runAsync') pid = c.runAsync();
    else { c.run().catch(() => {}); pid = c.pid; }
    let exe = null;
    for (let i = 0; i < 1000; i++) {
      try { exe = fs.readlinkSync('/proc/' + pid + '/exe'); } catch (e) { exe = null; }
      // The report is complete once its END line is written (it may exist half-written).
      if (exe === HELPER && fs.existsSync(log) && fs.readFileSync(log, 'utf8').endsWith('END\\n')) break;
      await sleep(5);
    }
    const outside = sigLines(pid);
    await c.abort({ grace: 0 });
    out.a[mode] = { exe, outside, report: fs.readFileSync(log, 'utf8') };
  }
  {
    const log = ARGS.dir + '/a-sync.log';
    try { new vc.Command(HELPER, '--log', log, '--no-stdio').runSync(); } catch (e) { out.a.syncError = e.code; }
    out.a.runSync = { report: fs.readFileSync(log, 'utf8') };
  }
  out.parentAfterA = st();
  // (b) and (c) need exit statuses: SIGCHLD back to default (with SIG_IGN the kernel discards them).
  sig.reset(17);
  for (const mode of ['run', 'runSync']) {
    const t0 = Date.now();
    try {
      const c = new vc.Command('sh', '-c', 'yes | head -1');
      const r = mode === 'run' ? await c.run() : c.runSync();
      out.b[mode] = { stdout: r.stdout, stderr: r.stderr, status: r.status, ms: Date.now() - t0 };
    } catch (e) {
      out.b[mode] = { error: e.message, stderr: e.stderr, ms: Date.now() - t0 };
    }
  }
  for (const mode of ['run', 'runSync']) {
    const c = new vc.Command('sh', '-c', 'kill -PIPE $$').rawStatus();
    const r = mode === 'run' ? await c.run({ status: true }) : c.runSync({ status: true });
    out.c[mode] = { signal: r.signal, signalNumber: r.signalNumber, status: r.status };
  }
  out.parentEnd = st();
  sig.unblock([15, 2]); sig.reset(10); sig.reset(15);
  emit(out);
`;

describe('clean signal state at exec', () => {
  it('with SIGCHLD/SIGUSR1/SIGTERM ignored and SIGTERM/SIGINT blocked in the parent', () => {
    const res = expectChildOk(runNodeChild(SIGNAL_STATE_SCRIPT, { args: { sigtool: SIGTOOL, dir: tmp.path } })) as {
      parent: { ign: string; blk: string; cgt: string };
      a: Record<string, { exe?: string; outside?: Record<string, string>; report: string }> & { syncError?: string };
      parentAfterA: { ign: string; blk: string; cgt: string };
      b: Record<string, { stdout?: string; stderr?: string; status?: number; error?: string; ms: number }>;
      c: Record<string, { signal: string | null; signalNumber: number | null; status: number }>;
      parentEnd: { ign: string; blk: string; cgt: string };
    };
    // Precondition: the parent really is in that state (Node adds SIGPIPE and SIGXFSZ).
    const ign = BigInt(`0x${res.parent.ign}`);
    const blk = BigInt(`0x${res.parent.blk}`);
    for (const s of [10, 13, 15, 17, 25]) expect(ign & sigBit(s), `parent SigIgn ${res.parent.ign} lacks ${s}`).toBe(sigBit(s));
    for (const s of [2, 15]) expect(blk & sigBit(s), `parent SigBlk ${res.parent.blk} lacks ${s}`).toBe(sigBit(s));

    // (a) from outside, after exec (exe is the helper), and from the helper itself.
    for (const mode of ['runAsync', 'run']) {
      const a = res.a[mode];
      expect(a.exe, `${mode}: /proc/<pid>/exe`).toBe(HELPER);
      expect(a.outside, `${mode}: /proc/<pid>/status`).toEqual({ SigIgn: '0'.repeat(16), SigBlk: '0'.repeat(16), SigCgt: '0'.repeat(16) });
    }
    for (const mode of ['runAsync', 'run', 'runSync']) {
      const r = parseReport(res.a[mode].report);
      expect({ ign: hex16(r.sigIgn), blk: hex16(r.sigBlk), cgt: hex16(r.sigCgt) }, `${mode}: the helper's report`).toEqual({
        ign: '0'.repeat(16),
        blk: '0'.repeat(16),
        cgt: '0'.repeat(16),
      });
    }
    // The product changed nothing of the parent's own state.
    expect(res.parentAfterA).toEqual(res.parent);

    // (b) `yes | head -1`: yes dies of SIGPIPE silently, instead of "Broken pipe" on stderr.
    for (const mode of ['run', 'runSync']) {
      const b = res.b[mode];
      expect(b.error, `${mode}: ${b.error}`).toBeUndefined();
      expect({ stdout: b.stdout, stderr: b.stderr, status: b.status }, mode).toEqual({ stdout: 'y\n', stderr: '', status: 0 });
      expect(b.ms, `${mode}: took ${b.ms} ms`).toBeLessThan(1000);
    }
    // (c) the shell dies of the SIGPIPE it sends itself.
    for (const mode of ['run', 'runSync']) {
      expect(res.c[mode], mode).toEqual({ signal: 'SIGPIPE', signalNumber: 13, status: 13 });
    }
  });
});

// ------------------------------------------------------------------------- child window

const CHILD_WINDOW_SCRIPT = `
  const cp = require('child_process');
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  let count = 0;
  process.on('SIGUSR1', () => { count++; });
  const sender = cp.spawn(ARGS.sender, [String(process.pid), '10'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let senderOut = '';
  sender.stdout.on('data', (d) => { senderOut += d; });
  const senderExit = new Promise((r) => sender.once('exit', (code, signal) => r({ code, signal })));
  while (!senderOut.includes('ready')) await sleep(5);
  const dist = {};
  const tally = (d, r) => { const k = r.signal ?? ('exit ' + r.exitStatus); d[k] = (d[k] || 0) + 1; };
  for (let i = 0; i < ARGS.n; i++) {
    const c = new vc.Command('true').rawStatus();
    if (i % 2 === 0) {
      const p = c.run({ status: true });
      sender.stdin.write(c.pid + '\\n');
      tally(dist, await p);
    } else {
      tally(dist, c.runSync({ status: true }));
    }
  }
  const hookDist = {};
  for (let i = 0; i < ARGS.hookRuns; i++) {
    const c = new vc.Command('true').rawStatus().setPreExecHook({ library: ARGS.hooks, symbol: 'raise_usr1' });
    tally(hookDist, i % 2 ? c.runSync({ status: true }) : await c.run({ status: true }));
  }
  sender.stdin.end();
  const ended = await senderExit;
  await sleep(300); // a signal event queued on the loop would be dispatched by now
  emit({ count, dist, hookDist, senderOut, ended });
`;

describe('no parent handler runs in the child window', () => {
  const N = scaled(2000, 500);
  it(`${N} spawns of true under a sibling that signals every new child; a hook that raises SIGUSR1`, () => {
    const HOOK_RUNS = 50;
    const r = runNodeChild(CHILD_WINDOW_SCRIPT, {
      args: { sender: S.sigsender, hooks: S.hooks, n: N, hookRuns: HOOK_RUNS },
      timeoutMs: 120000,
    });
    // Node did not crash, and the script finished.
    const res = expectChildOk(r) as {
      count: number;
      dist: Record<string, number>;
      hookDist: Record<string, number>;
      senderOut: string;
      ended: { code: number | null };
    };
    expect(res.ended.code).toBe(0);
    const sent = Number(/sent (\d+)/.exec(res.senderOut)?.[1] ?? -1);
    // The parent's SIGUSR1 handler never ran (a handler run in a CLONE_VM child would have
    // written to the parent's libuv signal pipe).
    expect(res.count).toBe(0);
    // Each child exited 0 or died of SIGUSR1, nothing else.
    const kinds = Object.keys(res.dist).sort();
    expect(
      kinds.filter((k) => k !== 'exit 0' && k !== 'SIGUSR1'),
      JSON.stringify(res.dist),
    ).toEqual([]);
    expect(Object.values(res.dist).reduce((a, b) => a + b, 0)).toBe(N);
    // The storm really reached children (else this proves nothing).
    expect(sent, res.senderOut).toBeGreaterThan(0);
    expect(res.dist.SIGUSR1 ?? 0, `no child died of the sender's SIGUSR1: ${JSON.stringify(res.dist)}`).toBeGreaterThan(0);
    // A signal raised in the child after the reset is held until just before exec, then kills it.
    expect(res.hookDist).toEqual({ SIGUSR1: HOOK_RUNS });
  }, 180000);
});

// -------------------------------------------------------------------------- EINTR storm

const STORM_SCRIPT = `
  const cp = require('child_process');
  const crypto = require('crypto');
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  let got = 0;
  process.on('SIGUSR2', () => { got++; });
  const input = Buffer.alloc(1 << 20);
  for (let i = 0; i < input.length; i++) input[i] = (i * 7 + 3) & 0xff;
  const hash = (b) => crypto.createHash('sha256').update(b).digest('hex');
  const argv = ['/bin/sh', '-c', 'sha256sum; yes 0123456789abcdef | head -c 10485760; echo done >&2'];
  const one = async (mode) => {
    try {
      const c = vc.Command.newArgs(argv).setInputBuffer(input);
      let r;
      if (mode === 'run') r = await c.run({ encoding: 'buffer' });
      else if (mode === 'runSync') r = c.runSync({ encoding: 'buffer' });
      else {
        const o = {}, e = {};
        c.setOutputBuffer(o).setErrorBuffer(e);
        c.runAsync();
        const w = await c.wait({ encoding: 'buffer' });
        r = { stdout: o.value, stderr: e.value, status: w.status };
      }
      return { out: hash(r.stdout), outLen: r.stdout.length, err: r.stderr.toString(), status: r.status };
    } catch (e) {
      return { error: String(e && e.message), code: e && e.code, stage: e && e.stage };
    }
  };
  const modes = ['run', 'runSync', 'async'];
  const quiet = {};
  for (const m of modes) quiet[m] = await one(m);
  const storm = cp.spawn(ARGS.storm, [String(process.pid), '12', '100'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let stormOut = '';
  storm.stdout.on('data', (d) => { stormOut += d; });
  const stormExit = new Promise((r) => storm.once('exit', r));
  while (!stormOut.includes('ready')) await sleep(5);
  const before = got;
  const stormy = [];
  for (let round = 0; round < 3; round++) {
    const o = {};
    for (const m of modes) o[m] = await one(m);
    stormy.push(o);
  }
  storm.stdin.end();
  await stormExit;
  await sleep(50);
  emit({ quiet, stormy, got, before, stormOut });
`;

describe('EINTR storm', () => {
  it('SIGUSR2 every 100 µs with a JS handler: 10 MiB out and 1 MiB in, identical to a quiet run', () => {
    const res = expectChildOk(runNodeChild(STORM_SCRIPT, { args: { storm: S.sigstorm }, timeoutMs: 150000 })) as {
      quiet: Record<string, Record<string, unknown>>;
      stormy: Record<string, Record<string, unknown>>[];
      got: number;
      before: number;
      stormOut: string;
    };
    // The quiet run is itself right: the hash line of 1 MiB of stdin, then 10 MiB.
    for (const [m, q] of Object.entries(res.quiet)) {
      expect(q.error, `quiet ${m}: ${String(q.error)}`).toBeUndefined();
      expect(q.outLen, `quiet ${m}`).toBe(64 + 4 + 10 * 1024 * 1024);
      expect(q.err, `quiet ${m}`).toBe('done\n');
      expect(q.status).toBe(0);
    }
    expect(res.quiet.runSync).toEqual(res.quiet.run);
    expect(res.quiet.async).toEqual(res.quiet.run);
    // The storm happened and the JS handler ran many times.
    expect(res.got - res.before, res.stormOut).toBeGreaterThan(100);
    for (const [i, round] of res.stormy.entries()) {
      for (const m of Object.keys(res.quiet)) {
        expect(round[m], `stormy round ${i}, ${m}`).toEqual(res.quiet[m]);
      }
    }
  }, 200000);
});
