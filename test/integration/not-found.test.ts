/**
 * A program not found in PATH: libvirt reports "Cannot find 'x' in path"
 * and runs nothing, with or without a status slot. `{ status: true }` used to resolve with 127
 * silently; only a program given as a path that does not exist is a child's exit status 127.
 */
import { describe, expect, it } from 'vitest';
import { Command, type CommandError, EXIT_ENOENT } from '../../src/index';
import { useInvariants } from '../helpers/invariants';

const MISSING = 'vircommand-no-such-program-11';

function expectNotFound(e: unknown, how: string): void {
  const err = e as CommandError;
  expect(err?.name, how).toBe('CommandError');
  expect(err.message).toMatch(new RegExp(`^Cannot find '${MISSING}' in PATH \\(`));
  expect({ stage: err.stage, code: err.code, errno: err.errno, path: err.path, pid: err.pid, exitStatus: err.exitStatus }).toEqual({
    stage: 'exec',
    code: 'ENOENT',
    errno: 2,
    path: MISSING,
    pid: null,
    exitStatus: EXIT_ENOENT,
  });
}

describe('a program not found in PATH', () => {
  useInvariants();

  it('throws the CommandError (stage exec, ENOENT) with { status: true } too, for run(), runSync() and runAsync()', async () => {
    expectNotFound(
      await new Command(MISSING).run({ status: true }).then(
        () => null,
        (e: unknown) => e,
      ),
      'run status',
    );
    let sync: unknown = null;
    try {
      new Command(MISSING).runSync({ status: true });
    } catch (e) {
      sync = e;
    }
    expectNotFound(sync, 'runSync status');
    let async: unknown = null;
    try {
      new Command(MISSING).runAsync();
    } catch (e) {
      async = e;
    }
    expectNotFound(async, 'runAsync');
  });

  it('a path that does not exist is still exit status 127 with { status: true } (libvirt test1)', async () => {
    expect((await new Command('/nonexistent/vircommand-prog').run({ status: true })).status).toBe(127);
    expect(new Command('/nonexistent/vircommand-prog').runSync({ status: true }).status).toBe(127);
  });
});
