/**
 * The CommandError a promise rejects with: the test fails if the promise resolves, or rejects
 * with anything else.
 */
import { expect } from 'vitest';
import { CommandError } from '../../src/index';

/** Awaits `p`, which must reject with a CommandError, and returns that error. */
export async function commandRejection(p: Promise<unknown>): Promise<CommandError> {
  const out = await p.then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  if (out.ok) throw new Error(`the run should have been rejected, but resolved with ${JSON.stringify(out.v)?.slice(0, 400)}`);
  expect(out.e, 'the rejection should be a CommandError').toBeInstanceOf(CommandError);
  return out.e as CommandError;
}
