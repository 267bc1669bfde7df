/**
 * Commands with very many arguments and environment entries. The builder's
 * speed at 1k/10k/100k entries is measured in scripts/bench (`node scripts/bench/run.js --only
 * builder`), never here; these tests check that large commands are built right at all.
 */
import { describe, expect, it } from 'vitest';
import { Command, setDryRun } from '../../src/index';

const N = 300_000;

function dryCall(cmd: Command): { argv: string[]; env: string[] | null } {
  let seen: { argv: string[]; env: string[] | null } | null = null;
  setDryRun({ callback: (call) => void (seen = { argv: call.argv, env: call.env }) });
  try {
    cmd.runSync();
  } finally {
    setDryRun(null);
  }
  if (seen === null) throw new Error('the dry run did not call back');
  return seen;
}

describe('large commands', () => {
  it(`addArgSet() and addArgList() take ${N} arguments (push(...args) overflowed the stack)`, () => {
    const args = Array.from({ length: N }, (_, i) => `a${i}`);
    const set = new Command('true').addArgSet(args);
    const list = new Command('true').addArgList(...args.slice(0, 100_000));
    const argv = dryCall(set).argv;
    expect(argv.length).toBe(N + 1);
    expect(argv[N]).toBe(`a${N - 1}`);
    expect(dryCall(list).argv.length).toBe(100_001);
  });

  it('100,000 environment entries keep their order; a name set again is replaced in place', () => {
    const cmd = new Command('true');
    for (let i = 0; i < 100_000; i++) cmd.addEnvPair(`V${i}`, 'x');
    cmd.addEnvPair('V5', 'again').addEnvString('V99999=last').addEnvPair('NEW', 'y');
    const env = dryCall(cmd).env as string[];
    expect(env.length).toBe(100_001);
    expect(env[5]).toBe('V5=again');
    expect(env[99_999]).toBe('V99999=last');
    expect(env[100_000]).toBe('NEW=y');
  });

  it('toString({ linebreaks: true }) of a long command line keeps option values on their line', () => {
    const cmd = new Command('qemu');
    for (let i = 0; i < 50_000; i++) cmd.addArgList('-drive', `file=d${i}`);
    cmd.addArg('tail');
    const lines = cmd.toString({ linebreaks: true }).split(' \\\n');
    expect(lines.length).toBe(50_002);
    expect(lines[1]).toBe('-drive file=d0');
    expect(lines[50_001]).toBe('tail');
  });
});
