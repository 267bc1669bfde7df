/**
 * The native pre-exec hook: a shared library built here with
 * `cc -shared -fPIC`, loaded in the parent, its `int fn(void *opaque)` called
 * in the child after the declarative steps and before the credentials change.
 * - a hook that writes a marker (its pid, sid and uid) into the file named by
 *   its opaque data;
 * - a hook returning 1: CommandError stage 'hook', value 1, exit 125, and the
 *   program never runs;
 * - a hook setting errno = EDOM and returning -1: errno EDOM.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command, EXIT_CANCELED } from '../../src/index';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { parseReport } from '../helpers/report';
import { describeRoot } from '../helpers/root';
import { makeTmpDir, removeTmpDirs, useTmpDir } from '../helpers/tmp';
import { commandRejection as rejection } from '../helpers/rejection';

useInvariants();
const tmp = useTmpDir('vc-hook-');

const HOOK_SOURCE = `
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int write_marker(void *opaque) {
    int fd = open((const char *)opaque, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    char buf[128];
    int n = snprintf(buf, sizeof buf, "pid=%ld sid=%ld uid=%ld\\n",
                     (long)getpid(), (long)getsid(0), (long)getuid());
    int ok = write(fd, buf, n) == n;
    close(fd);
    return ok ? 0 : -1;
}

int return_one(void *opaque) { (void)opaque; return 1; }

int set_edom(void *opaque) { (void)opaque; errno = EDOM; return -1; }
`;

let library = '';

beforeAll(() => {
  const dir = makeTmpDir('vc-hooklib-');
  const src = path.join(dir, 'hooks.c');
  fs.writeFileSync(src, HOOK_SOURCE);
  library = path.join(dir, 'libvchooks.so');
  execFileSync(process.env.CC || 'cc', ['-shared', '-fPIC', '-O2', '-Wall', '-o', library, src], { stdio: 'pipe' });
});
// vitest's fork workers may not run 'exit' handlers: remove the build directories now.
afterAll(() => removeTmpDirs());

function readMarker(file: string): { pid: number; sid: number; uid: number } {
  const m = /^pid=(\d+) sid=(\d+) uid=(\d+)\n$/.exec(fs.readFileSync(file, 'utf8'));
  expect(m, 'marker format').not.toBeNull();
  return { pid: Number(m![1]), sid: Number(m![2]), uid: Number(m![3]) };
}

describe('native pre-exec hook', () => {
  it('runs in the child, after the declarative steps, with its opaque data', async () => {
    const marker = path.join(tmp.path, 'marker');
    const r = await new Command(HELPER, '--log', '-', '--no-stdio').setsid().setPreExecHook({ library, symbol: 'write_marker', data: marker }).run();
    const rep = parseReport(String(r.stdout));
    const m = readMarker(marker);
    expect(m.pid).toBe(rep.pid); // the process that ran the hook is the one that exec'd
    expect(m.pid).toBe(r.pid);
    expect(m.pid).not.toBe(process.pid);
    expect(m.sid).toBe(m.pid); // setsid() had already run
  });

  it('works with runSync() and with data given as bytes', () => {
    const marker = path.join(tmp.path, 'sync-marker');
    const r = new Command('true').setPreExecHook({ library, symbol: 'write_marker', data: new TextEncoder().encode(marker) }).runSync();
    expect(r.exitStatus).toBe(0);
    expect(readMarker(marker).pid).toBe(r.pid);
  });

  it('a hook returning 1 stops the child: stage hook, value 1, EXIT_CANCELED, program not run', async () => {
    const ran = path.join(tmp.path, 'ran');
    const err = await rejection(new Command(HELPER, '--create', ran).setPreExecHook({ library, symbol: 'return_one' }).run());
    expect(err.stage).toBe('hook');
    expect(err.value).toBe(1);
    expect(err.exitStatus).toBe(EXIT_CANCELED);
    expect(fs.existsSync(ran)).toBe(false);
  });

  it('a hook that sets errno EDOM and returns -1 reports errno EDOM', async () => {
    const err = await rejection(new Command('true').setPreExecHook({ library, symbol: 'set_edom' }).run());
    expect(err.stage).toBe('hook');
    expect(err.errno).toBe(33);
    expect(err.code).toBe('EDOM');
    expect(err.value).toBe(-1);
  });

  it('a symbol missing from the library fails the run with stage hook, naming the symbol', async () => {
    const err = await new Command('true')
      .setPreExecHook({ library, symbol: 'no_such_hook' })
      .run()
      .then(
        () => null,
        (e: unknown) => e as Error & { stage?: string },
      );
    expect(err).toBeInstanceOf(Error);
    expect(err!.stage).toBe('hook');
    expect(err!.message).toContain('no_such_hook');
  });
});

describeRoot('native pre-exec hook (root)', () => {
  it("runs before the uid change (the order of the child's steps): it still sees uid 0", async () => {
    fs.chmodSync(tmp.path, 0o755);
    const marker = path.join(tmp.path, 'root-marker');
    const r = await new Command(HELPER, '--log', '-', '--no-stdio')
      .setUID(65534)
      .setGID(65534)
      .setPreExecHook({ library, symbol: 'write_marker', data: marker })
      .run();
    expect(readMarker(marker).uid).toBe(0);
    expect(parseReport(String(r.stdout)).uid.effective).toBe(65534);
  });
});
