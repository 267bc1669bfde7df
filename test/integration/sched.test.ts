/**
 * Scheduling in the child before exec (child step 8): setCpuAffinity (sched_setaffinity),
 * setMemoryPolicy (set_mempolicy) and core scheduling, libvirt's setRunAlone/setRunAmong
 * (prctl PR_SCHED_CORE). Observed from the real child: test/fixtures/sched-probe.c reports its
 * affinity, memory policy and core-scheduling cookie; /proc/<pid>/status and numa_maps of a
 * running child show the same from outside.
 */
import fs from 'node:fs';
import os from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { commandRejection as failure } from '../helpers/rejection';
import { schedProbe } from '../helpers/sched-probe';

useInvariants();

let PROBE = '';
beforeAll(() => {
  PROBE = schedProbe();
});

function probe(cmd: Command): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of String(cmd.runSync().stdout).trim().split('\n')) {
    const i = line.indexOf(':');
    out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

// Reads a field of /proc/<pid>/status of a child that runs `sleep`, then ends it.
async function statusOf(cmd: Command, field: string): Promise<string> {
  const pid = cmd.runAsync();
  try {
    const line = fs
      .readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${field}:`));
    return (line ?? '').slice(field.length + 1).trim();
  } finally {
    await cmd.abort();
  }
}

const CPUS = os.availableParallelism();
const LAST_CPU = CPUS - 1;

describe('setCpuAffinity', () => {
  it('the program runs on the CPUs given, as numbers or a cpu list', async () => {
    expect(probe(new Command(PROBE)).CPUS).toBe(CPUS > 1 ? `0-${LAST_CPU}` : '0');
    expect(probe(new Command(PROBE).setCpuAffinity([LAST_CPU])).CPUS).toBe(String(LAST_CPU));
    expect(probe(new Command(PROBE).setCpuAffinity('0')).CPUS).toBe('0');
    expect(await statusOf(new Command('sleep', '5').setCpuAffinity([LAST_CPU]), 'Cpus_allowed_list')).toBe(String(LAST_CPU));
    // The parent is untouched (the clone shares its memory, not its scheduling).
    expect(fs.readFileSync('/proc/self/status', 'utf8')).toMatch(new RegExp(`Cpus_allowed_list:\\s*${CPUS > 1 ? `0-${LAST_CPU}` : '0'}\\n`));
  });

  it('a set with no CPU of this machine fails at stage affinity', async () => {
    const err = await failure(new Command('true').setCpuAffinity([4095]).run());
    expect(err.stage).toBe('affinity');
    expect(err.code).toBe('EINVAL');
  });

  it('bad arguments throw at once', () => {
    expect(() => new Command('true').setCpuAffinity([])).toThrow(RangeError);
    expect(() => new Command('true').setCpuAffinity('3-1')).toThrow(/Command\.setCpuAffinity.*'cpus'/);
    expect(() => new Command('true').setCpuAffinity([-1])).toThrow(RangeError);
    expect(() => new Command('true').setCpuAffinity(3 as unknown as number[])).toThrow(TypeError);
  });
});

describe('setMemoryPolicy', () => {
  it('the program starts with the policy and nodes given (get_mempolicy, numa_maps)', async () => {
    expect(probe(new Command(PROBE)).MEMPOLICY).toBe('0 0');
    expect(probe(new Command(PROBE).setMemoryPolicy('bind', [0])).MEMPOLICY).toBe('2 1');
    expect(probe(new Command(PROBE).setMemoryPolicy('interleave', [0])).MEMPOLICY).toBe('3 1');
    expect(probe(new Command(PROBE).setMemoryPolicy('preferred', [0])).MEMPOLICY).toBe('1 1');
    expect(probe(new Command(PROBE).setMemoryPolicy(2, [0])).MEMPOLICY).toBe('2 1');
    // From outside: the task policy shows on every mapping without its own policy.
    const pid = new Command('sleep', '5').setMemoryPolicy('bind', [0]).runAsync();
    try {
      // runAsync's child exec'd by now (vfork): its maps are sleep's.
      expect(fs.readFileSync(`/proc/${pid}/numa_maps`, 'utf8').split('\n')[0]).toMatch(/ bind:0 /);
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('a node the machine lacks, or nodes for "default", fail at stage mempolicy', async () => {
    const err = await failure(new Command('true').setMemoryPolicy('bind', [4095]).run());
    expect(err.stage).toBe('mempolicy');
    expect(err.code).toBe('EINVAL');
    expect((await failure(new Command('true').setMemoryPolicy('default', [0]).run())).stage).toBe('mempolicy');
  });

  it('bad arguments throw at once', () => {
    expect(() => new Command('true').setMemoryPolicy('nearest' as 'bind')).toThrow(RangeError);
    expect(() => new Command('true').setMemoryPolicy('bind', [5000])).toThrow(/Command\.setMemoryPolicy.*nodes\[0\]/);
    expect(() => new Command('true').setMemoryPolicy('bind', 0 as unknown as number[])).toThrow(TypeError);
  });
});

describe('setRunAlone / setRunAmong (core scheduling)', () => {
  it('bad arguments throw at once: setRunAmong needs a positive pid', () => {
    expect(() => new Command('true').setRunAmong(0)).toThrow(RangeError);
    expect(() => new Command('true').setRunAmong(-5)).toThrow(/Command\.setRunAmong.*'pid'/);
  });

  it('a new cookie, or the cookie of another process; where the kernel lacks it, stage sched-core', async () => {
    const own = probe(new Command(PROBE)).COOKIE;
    if (own.startsWith('!')) {
      // No CONFIG_SCHED_CORE (PR_SCHED_CORE answers EINVAL): the stage error path is the test.
      console.warn(`[sched-core] PR_SCHED_CORE_GET fails here (errno ${own.slice(1)}): checking the failure path only`);
      for (const cmd of [new Command('true').setRunAlone(), new Command('true').setRunAmong(process.pid)]) {
        const err = await failure(cmd.run());
        expect(err.stage).toBe('sched-core');
        expect(err.code).toBe('EINVAL');
      }
      expect(() => new Command('true').setRunAlone().runSync()).toThrow(/failed at stage 'sched-core'/);
      return;
    }
    const alone = probe(new Command(PROBE).setRunAlone()).COOKIE;
    expect(alone).not.toBe('0');
    expect(alone).not.toBe(own);
    const leader = new Command('sleep', '5').setRunAlone();
    const pid = leader.runAsync();
    try {
      const among = probe(new Command(PROBE).setRunAmong(pid)).COOKIE;
      expect(among).not.toBe('0');
      expect(probe(new Command(PROBE).setRunAmong(pid)).COOKIE).toBe(among); // the same group
    } finally {
      await leader.abort();
    }
  });
});
