/**
 * run()'s pacing (src/run/pacing.ts): a burst of run() calls spawns a few milliseconds' worth
 * per event-loop turn and queues the rest, in call order. Checked here by behaviour: what is
 * queued, that queued runs all complete exactly, and that a queued run that is aborted, freed
 * or timed out never starts its child. (How much the event loop is spared is measured by
 * `npm run bench`, scenario 4, not asserted here.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command, CommandError } from '../../src/index';
import { queuedSpawns, spawnPaced } from '../../src/run/pacing';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { childrenOf } from '../helpers/proc';
import { useTmpDir } from '../helpers/tmp';

useInvariants();
const tmp = useTmpDir('vc-pacing-');

/** Blocks this thread (and so the event loop) for `ms`. */
function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Resolves after the current event-loop turn's setImmediate callbacks (pacing's own among them). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('run() pacing', () => {
  it('a burst of 300 run(): some wait for a later turn, all complete with their own results', async () => {
    const runs: Promise<{ stdout?: string | Buffer; pid: number }>[] = [];
    for (let i = 0; i < 300; i++) runs.push(new Command('/bin/echo', `run-${i}`).run());
    const queuedAfterLoop = queuedSpawns();
    const startedAfterLoop = childrenOf(process.pid).length;
    expect(queuedAfterLoop, 'spawns left for later turns').toBeGreaterThan(0);
    expect(startedAfterLoop, 'children started in the loop itself').toBeLessThan(300);
    const results = await Promise.all(runs);
    results.forEach((r, i) => expect(r.stdout).toBe(`run-${i}\n`));
    expect(new Set(results.map((r) => r.pid)).size).toBe(300);
    expect(queuedSpawns()).toBe(0);
  });

  it('queued runs spawn in call order', async () => {
    const runs: Promise<{ pid: number }>[] = [];
    for (let i = 0; i < 200; i++) runs.push(new Command('/bin/true').run());
    expect(queuedSpawns()).toBeGreaterThan(0);
    const pids = (await Promise.all(runs)).map((r) => r.pid);
    // pids are handed out in order; a wrap of the pid counter would break this check, not the
    // property, so it is allowed once
    let descents = 0;
    for (let i = 1; i < pids.length; i++) if (pids[i] < pids[i - 1]) descents++;
    expect(descents).toBeLessThanOrEqual(1);
  });

  it('a queued run that is aborted, freed or times out never starts its child', async () => {
    const fill: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) fill.push(new Command('/bin/true').run());
    expect(queuedSpawns()).toBeGreaterThan(0);
    const marker = (name: string) => path.join(tmp.path, name);
    const touch = (name: string) => new Command('/bin/sh', '-c', `touch '${marker(name)}'`);

    const ac = new AbortController();
    const bySignal = touch('signal').run({ signal: ac.signal });
    ac.abort(new Error('stop'));
    const byAbort = touch('abort');
    const byAbortRun = byAbort.run();
    const aborted = byAbort.abort();
    const byFree = touch('free');
    const byFreeRun = byFree.run();
    byFree.free();
    const byTimeout = touch('timeout').run({ timeout: 1 });
    const late = touch('late').run(); // queued too, and not stopped: it runs

    for (const [p, code] of [
      [bySignal, 'ABORT_ERR'],
      [byAbortRun, 'ABORT_ERR'],
      [byFreeRun, 'ABORT_ERR'],
      [byTimeout, 'ETIMEDOUT'],
    ] as const) {
      const err = await p.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CommandError);
      expect((err as CommandError).code).toBe(code);
      expect((err as CommandError).pid, 'no child was started').toBeNull();
    }
    await aborted;
    await late;
    await Promise.all(fill);
    for (const name of ['signal', 'abort', 'free', 'timeout']) expect(fs.existsSync(marker(name)), name).toBe(false);
    expect(fs.existsSync(marker('late'))).toBe(true);
  });

  it("only the spawns' own time uses up a turn's budget, not other work in the same turn", async () => {
    await nextTurn(); // a fresh budget
    // 50 ms of other synchronous work between quick spawns: each still runs at once
    for (let i = 0; i < 5; i++) {
      expect(
        spawnPaced(() => blockFor(0)),
        `spawn ${i}`,
      ).toBe(true);
      blockFor(10);
    }
    // a spawn that takes longer than the budget uses it up: the next one waits for a later turn
    expect(spawnPaced(() => blockFor(3))).toBe(true);
    let ran = false;
    expect(spawnPaced(() => (ran = true))).toBe(false);
    expect(queuedSpawns()).toBe(1);
    await nextTurn();
    await nextTurn();
    expect(ran).toBe(true);
    expect(queuedSpawns()).toBe(0);
  });

  it('a queued run() has no pid yet, and a second run of its command is refused saying so', async () => {
    const fill: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) fill.push(new Command('/bin/true').run());
    expect(queuedSpawns()).toBeGreaterThan(0);
    const cmd = new Command('/bin/echo', 'queued');
    const p = cmd.run();
    expect(cmd.pid).toBeNull();
    expect(() => cmd.runSync()).toThrow(/already running \(its run\(\) waits for its turn to spawn\)/);
    const r = await p;
    expect(r.stdout).toBe('queued\n');
    expect(r.pid).toBeGreaterThan(0);
    expect(cmd.pid).toBeNull();
    await Promise.all(fill);
  });

  it('a run() that passes an fd is not queued: the caller may close its copy once run() returns', async () => {
    const fill: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) fill.push(new Command('/bin/true').run());
    expect(queuedSpawns()).toBeGreaterThan(0);
    const file = path.join(tmp.path, 'passed.txt');
    const fd = fs.openSync(file, 'w');
    const p = new Command('/bin/sh', '-c', `echo passed > /proc/self/fd/${fd}`).passFD(fd).run();
    fs.closeSync(fd);
    await p;
    expect(fs.readFileSync(file, 'utf8')).toBe('passed\n');
    const out = fs.openSync(path.join(tmp.path, 'stdout.txt'), 'w');
    const q = new Command('/bin/echo', 'to-fd').setOutputFD(out).run();
    fs.closeSync(out);
    await q;
    expect(fs.readFileSync(path.join(tmp.path, 'stdout.txt'), 'utf8')).toBe('to-fd\n');
    await Promise.all(fill);
  });

  it('a run() with a caller pipe (FdRef) is not queued: its fd exists when run() returns', async () => {
    const fill: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) fill.push(new Command('/bin/true').run());
    expect(queuedSpawns()).toBeGreaterThan(0);
    const ref = { fd: -1 };
    const p = new Command(HELPER, '--no-stdio').setOutputFD(ref).run();
    expect(ref.fd).toBeGreaterThan(2);
    fs.closeSync(ref.fd);
    await p;
    await Promise.all(fill);
  });
});
