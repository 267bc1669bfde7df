/**
 * `using cmd = new Command(...)` (TypeScript 5.2 explicit resource management): leaving the
 * block frees the command, which kills and reaps a child still running; `await using` does
 * the same without blocking the thread.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Command, pidWait } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { isAlive, procStat, waitFor } from '../helpers/proc';

describe('using / Symbol.dispose', () => {
  useInvariants();

  it('leaving the block kills and reaps the running child', () => {
    let pid = 0;
    {
      using cmd = new Command('sleep', '30');
      pid = cmd.runAsync();
      expect(isAlive(pid)).toBe(true);
    }
    expect(isAlive(pid)).toBe(false);
  });

  it('a child started to outlive the command is left running', async () => {
    let pid = 0;
    {
      using cmd = new Command('sleep', '30');
      pid = cmd.runAsync({ autoReap: false });
    }
    expect(isAlive(pid)).toBe(true);
    process.kill(pid, 'SIGKILL');
    await expect(pidWait(pid, { status: true, raw: true })).resolves.toBe(9); // raw status: SIGKILL
  });

  it('`await using`: the child is killed and reaped when the block ends, and the event loop runs meanwhile', async () => {
    let pid = 0;
    const seen: string[] = [];
    let timer: NodeJS.Timeout | undefined;
    {
      // SIGTERM is ignored (an ignored disposition survives exec), so ending the child takes the
      // SIGKILL after the grace: a thread blocked meanwhile would run no timer.
      await using cmd = new Command('/bin/sh', '-c', "trap '' TERM; exec sleep 30");
      pid = cmd.runAsync();
      // sh must have set the trap: wait until it has exec'd sleep.
      expect(await waitFor(() => procStat(pid)?.comm === 'sleep', 10_000)).toBe(true);
      // Runs only once the block's disposal has started (no await follows in the block).
      timer = setInterval(() => {
        if (fs.existsSync(`/proc/${pid}`)) seen.push(isAlive(pid) ? 'alive' : 'zombie');
      }, 1);
    }
    clearInterval(timer);
    expect(fs.existsSync(`/proc/${pid}`)).toBe(false); // reaped, not a zombie
    expect(seen).toContain('alive'); // the loop ran while the child was being ended
  });

  it('`await using` leaves a child started to outlive the command running', async () => {
    let pid = 0;
    {
      await using cmd = new Command('sleep', '30');
      pid = cmd.runAsync({ autoReap: false });
    }
    expect(isAlive(pid)).toBe(true);
    process.kill(pid, 'SIGKILL');
    await expect(pidWait(pid, { status: true, raw: true })).resolves.toBe(9);
  });

  it('`await using` of a command that never ran, or already ended, resolves at once and frees it', async () => {
    const idle = new Command('true');
    const done = new Command('true');
    await done.run();
    {
      await using a = idle;
      await using b = done;
      void [a, b];
    }
    expect(() => idle.runSync()).toThrow(/command has been freed/);
    expect(() => done.runSync()).toThrow(/command has been freed/);
  });
});
