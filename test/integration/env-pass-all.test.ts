/**
 * addEnvPassAll(): the child starts from the parent's whole environment (process.env as it is at
 * the call), and later env calls override single variables in place or add new ones, as
 * child_process's `env: { ...process.env, X }` and execa's extendEnv do. Observed in the helper's
 * own report of its environment.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { parseReport } from '../helpers/report';

useInvariants();

const SET = ['VC_PASSALL_KEEP', 'VC_PASSALL_OVERRIDE', 'VC_PASSALL_NEW', 'VC_PASSALL_LATE'];
afterEach(() => {
  for (const name of SET) delete process.env[name];
});

async function childEnv(cmd: Command): Promise<Map<string, string>> {
  return parseReport(String((await cmd.run()).stdout)).envMap;
}

/** process.env as NAME -> value, as the child would see it. */
function parentEnv(): Map<string, string> {
  return new Map(Object.entries(process.env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

describe('addEnvPassAll()', () => {
  it("the child gets every variable of the parent's, with overrides and additions from later calls", async () => {
    process.env.VC_PASSALL_KEEP = 'kept';
    process.env.VC_PASSALL_OVERRIDE = 'parent';
    const cmd = new Command(HELPER, '--log', '-', '--no-stdio')
      .addEnvPassAll()
      .addEnvPair('VC_PASSALL_OVERRIDE', 'child')
      .addEnvPair('VC_PASSALL_NEW', 'added');
    const want = parentEnv();
    want.set('VC_PASSALL_OVERRIDE', 'child');
    want.set('VC_PASSALL_NEW', 'added');
    expect(await childEnv(cmd)).toEqual(want);
  });

  it("the override keeps the parent's order; the environment is the one at the call, not at the run", async () => {
    process.env.VC_PASSALL_OVERRIDE = 'parent';
    const cmd = new Command(HELPER).addEnvPassAll().addEnvPair('VC_PASSALL_OVERRIDE', 'child');
    process.env.VC_PASSALL_LATE = 'after the call';
    const entries = cmd
      .toString()
      .split(' ')
      .filter((w) => w.startsWith('VC_PASSALL_'));
    expect(entries).toEqual(['VC_PASSALL_OVERRIDE=child']);
    const env = await childEnv(cmd.addArgList('--log', '-', '--no-stdio'));
    expect(env.get('VC_PASSALL_OVERRIDE')).toBe('child');
    expect(env.has('VC_PASSALL_LATE')).toBe(false);
  });

  it("an env call before it is overridden by the parent's value of the same name", async () => {
    process.env.VC_PASSALL_OVERRIDE = 'parent';
    const env = await childEnv(new Command(HELPER, '--log', '-', '--no-stdio').addEnvPair('VC_PASSALL_OVERRIDE', 'early').addEnvPassAll());
    expect(env.get('VC_PASSALL_OVERRIDE')).toBe('parent');
  });
});
