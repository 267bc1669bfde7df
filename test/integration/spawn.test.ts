/**
 * spawn(): runAsync() returning the pid and the pipes it asked for. The streams are the
 * command's own (cmd.stdin, cmd.stdout), the pid is the child's, and wait() collects it.
 */
import { describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { useInvariants } from '../helpers/invariants';

useInvariants();

describe('spawn()', () => {
  it('returns the pid and the asked-for pipes: stdin written and ended, stdout read to its end', async () => {
    const cmd = new Command('cat');
    const { pid, stdin, stdout, stderr } = cmd.spawn({ stdin: 'pipe', stdout: 'pipe' });
    expect(pid).toBe(cmd.pid);
    expect(stdin).toBe(cmd.stdin);
    expect(stdout).toBe(cmd.stdout);
    expect(stderr).toBeNull();
    stdin.end('through cat\n');
    const chunks: Buffer[] = [];
    for await (const c of stdout) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('through cat\n');
    expect(await cmd.wait()).toMatchObject({ status: 0 });
  });

  it('without pipes: the pid, and null streams', async () => {
    const cmd = new Command('true');
    const r = cmd.spawn();
    expect(r).toEqual({ pid: cmd.pid, stdin: null, stdout: null, stderr: null });
    await cmd.wait();
  });

  it('invalid options throw as from runAsync(), naming runAsync', () => {
    expect(() => new Command('true').spawn({ stdin: 'inherit' } as never)).toThrow(/Command\.runAsync: .*options\.stdin/);
  });
});
