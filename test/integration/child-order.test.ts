/**
 * The order of the child's steps (native/child/child_exec.cc, numbered 1-18) observed from the
 * outside. A native hook runs at step 7 and records what it sees; the program records what it
 * sees at exec. Each assertion pins one pair of steps:
 *   1 before 7    dispositions already default at the hook (SigIgn 0, though Node ignores SIGPIPE)
 *   3 before 7    only 0-2 and our status pipe are open at the hook, though the parent holds more
 *   5 before 7    the umask and RLIMIT_NOFILE are already set at the hook
 *   7 before 13   the hook still runs in the parent's cwd; the program in the requested one
 *   7 before 16   every signal is still blocked at the hook; none is at exec
 *   7 before 8    the hook runs on the parent's CPUs, the program on those of setCpuAffinity
 *   13 before 14  a failing chdir is reported before an LSM label that would fail too
 *   14 before 15  a failing LSM label rejects handshakeWait(): "ready" comes after the labels
 *   7 before 9    (root) the hook runs as root, the program as the requested uid
 *   9 before 13   (root) chdir is checked with the new uid: a 0700 root dir fails at 'chdir'
 *   6 before 13   (root) the cwd is resolved inside the new root after chroot
 *   6 before 14   (root) the labels are written after chroot, through a /proc fd opened first
 *   9 before 11   (root) the parent-death signal survives setUID (setresuid would clear it)
 *   4 before 5    a bad rlimit after the pidfile fails at 'rlimit' and removes the pidfile
 *   13 before 17  the seccomp filter comes after chdir: a filter denying chdir leaves it working
 *   16 before 17  ... and after every step: one denying getpid, setresuid, sethostname too
 *   12 before 17  with no_new_privs set at 12, the filter needs no CAP_SYS_ADMIN
 *   6 before 9    (root) the host name is set before setUID drops the privilege it needs
 * The stage list the addon exports is in the same order as the numbered steps.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { loadNative } from '../../src/native';
import { HELPER } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { parseReport } from '../helpers/report';
import { describeRoot } from '../helpers/root';
import { makeTmpDir, useTmpDir } from '../helpers/tmp';
import { commandRejection as caught } from '../helpers/rejection';
import { denySyscalls, seccompUnsupported } from '../helpers/seccomp';

useInvariants();
const tmp = useTmpDir('vc-order-');

const HOOK_SOURCE = `
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* Records the child's state at the hook (step 7) into the file named by opaque. */
int record_state(void *opaque) {
    char fds[512] = "";
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d)) continue;
        strncat(fds, " ", sizeof fds - strlen(fds) - 1);
        strncat(fds, e->d_name, sizeof fds - strlen(fds) - 1);
    }
    closedir(d);
    char sig_ign[64] = "", sig_blk[64] = "", line[256];
    FILE *s = fopen("/proc/self/status", "r");
    if (!s) return -1;
    while (fgets(line, sizeof line, s)) {
        if (!strncmp(line, "SigIgn:", 7)) sscanf(line + 7, "%63s", sig_ign);
        if (!strncmp(line, "SigBlk:", 7)) sscanf(line + 7, "%63s", sig_blk);
    }
    fclose(s);
    mode_t mask = umask(0);
    umask(mask);
    struct rlimit nofile;
    getrlimit(RLIMIT_NOFILE, &nofile);
    char cwd[4096], cpus[64] = "";
    if (!getcwd(cwd, sizeof cwd)) return -1;
    s = fopen("/proc/self/status", "r");
    if (!s) return -1;
    while (fgets(line, sizeof line, s))
        if (!strncmp(line, "Cpus_allowed_list:", 18)) sscanf(line + 18, "%63s", cpus);
    fclose(s);
    FILE *out = fopen((const char *)opaque, "we");
    if (!out) return -1;
    fprintf(out, "FDS:%s\\nSIGIGN:%s\\nSIGBLK:%s\\nUMASK:%04o\\nNOFILE:%llu\\nCWD:%s\\nUID:%ld\\nCPUS:%s\\n", fds, sig_ign,
            sig_blk, (unsigned)mask, (unsigned long long)nofile.rlim_cur, cwd, (long)getuid(), cpus);
    return fclose(out) == 0 ? 0 : -1;
}
`;

let library = '';
const LAST_CPU = os.availableParallelism() - 1;
const ALL_CPUS = LAST_CPU > 0 ? `0-${LAST_CPU}` : '0';

beforeAll(() => {
  const dir = makeTmpDir('vc-orderlib-');
  fs.writeFileSync(path.join(dir, 'hook.c'), HOOK_SOURCE);
  library = path.join(dir, 'hook.so');
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', library, path.join(dir, 'hook.c')]);
  fs.chmodSync(dir, 0o755);
});

function readHookState(file: string): Record<string, string> {
  const state: Record<string, string> = {};
  for (const line of fs.readFileSync(file, 'utf8').trim().split('\n')) {
    const i = line.indexOf(':');
    state[line.slice(0, i)] = line.slice(i + 1);
  }
  return state;
}

describe('the order of the child steps', () => {
  it('stageNames() lists the child stages in the numbered order of child_exec.cc', () => {
    const names: string[] = loadNative().stageNames!();
    const childStages = names.slice(names.indexOf('signals'), names.indexOf('exec') + 1);
    expect(childStages).toEqual([
      'signals',
      'stdio',
      'close-fds',
      'daemon',
      'pidfile',
      'rlimit',
      'setsid',
      'setpgid',
      'nice',
      'cgroup',
      'namespace',
      'unshare',
      'mounts',
      'pivot_root',
      'chroot',
      'proc',
      'mount',
      'hostname',
      'hook',
      'affinity',
      'mempolicy',
      'sched-core',
      'setgroups',
      'setgid',
      'setuid',
      'caps',
      'pdeathsig',
      'no-new-privs',
      'chdir',
      'selinux',
      'apparmor',
      'handshake',
      'sigmask',
      'seccomp',
      'exec',
    ]);
    // The numbered comment in the code lists the same steps in the same order.
    const source = fs.readFileSync(path.join(__dirname, '../../native/child/child_exec.cc'), 'utf8');
    const steps = [...source.matchAll(/^\s*\/\/ (\d+)\. /gm)].map((m) => Number(m[1]));
    expect(steps).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
  });

  it('at the hook: signals reset, fds closed, umask and rlimits set; cwd and mask not yet', async () => {
    const state = path.join(tmp.path, 'hook-state');
    const log = path.join(tmp.path, 'report');
    const workdir = makeTmpDir('vc-order-cwd-');
    // Extra fds in the parent (O_CLOEXEC, as Node opens them): still open at the hook unless
    // step 3 closed them, since close-on-exec only acts at execve.
    const extra = Array.from({ length: 8 }, () => fs.openSync('/dev/null', 'r'));
    try {
      await new Command(HELPER, '--log', log, '--no-stdio')
        .setUmask(0o027)
        .setMaxFiles(333)
        .setWorkingDirectory(workdir)
        .setCpuAffinity([LAST_CPU])
        .setPreExecHook({ library, symbol: 'record_state', data: state })
        .run();
    } finally {
      for (const fd of extra) fs.closeSync(fd);
    }
    const atHook = readHookState(state);
    const fds = atHook.FDS.trim()
      .split(' ')
      .map(Number)
      .sort((a, b) => a - b);
    // 0-2 and one more: the status pipe (close-on-exec), kept so a failure can be reported.
    expect(fds.slice(0, 3)).toEqual([0, 1, 2]);
    expect(fds).toHaveLength(4);
    expect(atHook.SIGIGN).toBe('0000000000000000');
    expect(atHook.UMASK).toBe('0027');
    expect(atHook.NOFILE).toBe('333');
    expect(atHook.CWD).toBe(process.cwd());
    expect(BigInt(`0x${atHook.SIGBLK}`)).not.toBe(0n);

    // Step 8 is after the hook: it still runs on every CPU (the program's set: sched.test.ts).
    expect(atHook.CPUS).toBe(ALL_CPUS);

    const atExec = parseReport(fs.readFileSync(log, 'utf8'));
    expect(atExec.cwd).toBe(workdir);
    expect(atExec.sigBlk).toBe(0n);
  });

  it('13 before 14 before 15: chdir fails first; a label failure comes before the handshake', async () => {
    const missing = path.join(tmp.path, 'no-such-dir');
    const err = await caught(new Command('true').setWorkingDirectory(missing).setSELinuxLabel('not a context').run());
    expect(err.stage).toBe('chdir');
    const cmd = new Command('true').setSELinuxLabel('not a context').requireHandshake();
    cmd.runAsync();
    const hs = await caught(cmd.handshakeWait());
    expect(hs.stage).toBe('selinux');
    await cmd.wait().catch(() => {});
  });

  it('a failure after the pidfile (step 4) at the rlimits (step 5) reports rlimit and removes the pidfile', async () => {
    const pidFile = path.join(tmp.path, 'order.pid');
    const err = await caught(
      // NOFILE above /proc/sys/fs/nr_open: the kernel refuses it (EPERM), even for root.
      new Command(HELPER, '--no-stdio')
        .daemonize()
        .setPidFile(pidFile)
        .setMaxFiles(Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8')) + 1)
        .run(),
    );
    expect(err.stage).toBe('rlimit');
    expect(err.code).toBe('EPERM');
    expect(fs.existsSync(pidFile)).toBe(false);
  });
});

describe('the seccomp filter is the last step (17)', () => {
  it('13 before 17: a filter that denies chdir does not stop setWorkingDirectory', async (ctx) => {
    const skip = seccompUnsupported();
    if (skip) return ctx.skip(skip);
    const workdir = makeTmpDir('vc-order-seccomp-');
    const r = await new Command('/bin/sh', '-c', 'pwd; cd / 2>/dev/null; echo cd=$?')
      .setWorkingDirectory(workdir)
      .setNoNewPrivs()
      .setSeccompFilter(denySyscalls(['chdir'], os.constants.errno.EPERM))
      .run();
    expect(r.stdout).toBe(`${workdir}\ncd=2\n`);
  });

  it('12 before 17: after no_new_privs, a filter needs no CAP_SYS_ADMIN (clearCaps) ', async (ctx) => {
    const skip = seccompUnsupported();
    if (skip) return ctx.skip(skip);
    const r = await new Command('/bin/true')
      .clearCaps()
      .setNoNewPrivs()
      .setSeccompFilter(denySyscalls(['mkdirat'], os.constants.errno.EACCES))
      .run({ status: true });
    expect(r.status).toBe(0);
  });
});

describeRoot('the order of the credential steps (root)', () => {
  it('6 before 9 before 17: the host name is set before setUID; a filter denying sethostname and setresuid comes after both', async (ctx) => {
    const skip = seccompUnsupported();
    if (skip) return ctx.skip(skip);
    const r = await new Command('/bin/sh', '-c', 'uname -n; id -u')
      .unshare(['uts'])
      .setHostname('vc-order')
      .setUser('nobody')
      .setNoNewPrivs()
      .setSeccompFilter(denySyscalls(['sethostname', 'setresuid'], os.constants.errno.EPERM))
      .run();
    expect(r.stdout).toBe('vc-order\n65534\n');
  });

  it('the hook runs as root before setUID; chdir is checked with the new uid', async () => {
    const state = path.join(tmp.path, 'hook-uid');
    fs.chmodSync(tmp.path, 0o777);
    const log = path.join(tmp.path, 'uid-report');
    await new Command(HELPER, '--log', log, '--no-stdio').setUID(65534).setGID(65534).setPreExecHook({ library, symbol: 'record_state', data: state }).run();
    expect(readHookState(state).UID).toBe('0');
    expect(parseReport(fs.readFileSync(log, 'utf8')).uid.real).toBe(65534);

    const privateDir = makeTmpDir('vc-order-private-');
    fs.chmodSync(privateDir, 0o700);
    const err = await caught(new Command(HELPER, '--no-stdio').setUID(65534).setGID(65534).setWorkingDirectory(privateDir).run());
    expect(err.stage).toBe('chdir');
    expect(err.code).toBe('EACCES');
  });

  it('chdir happens inside the new root (6 before 13)', async () => {
    const root = makeTmpDir('vc-order-root-');
    fs.mkdirSync(path.join(root, 'inside'));
    fs.writeFileSync(
      path.join(root, 'pwd.c'),
      '#include <stdio.h>\n#include <unistd.h>\nint main(void){char b[256];if(!getcwd(b,sizeof b))return 1;puts(b);return 0;}\n',
    );
    // Static: the new root has no libc and no /proc.
    execFileSync('cc', ['-static', '-O2', '-o', path.join(root, 'pwd'), path.join(root, 'pwd.c')]);
    const r = await new Command('/pwd').chroot(root).setWorkingDirectory('/inside').run();
    expect(r.stdout).toBe('/inside\n');
  });

  it('the labels are written after chroot, through the /proc fd opened by the parent (6 before 14)', async () => {
    // The new root has no /proc: a path lookup would fail with ENOENT. Through the parent's
    // /proc fd the write reaches the kernel, which answers as it would outside.
    const root = makeTmpDir('vc-order-lsmroot-');
    const outside = await caught(new Command('/true').setSELinuxLabel('not a context').run());
    const inside = await caught(new Command('/true').chroot(root).setSELinuxLabel('not a context').run());
    expect(inside.stage).toBe('selinux');
    expect(inside.code).toBe(outside.code);
    expect(inside.code).not.toBe('ENOENT');
  });

  it('the parent-death signal survives setUID (9 before 11)', async () => {
    const r = await new Command(HELPER, '--log', '-', '--no-stdio').setUID(65534).setGID(65534).setParentDeathSignal('SIGTERM').run();
    expect(parseReport(String(r.stdout)).pdeathSig).toBe(15);
  });
});
