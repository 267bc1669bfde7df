/**
 * Output too large for a JavaScript string: with the default 'utf8'
 * encoding, a capture past buffer.constants.MAX_STRING_LENGTH (2^29-24 characters on Node 20)
 * made Buffer#toString throw a bare ERR_STRING_TOO_LONG Error that lost the child's status. It
 * is a CommandError now, with the status, the bytes kept as a Buffer and V8's error as cause.
 * One child writes 2^29 bytes here (about a second through the pipe, 512 MiB held briefly).
 */
import { constants } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { Command, type CommandError } from '../../src/index';
import { useInvariants } from '../helpers/invariants';

const BYTES = 2 ** 29;

describe('output too large for a string', () => {
  useInvariants();

  it(`a ${BYTES}-byte stdout with the default encoding: CommandError ERR_STRING_TOO_LONG with the exit status and cause`, async () => {
    expect(BYTES).toBeGreaterThan(constants.MAX_STRING_LENGTH);
    const ref: { value?: string | Buffer } = {};
    const cmd = new Command('/bin/sh', '-c', `head -c ${BYTES} /dev/zero; echo bye >&2; exit 4`).setOutputBuffer(ref);
    const e = await cmd.run({ status: true }).then(
      () => null,
      (x: unknown) => x as CommandError,
    );
    expect(e?.name).toBe('CommandError');
    expect(e?.code).toBe('ERR_STRING_TOO_LONG');
    expect(e?.message).toMatch(
      new RegExp(
        `stdout is too large for a string: ${BYTES} bytes, more than the ${constants.MAX_STRING_LENGTH} characters .*the child exited with status 4.*encoding: 'buffer'`,
      ),
    );
    expect({ exitStatus: e?.exitStatus, signal: e?.signal, stderr: e?.stderr }).toEqual({ exitStatus: 4, signal: null, stderr: 'bye\n' });
    expect((e?.cause as { code?: string }).code).toBe('ERR_STRING_TOO_LONG');
    // The bytes are not lost: the error and the buffer ref hold them as a Buffer.
    expect(Buffer.isBuffer(e?.stdout) && e.stdout.length).toBe(BYTES);
    expect(ref.value).toBe(e?.stdout);
  }, 60_000);
});
