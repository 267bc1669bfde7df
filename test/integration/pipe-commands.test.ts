/**
 * One command's stdout into another's stdin, as the recipe of docs/running.md does it (execa's
 * `.pipe()`, a shell's `a | b`): the producer's stdout is an FdRef pipe, the consumer reads its
 * read end as stdin, the parent closes its copy. The whole flow (1 GiB under
 * VC_TEST_SCALE=full, 64 MiB quick) arrives, both children are reaped, each one's error is
 * reported, and a consumer that quits early ends the producer with SIGPIPE instead of a hang.
 */
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Command, type RunResult } from '../../src/index';
import { useInvariants } from '../helpers/invariants';
import { scaled } from '../helpers/scale';

useInvariants();

const BYTES = scaled(1024 ** 3, 64 * 1024 ** 2);

/** The recipe of docs/running.md: producer | consumer, both run, both settled. */
async function runPiped(producer: Command, consumer: Command): Promise<[PromiseSettledResult<RunResult>, PromiseSettledResult<RunResult>]> {
  const pipe = { fd: -1 };
  const producing = producer.setOutputFD(pipe).run();
  if (pipe.fd < 0) {
    // The producer did not start (its run() rejects with why): the consumer never runs.
    const [p] = await Promise.allSettled([producing]);
    return [p, { status: 'rejected', reason: new Error('producer did not start') }];
  }
  let consuming: Promise<RunResult>;
  try {
    consuming = consumer.setInputFD(pipe.fd).run();
  } finally {
    fs.closeSync(pipe.fd); // the consumer has its copy; ours would keep the producer from SIGPIPE
  }
  return Promise.allSettled([producing, consuming]);
}

describe('piping one command into another', () => {
  it(`carries ${BYTES} bytes from head -c through a pipe into wc -c, both reaped with status 0`, async () => {
    const [p, c] = await runPiped(new Command('head', '-c', String(BYTES), '/dev/zero'), new Command('wc', '-c'));
    expect(p.status).toBe('fulfilled');
    expect(c.status).toBe('fulfilled');
    if (p.status !== 'fulfilled' || c.status !== 'fulfilled') return;
    expect(p.value.status).toBe(0);
    expect(c.value.status).toBe(0);
    expect(c.value.stdout.trim()).toBe(String(BYTES));
    expect(p.value.stdout).toBe(''); // its stdout went to the pipe, not to a capture
  }, 120_000);

  it('reports both failures: each command rejects with its own status and stderr', async () => {
    const producer = new Command('/bin/sh', '-c', 'head -c 100000 /dev/zero; echo producer-broke >&2; exit 3');
    const consumer = new Command('/bin/sh', '-c', 'wc -c; echo consumer-broke >&2; exit 4');
    const [p, c] = await runPiped(producer, consumer);
    expect(p).toMatchObject({ status: 'rejected', reason: { exitStatus: 3, stderr: 'producer-broke\n' } });
    expect(c).toMatchObject({ status: 'rejected', reason: { exitStatus: 4, stderr: 'consumer-broke\n' } });
  });

  it('a consumer that stops reading ends the producer with SIGPIPE, not a hang', async () => {
    const [p, c] = await runPiped(new Command('cat', '/dev/zero'), new Command('head', '-c', '10'));
    expect(c.status).toBe('fulfilled');
    expect(p).toMatchObject({ status: 'rejected', reason: { signal: 'SIGPIPE' } });
  });

  it('a producer that cannot start is reported and the consumer never runs', async () => {
    const consumer = new Command('wc', '-c');
    const [p, c] = await runPiped(new Command('/nonexistent/producer'), consumer);
    expect(p).toMatchObject({ status: 'rejected', reason: { stage: 'exec', code: 'ENOENT' } });
    expect(c.status).toBe('rejected');
    expect(consumer.pid).toBeNull();
  });
});
