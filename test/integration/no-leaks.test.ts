/**
 * 2,000 runs (500 under the quick `npm test`: helpers/scale.ts) of every
 * kind, some concurrently, then: the same open fds
 * (numbers and targets) as before, no child left (live or zombie), and every
 * run ended the way its kind says it should. And a loop of runSync() calls
 * that never yields to the event loop keeps its memory flat.
 */
import { describe, expect, it } from 'vitest';
import { Command, CommandError } from '../../src/index';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { runNodeChild } from '../helpers/node-child';
import { childrenOf, describeFds, openFds, waitFor } from '../helpers/proc';
import { scaled } from '../helpers/scale';

useInvariants();

const RUNS = scaled(2000, 500);
/** runSync() calls of the RSS loop: the old leak (~43 KiB a call) passed the 40 MiB bound by 1,000. */
const RSS_RUNS = scaled(3000, 1500);
const BATCH = 8;

type Kind =
  | 'success'
  | 'successSync'
  | 'exitWithStatus'
  | 'exitThrows'
  | 'exitThrowsSync'
  | 'missing'
  | 'missingSync'
  | 'capture'
  | 'input'
  | 'async'
  | 'abort'
  | 'abortSignal'
  | 'freeRunning';

const KINDS: Kind[] = [
  'success',
  'successSync',
  'exitWithStatus',
  'exitThrows',
  'exitThrowsSync',
  'missing',
  'missingSync',
  'capture',
  'input',
  'async',
  'abort',
  'abortSignal',
  'freeRunning',
];

async function expectCommandError(p: Promise<unknown> | (() => unknown)): Promise<CommandError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof CommandError) return e;
    throw e;
  }
  throw new Error('expected a CommandError');
}

/** One run of `kind`; throws if it did not end as that kind should. */
async function runOne(kind: Kind, i: number): Promise<void> {
  switch (kind) {
    case 'success': {
      const r = await new Command(HELPER, '--no-stdio').run();
      if (r.status !== 0) throw new Error(`success: status ${r.status}`);
      return;
    }
    case 'successSync': {
      const r = new Command(HELPER, '--no-stdio').runSync();
      if (r.status !== 0) throw new Error(`successSync: status ${r.status}`);
      return;
    }
    case 'exitWithStatus': {
      const r = await new Command(HELPER, '--no-stdio', '--exit', '3').run({ status: true });
      if (r.status !== 3) throw new Error(`exitWithStatus: status ${r.status}`);
      return;
    }
    case 'exitThrows': {
      const e = await expectCommandError(new Command(HELPER, '--no-stdio', '--exit', '4').run());
      if (e.exitStatus !== 4) throw new Error(`exitThrows: exitStatus ${e.exitStatus}`);
      return;
    }
    case 'exitThrowsSync': {
      const e = await expectCommandError(() => new Command(HELPER, '--no-stdio', '--exit', '5').runSync());
      if (e.exitStatus !== 5) throw new Error(`exitThrowsSync: exitStatus ${e.exitStatus}`);
      return;
    }
    case 'missing': {
      const e = await expectCommandError(new Command(`${HELPER}-missing`).run());
      if (e.code !== 'ENOENT' || e.stage !== 'exec') throw new Error(`missing: ${e.stage} ${e.code}`);
      return;
    }
    case 'missingSync': {
      const e = await expectCommandError(() => new Command('vc-no-such-program-anywhere').runSync());
      if (e.code !== 'ENOENT') throw new Error(`missingSync: ${e.code}`);
      return;
    }
    case 'capture': {
      const out: { value?: string | Buffer } = {};
      const err: { value?: string | Buffer } = {};
      await new Command(HELPER, '--flood', '20000').setOutputBuffer(out).setErrorBuffer(err).run();
      if (String(out.value) !== 'O'.repeat(20000) || String(err.value) !== 'E'.repeat(20000)) {
        throw new Error(`capture: got ${String(out.value).length}/${String(err.value).length} bytes`);
      }
      return;
    }
    case 'input': {
      const data = `${i}:${'x'.repeat(70000)}\n`;
      const out: { value?: string | Buffer } = {};
      await new Command(HELPER).setInputBuffer(data).setOutputBuffer(out).run();
      if (out.value !== `BEGIN STDOUT\n${data}END STDOUT\n`) throw new Error('input: echo mismatch');
      return;
    }
    case 'async': {
      const cmd = new Command(HELPER, '--no-stdio');
      const pid = cmd.runAsync();
      if (!(pid > 0)) throw new Error(`async: pid ${pid}`);
      const r = await cmd.wait();
      if (r.status !== 0) throw new Error(`async: status ${r.status}`);
      cmd.free();
      return;
    }
    case 'abort': {
      const cmd = new Command(HELPER, '--no-stdio', '--sleep', '10000');
      cmd.runAsync();
      await cmd.abort();
      cmd.free();
      return;
    }
    case 'abortSignal': {
      const ac = new AbortController();
      const p = new Command(HELPER, '--no-stdio', '--sleep', '10000').run({ signal: ac.signal });
      setTimeout(() => ac.abort(), 2);
      await expectCommandError(p);
      return;
    }
    case 'freeRunning': {
      // free() of a child still running (autoReap) kills and reaps it
      const cmd = new Command(HELPER, '--no-stdio', '--sleep', '10000');
      cmd.runAsync();
      cmd.free();
      return;
    }
  }
}

describe('no leaks over many runs', () => {
  it(`${RUNS} mixed runs leave fds and children as they were`, async () => {
    // warm up once per kind so lazily created, long-lived resources (the
    // addon, Node's own watchers) exist before the baseline
    for (const k of KINDS) await runOne(k, -1);
    await waitFor(() => childrenOf(process.pid).length === 0, 1000);

    const fdsBefore = openFds();
    const childrenBefore = childrenOf(process.pid).length;
    const failures: string[] = [];
    const counts = new Map<Kind, number>();

    for (let start = 0; start < RUNS; start += BATCH) {
      const batch: Promise<void>[] = [];
      for (let i = start; i < Math.min(start + BATCH, RUNS); i++) {
        const kind = KINDS[i % KINDS.length];
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
        batch.push(
          runOne(kind, i).catch((e) => {
            failures.push(`run ${i} (${kind}): ${(e as Error).message}`);
          }),
        );
      }
      await Promise.all(batch);
    }

    expect(failures.slice(0, 20), `${failures.length} runs ended wrongly`).toEqual([]);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(RUNS);

    await waitFor(() => childrenOf(process.pid).length === childrenBefore, 1000);
    const left = childrenOf(process.pid);
    expect(
      left.map((c) => `${c.pid} ${c.comm} ${c.state}`),
      'children (live or zombie) left behind',
    ).toEqual([]);
    let fdsAfter = openFds();
    await waitFor(() => (fdsAfter = openFds()).size === fdsBefore.size, 1000);
    expect(describeFds(fdsAfter), 'open fds after the runs').toBe(describeFds(fdsBefore));
  }, 300000);

  it('a loop of runSync() with captured output that never yields to the event loop keeps RSS flat', () => {
    // Found by scripts/soak-faults.js: each capture was handed to JS as an external Buffer on
    // its malloc'd block (64 KiB at least), which Node frees only from a SetImmediate, so
    // 3,000 runs grew RSS by about 130 MiB until the loop turned.
    const r = runNodeChild(
      `
      const rss = () => process.memoryUsage.rss();
      for (let i = 0; i < 300; i++) new vc.Command('/bin/echo', 'hi').runSync();
      const before = rss();
      for (let i = 0; i < ARGS.n; i++) {
        const { stdout, stderr } = new vc.Command('/bin/sh', '-c', 'echo out; echo err >&2').runSync();
        if (stdout !== 'out\\n' || stderr !== 'err\\n') throw new Error('output ' + JSON.stringify([stdout, stderr]));
      }
      emit({ growthMib: (rss() - before) / 1048576 });
    `,
      { args: { n: RSS_RUNS }, timeoutMs: 120000 },
    );
    expect(r.error).toBeUndefined();
    const { growthMib } = r.result as { growthMib: number };
    expect(growthMib, `RSS growth over ${RSS_RUNS} runSync() calls, in MiB`).toBeLessThan(40);
  }, 150000);
});
