/**
 * The `vircommand` container options end to end (src/cli/container-options.ts): --unshare, --map-root,
 * --map-users/--map-groups, --proc, --hostname/--domainname, --chroot, --user and --seccomp,
 * each compared with what util-linux unshare or bwrap would give. The CLI is compiled into a
 * temporary package root as test/cli/cli.test.ts does.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/build-helper';
import { useInvariants } from '../helpers/invariants';
import { makeBusyboxRoot } from '../helpers/busybox-root';
import { describeRoot } from '../helpers/root';
import { denySyscalls, seccompUnsupported } from '../helpers/seccomp';
import { makeTmpDir } from '../helpers/tmp';

let CLI = '';

beforeAll(() => {
  const root = makeTmpDir('vc-cli-ctr-');
  const tsc = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(REPO_ROOT, 'tsconfig.build.json'), '--outDir', path.join(root, 'dist')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsc failed:\n${r.stdout}${r.stderr}`);
  for (const name of ['package.json', 'node_modules', 'build', 'prebuilds']) fs.symlinkSync(path.join(REPO_ROOT, name), path.join(root, name));
  CLI = path.join(root, 'dist', 'cli', 'index.js');
}, 180_000);

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  return { pid: r.pid ?? 0, status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe('vircommand CLI: container options', () => {
  useInvariants();

  it('--help lists them, and warns that --uid alone keeps the group', () => {
    const help = cli(['--help']).stdout;
    for (const o of [
      '--unshare',
      '--map-root',
      '--map-users',
      '--map-groups',
      '--hostname',
      '--domainname',
      '--proc',
      '--chroot',
      '--pivot-root',
      '--mount',
      '--dev',
      '--user',
      '--seccomp',
    ]) {
      expect(help).toMatch(new RegExp(`^  ${o}\\b`, 'm'));
    }
    expect(help).toMatch(/--uid USER .*alone it keeps vircommand's group \(root's 0\): use --user/);
  });

  it('bad values: one line, exit 125, before anything runs', () => {
    expect(cli(['--unshare', 'bogus', '--', 'true'])).toMatchObject({
      status: 125,
      stderr: "vircommand: usage: --unshare: flags[0] is not a namespace name: 'bogus'\n",
    });
    expect(cli(['--map-users', '1:2', '--', 'true'])).toMatchObject({
      status: 125,
      stderr: "vircommand: usage: --map-users: expected INSIDE:OUTSIDE:COUNT, got '1:2'\n",
    });
    expect(cli(['--hostname', 'x'.repeat(65), '--', 'true']).stderr).toMatch(/^vircommand: usage: --hostname: .*at most 64 bytes/);
    expect(cli(['--seccomp', '/nonexistent/filter.bpf', '--', 'true']).stderr).toMatch(/^vircommand: usage: --seccomp: cannot read \/nonexistent\/filter.bpf/);
    expect(cli(['--user', 'vc-no-such-user-x', '--', 'true'])).toMatchObject({
      status: 125,
      stderr: "vircommand: setuid: no such user 'vc-no-such-user-x' in the user database\n",
    });
  });

  it('--seccomp FILE installs the program: mkdir is denied with EACCES', (ctx) => {
    const skip = seccompUnsupported();
    if (skip) return ctx.skip(skip);
    const dir = makeTmpDir('vc-cli-seccomp-');
    const file = path.join(dir, 'deny-mkdir.bpf');
    fs.writeFileSync(file, denySyscalls(['mkdir', 'mkdirat'], os.constants.errno.EACCES));
    const r = cli(['--no-new-privs', '--seccomp', file, '--', 'mkdir', path.join(dir, 'a')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/Permission denied/);
    expect(fs.existsSync(path.join(dir, 'a'))).toBe(false);
  });
});

describeRoot('vircommand CLI: container options (root)', () => {
  useInvariants();

  it('--user NAME: uid, primary group and groups; --uid alone stays in group 0', () => {
    expect(cli(['--user', 'nobody', '--', 'sh', '-c', 'id -u; id -g; id -G']).stdout).toBe('65534\n65534\n65534\n');
    expect(cli(['--user', '65534', '--', 'id', '-g']).stdout).toBe('65534\n');
    expect(cli(['--uid', 'nobody', '--', 'id', '-g']).stdout).toBe('0\n');
  });

  it('--unshare pid --proc --map-root: pid 1, root inside, /proc shows only the namespace (unshare -r -p -f --mount-proc)', () => {
    const r = cli(['--unshare', 'pid', '--proc', '--map-root', '--', 'sh', '-c', 'echo $$; id -u; ls /proc | grep -c "^[0-9]"']);
    expect(r.stderr).toBe('');
    const [pid, uid, procs] = r.stdout.trim().split('\n').map(Number);
    expect([pid, uid]).toEqual([1, 0]);
    expect(procs).toBeLessThanOrEqual(3); // sh, ls, grep
  });

  it('--map-users/--map-groups ranges: the program is the mapped root (files are owned by the outside id)', () => {
    const dir = makeTmpDir('vc-cli-maps-');
    fs.chmodSync(dir, 0o777);
    const r = cli(['--map-users', '0:300000:65536', '--map-groups', '0:300000:65536', '--', 'sh', '-c', `id -u; touch ${dir}/f`]);
    expect(r.stdout).toBe('0\n');
    expect(fs.statSync(path.join(dir, 'f')).uid).toBe(300000);
  });

  it('--hostname/--domainname in a new uts namespace (bwrap --unshare-uts --hostname); exec in place keeps the pid', () => {
    const r = cli(['--hostname', 'vc-cli-box', '--domainname', 'vc.dom', '--', 'sh', '-c', 'echo $PPID; uname -n; cat /proc/sys/kernel/domainname']);
    const [, name, domain] = r.stdout.trim().split('\n');
    expect([name, domain]).toEqual(['vc-cli-box', 'vc.dom']);
    expect(os.hostname()).not.toBe('vc-cli-box');
    expect(Number(r.stdout.split('\n')[0])).not.toBe(r.pid); // exec in place: the program is the CLI process, not its child
  });

  it('--chroot DIR with --unshare mnt,uts,ipc,net: a static program in the new root', () => {
    const root = makeTmpDir('vc-cli-root-');
    fs.writeFileSync(path.join(root, 'hello.c'), '#include <stdio.h>\nint main(void){puts("inside");return 0;}\n');
    const cc = spawnSync('cc', ['-static', '-O2', '-o', path.join(root, 'hello'), path.join(root, 'hello.c')]);
    expect(cc.status).toBe(0);
    const r = cli(['--unshare', 'mount,uts,ipc,network', '--chroot', root, '--', '/hello']);
    expect(r).toMatchObject({ status: 0, stdout: 'inside\n' });
  });

  it('--pivot-root DIR with --mount (proc, tmpfs, a read-only bind) and --dev: bwrap --bind/--proc/--tmpfs/--ro-bind/--dev on a busybox root', (ctx) => {
    const made = makeBusyboxRoot();
    if ('reason' in made) {
      console.log(`[skip] ${made.reason}`);
      ctx.skip();
      return;
    }
    const shared = makeTmpDir('vc-cli-share-');
    fs.writeFileSync(path.join(shared, 'note'), 'from the host\n');
    fs.chmodSync(shared, 0o755);
    const r = cli([
      '--map-root',
      '--unshare',
      'pid,mnt',
      '--pivot-root',
      made.root,
      '--mount',
      'type=proc,target=/proc',
      '--mount',
      'type=tmpfs,target=/scratch,options=size=1m',
      '--mount',
      `type=bind,target=/share,source=${shared},readonly`,
      '--dev',
      '--',
      '/bin/sh',
      '-c',
      'echo $$; test $(ls /proc | grep -c "^[0-9]") -lt 10 && echo own-procs; cat /share/note; touch /scratch/ok && echo tmpfs-ok; touch /share/x 2>/dev/null || echo ro-ok; test -e /.vircommand-oldroot || echo old-root-gone; echo x > /dev/null && echo dev-ok',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['1', 'own-procs', 'from the host', 'tmpfs-ok', 'ro-ok', 'old-root-gone', 'dev-ok']);
    expect(r.status).toBe(0);
  });
});
