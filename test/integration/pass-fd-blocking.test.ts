/**
 * passFD(fd, PASS_FD_BLOCKING) (issue 12 item 2): virtiofsd failed on a non-blocking socket
 * given with passFD. The flag clears O_NONBLOCK in the child; since O_NONBLOCK belongs to the
 * open file description, the parent's copy turns blocking too, and the test says so.
 *
 * The socket is a listening Unix socket made by Node (libuv makes it non-blocking); the helper
 * reports the flags of its fds (FDFLAGS, from /proc/self/fdinfo).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command, PASS_FD_BLOCKING, PASS_FD_CLOSE_PARENT } from '../../src/index';
import { HELPER, logArgs } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { readReport } from '../helpers/report';
import { loadFdTool } from '../adversarial/support/build';
import { useTmpDir } from '../helpers/tmp';

useInvariants();
const tmp = useTmpDir('vc-passfd-blocking-');

const O_NONBLOCK = 0o4000;
const ft = loadFdTool();

function parentFlags(fd: number): number {
  const m = /^flags:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  if (!m) throw new Error(`no flags for fd ${fd}`);
  return parseInt(m[1], 8);
}

async function listeningSocket(): Promise<{ server: net.Server; fd: number }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(path.join(tmp.path, 's.sock'), resolve));
  const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
  return { server, fd };
}

async function childFlags(fd: number, flags: number | undefined): Promise<number> {
  const log = path.join(tmp.path, 'h.log');
  const cmd = new Command(HELPER, ...logArgs(log), '--no-stdio');
  if (flags === undefined) cmd.passFD(fd);
  else cmd.passFD(fd, flags);
  await cmd.run();
  const f = readReport(log).fdFlags.get(fd);
  if (f === undefined) throw new Error(`the child has no fd ${fd}`);
  return f;
}

describe('passFD(fd, PASS_FD_BLOCKING)', () => {
  it('without the flag the child gets the socket non-blocking, as the parent has it', async () => {
    const { server, fd } = await listeningSocket();
    try {
      expect(parentFlags(fd) & O_NONBLOCK).toBe(O_NONBLOCK);
      expect((await childFlags(fd, undefined)) & O_NONBLOCK).toBe(O_NONBLOCK);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("with it the child gets the socket blocking; the shared description makes the parent's copy blocking too", async () => {
    const { server, fd } = await listeningSocket();
    try {
      expect((await childFlags(fd, PASS_FD_BLOCKING)) & O_NONBLOCK).toBe(0);
      // Documented effect: O_NONBLOCK is a property of the open file description.
      expect(parentFlags(fd) & O_NONBLOCK).toBe(0);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("combines with PASS_FD_CLOSE_PARENT (flags 3): the child gets it blocking, the parent's copy is closed", async () => {
    const { server, fd } = await listeningSocket();
    const copy = ft.dupfd(fd, 3, true); // a copy to give away: the server keeps its own fd
    try {
      expect((await childFlags(copy, PASS_FD_BLOCKING | PASS_FD_CLOSE_PARENT)) & O_NONBLOCK).toBe(0);
      expect(ft.getfd(copy)).toBeLessThan(0); // closed by the run
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
