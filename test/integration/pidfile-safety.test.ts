/**
 * The pidfile's path checks, seen by what lands on disk:
 * - the daemon walks the path from "/" and refuses, with EPERM at stage
 *   'pidfile' and a message naming the component, a directory owned by
 *   another user or writable by group/others without the sticky bit (the
 *   pidfile's directory and every ancestor), a symlink on the way owned by
 *   another user, an existing pidfile owned by another user or with more than
 *   one hard link; nothing is written to what it refuses;
 * - symlinks owned by root or the daemon's user are followed, and the
 *   daemon's own (final) user may own the directories;
 * - a pidfile that cannot be written (ENOSPC on a full tmpfs, EFBIG under
 *   RLIMIT_FSIZE 0) is removed, not left empty;
 * - a relative path is resolved against the caller's working directory.
 * "Another user" needs root (chown to 65534); the rest runs as anyone.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Command, CommandError } from '../../src/index';
import { holdsLock, killPids, readPidFile } from '../helpers/daemon';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { runNodeChild } from '../helpers/node-child';
import { isAlive, processesWith } from '../helpers/proc';
import { describeRoot } from '../helpers/root';
import { useTmpDir } from '../helpers/tmp';

useInvariants();
const tmp = useTmpDir('vc-pidsafe-');

const daemons = new Set<number>();
const TOKEN = `vc-pidsafe-${process.pid}`;
afterEach(async () => {
  await killPids(daemons);
  for (const pid of processesWith(TOKEN)) daemons.add(pid);
  await killPids(daemons);
});

const readPid = (file: string): number => readPidFile(file, { track: daemons });

async function rejection(p: Promise<unknown>): Promise<CommandError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (err === null) {
    // Accepted: track whatever daemon it started, then fail.
    for (const pid of processesWith(TOKEN)) daemons.add(pid);
  }
  expect(err, 'the run should have been refused').toBeInstanceOf(CommandError);
  return err as CommandError;
}

/** A daemon that would create `marker` if it ran. */
const daemon = (pidFile: string, marker: string): Command => new Command(HELPER, '--create', marker, '--sleep', '30000', TOKEN).daemonize().setPidFile(pidFile);

function mkdir(dir: string, mode: number, owner?: number): string {
  fs.mkdirSync(dir);
  fs.chmodSync(dir, mode); // exactly, whatever the umask
  if (owner !== undefined) fs.chownSync(dir, owner, owner);
  return dir;
}

describe('unsafe directories on the path are refused', () => {
  it("the pidfile's directory is group-writable (0775): EPERM, the message names it, nothing written", async () => {
    const dir = mkdir(path.join(tmp.path, 'group'), 0o775);
    const pidFile = path.join(dir, 'd.pid');
    const marker = path.join(tmp.path, 'ran');
    const err = await rejection(daemon(pidFile, marker).run());
    expect({ stage: err.stage, code: err.code, path: err.path, value: err.value }).toEqual({ stage: 'pidfile', code: 'EPERM', path: pidFile, value: 0o775 });
    expect(err.message).toContain(`directory ${dir} is group-writable without the sticky bit (mode 0775)`);
    expect(fs.existsSync(pidFile)).toBe(false);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('an ancestor is world-writable without the sticky bit: EPERM naming the ancestor', async () => {
    const open = mkdir(path.join(tmp.path, 'open'), 0o777);
    const sub = mkdir(path.join(open, 'sub'), 0o755);
    const pidFile = path.join(sub, 'd.pid');
    const err = await rejection(daemon(pidFile, path.join(tmp.path, 'ran')).run());
    expect({ stage: err.stage, code: err.code }).toEqual({ stage: 'pidfile', code: 'EPERM' });
    expect(err.message).toContain(`directory ${open} is world-writable without the sticky bit (mode 0777)`);
    expect(fs.existsSync(pidFile)).toBe(false);
  });

  it('an ancestor is group-writable: EPERM naming the ancestor', async () => {
    const group = mkdir(path.join(tmp.path, 'g'), 0o770);
    const sub = mkdir(path.join(group, 'sub'), 0o755);
    const err = await rejection(daemon(path.join(sub, 'd.pid'), path.join(tmp.path, 'ran')).run());
    expect(err.code).toBe('EPERM');
    expect(err.message).toContain(`directory ${group} is group-writable`);
  });

  it('a sticky world-writable directory (as /tmp) is accepted, and a symlink of ours on the path is followed', async () => {
    const sticky = mkdir(path.join(tmp.path, 'sticky'), 0o1777);
    const real = mkdir(path.join(sticky, 'real'), 0o755);
    fs.symlinkSync('sticky/real', path.join(tmp.path, 'link'));
    await daemon(path.join(tmp.path, 'link', 'd.pid'), path.join(tmp.path, 'ran')).run();
    const pid = readPid(path.join(real, 'd.pid'));
    expect(holdsLock(pid, path.join(real, 'd.pid'))).toBe(true);
  });

  it('a missing directory on the path: ENOENT naming it', async () => {
    const err = await rejection(daemon(path.join(tmp.path, 'missing', 'sub', 'd.pid'), path.join(tmp.path, 'ran')).run());
    expect({ stage: err.stage, code: err.code }).toEqual({ stage: 'pidfile', code: 'ENOENT' });
    expect(err.message).toContain(`(at ${path.join(tmp.path, 'missing')})`);
  });
});

describe('the pidfile itself', () => {
  it("a pidfile with a second hard link is refused; the other name's content is untouched", async () => {
    const victim = path.join(tmp.path, 'victim');
    fs.writeFileSync(victim, 'precious\n');
    const pidFile = path.join(tmp.path, 'linked.pid');
    fs.linkSync(victim, pidFile);
    const marker = path.join(tmp.path, 'ran');
    const err = await rejection(daemon(pidFile, marker).run());
    expect({ stage: err.stage, code: err.code, value: err.value }).toEqual({ stage: 'pidfile', code: 'EPERM', value: 2 });
    expect(err.message).toContain('the pidfile has 2 hard links');
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(fs.statSync(victim).nlink).toBe(2);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('a relative path is resolved against the caller\'s working directory, not the daemon\'s "/"', async () => {
    const name = `vc-rel-${process.pid}.pid`;
    const before = process.cwd();
    process.chdir(tmp.path);
    try {
      await new Command(HELPER, '--no-stdio', '--sleep', '30000', TOKEN).daemonize().setPidFile(name).run();
    } finally {
      process.chdir(before);
      if (fs.existsSync(`/${name}`)) {
        daemons.add(Number(fs.readFileSync(`/${name}`, 'utf8')));
        fs.unlinkSync(`/${name}`);
        expect.fail(`the pidfile landed in /${name}`);
      }
    }
    const pid = readPid(path.join(tmp.path, name));
    expect(isAlive(pid)).toBe(true);
  });

  it('EFBIG (RLIMIT_FSIZE 0 inherited) while writing: the run fails at stage pidfile and the file is removed', () => {
    const pidFile = path.join(tmp.path, 'fsize.pid');
    let prlimit = '';
    try {
      prlimit = execFileSync('sh', ['-c', 'command -v prlimit'], { encoding: 'utf8' }).trim();
    } catch {
      // below
    }
    if (prlimit === '') {
      console.warn('[skip] EFBIG pidfile test: prlimit(1) is not installed');
      return;
    }
    const r = runNodeChild(
      `
      const err = await new vc.Command(HELPER, '--no-stdio', '--sleep', '30000', ARGS.token).daemonize().setPidFile(ARGS.p).run().then(() => null, (e) => e);
      emit(err && { stage: err.stage, code: err.code });
    `,
      { args: { p: pidFile, token: TOKEN }, prefix: [prlimit, '--fsize=0:0', '--'] },
    );
    expect(r.result, r.stderr).toEqual({ stage: 'pidfile', code: 'EFBIG' });
    expect(fs.existsSync(pidFile), 'an empty pidfile was left behind').toBe(false);
  });
});

describeRoot("as root: other users' files, directories and symlinks", () => {
  it('an existing pidfile owned by another user is refused and left as it was', async () => {
    fs.chmodSync(tmp.path, 0o755);
    const pidFile = path.join(tmp.path, 'theirs.pid');
    fs.writeFileSync(pidFile, '12345\n');
    fs.chownSync(pidFile, 65534, 65534);
    const err = await rejection(daemon(pidFile, path.join(tmp.path, 'ran')).run());
    expect({ stage: err.stage, code: err.code, value: err.value }).toEqual({ stage: 'pidfile', code: 'EPERM', value: 65534 });
    expect(err.message).toContain('the pidfile exists and is owned by uid 65534');
    expect(fs.readFileSync(pidFile, 'utf8')).toBe('12345\n');
  });

  it('an ancestor owned by another user is refused, even with a root-owned directory below it', async () => {
    fs.chmodSync(tmp.path, 0o755);
    const theirs = mkdir(path.join(tmp.path, 'theirs'), 0o755, 65534);
    const mine = mkdir(path.join(theirs, 'mine'), 0o755);
    const err = await rejection(daemon(path.join(mine, 'd.pid'), path.join(tmp.path, 'ran')).run());
    expect({ code: err.code, value: err.value }).toEqual({ code: 'EPERM', value: 65534 });
    expect(err.message).toContain(`directory ${theirs} is owned by uid 65534`);
  });

  it('a symlink on the path owned by another user is refused, though its target is safe', async () => {
    fs.chmodSync(tmp.path, 0o755);
    const real = mkdir(path.join(tmp.path, 'real'), 0o755);
    const link = path.join(tmp.path, 'link');
    fs.symlinkSync(real, link);
    fs.lchownSync(link, 65534, 65534);
    const err = await rejection(daemon(path.join(link, 'd.pid'), path.join(tmp.path, 'ran')).run());
    expect({ code: err.code, value: err.value }).toEqual({ code: 'EPERM', value: 65534 });
    expect(err.message).toContain(`symlink ${link} is owned by uid 65534`);
    expect(fs.existsSync(path.join(real, 'd.pid'))).toBe(false);
  });

  it('a directory reached through a root-owned symlink is checked too', async () => {
    fs.chmodSync(tmp.path, 0o755);
    const theirs = mkdir(path.join(tmp.path, 'theirs'), 0o755, 65534);
    const link = path.join(tmp.path, 'link');
    fs.symlinkSync(theirs, link);
    const err = await rejection(daemon(path.join(link, 'd.pid'), path.join(tmp.path, 'ran')).run());
    expect(err.code).toBe('EPERM');
    expect(err.message).toContain(`a directory reached through ${link} is owned by uid 65534`);
  });

  it("directories owned by the daemon's own (final) user are accepted", async () => {
    fs.chmodSync(tmp.path, 0o755);
    const dir = mkdir(path.join(tmp.path, 'nobodys'), 0o755, 65534);
    const pidFile = path.join(dir, 'd.pid');
    await new Command(HELPER, '--no-stdio', '--sleep', '30000', TOKEN).setUID(65534).setGID(65534).daemonize().setPidFile(pidFile).run();
    const pid = readPid(pidFile);
    expect(holdsLock(pid, pidFile)).toBe(true);
  });

  it('ENOSPC on a full tmpfs while writing: the run fails at stage pidfile and the file is removed', async (ctx) => {
    const mnt = mkdir(path.join(tmp.path, 'mnt'), 0o755);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4k,mode=0755', 'vc-pidsafe', mnt], { stdio: 'pipe' });
    } catch (e) {
      console.warn(`[skip] ENOSPC pidfile test: cannot mount a tmpfs here (${(e as Error).message.split('\n')[0]})`);
      ctx.skip();
      return;
    }
    try {
      // Fill it: a write fails once the one page is used.
      const fd = fs.openSync(path.join(mnt, 'fill'), 'w');
      try {
        for (;;) fs.writeSync(fd, Buffer.alloc(1024, 1));
      } catch (e) {
        expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        fs.closeSync(fd);
      }
      const pidFile = path.join(mnt, 'd.pid');
      const err = await rejection(daemon(pidFile, path.join(tmp.path, 'ran')).run());
      expect({ stage: err.stage, code: err.code }).toEqual({ stage: 'pidfile', code: 'ENOSPC' });
      expect(fs.existsSync(pidFile), 'an empty pidfile was left behind').toBe(false);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});
