/**
 * Commands run from Worker threads. Each Worker has its own addon state and event loop; when a
 * Worker exits with children still running, the addon tears down what it watched on that loop
 * (Node aborts the process if a handle is left open on a closing loop): children started with
 * autoReap are killed and reaped, a released pid is left running, and the process lives on.
 */
import { describe, expect, it } from 'vitest';
import { expectChildOk, runNodeChild, TS_REGISTER } from '../helpers/node-child';
import { useInvariants } from '../helpers/invariants';

useInvariants();

describe('Worker threads', () => {
  it('run() works in a Worker, and a Worker exiting mid-run leaves no zombie, handle or crash', () => {
    const r = runNodeChild(`
      const { Worker } = require('worker_threads');
      const code = \`
        require(\${JSON.stringify(ARGS.register)});
        const { Command, pidWait } = require(process.env.VC_TEST_ENTRY);
        const { parentPort } = require('worker_threads');
        (async () => {
          const ran = await new Command('/bin/echo', 'from a worker').run();
          const running = new Command('sleep', '30');
          const auto = running.runAsync();
          const shaking = new Command('sleep', '30').requireHandshake();
          const waiting = shaking.runAsync();
          shaking.handshakeWait().catch(() => {});
          const keeper = new Command('sleep', '30');
          const kept = keeper.runAsync({ autoReap: false });
          keeper.free();
          pidWait(kept).catch(() => {});
          parentPort.postMessage({ out: ran.stdout, pids: [auto, waiting, kept] });
        })();
      \`;
      const w = new Worker(code, { eval: true });
      const msg = await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
      await w.terminate();
      await new Promise((r) => setTimeout(r, 200));
      const state = (pid) => {
        try { return fs.readFileSync('/proc/' + pid + '/stat', 'utf8').split(') ')[1][0]; } catch { return 'gone'; }
      };
      const states = msg.pids.map(state);
      process.kill(msg.pids[2], 'SIGKILL');
      emit({ out: msg.out, states });
    `, { args: { register: TS_REGISTER } });
    const result = expectChildOk(r) as { out: string; states: string[] };
    expect(result.out).toBe('from a worker\n');
    // autoReap child and handshake child: killed and reaped; the released one still running.
    expect(result.states.slice(0, 2)).toEqual(['gone', 'gone']);
    expect(result.states[2]).toMatch(/^[SR]$/);
  });
});
