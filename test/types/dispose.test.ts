/**
 * `using cmd = new Command(...)` (TypeScript 5.2 explicit resource management): leaving the
 * block frees the command, which kills and reaps a child still running.
 */
import { describe, expect, it } from 'vitest';
import { Command, pidWait } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { isAlive } from '../helpers/proc';

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
});
