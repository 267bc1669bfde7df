/**
 * Where clone(CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_PIDFD) is refused with EINVAL, as
 * qemu-user refuses it (it runs only fork-like and thread-like clones: an arm64 Node under
 * qemu-aarch64, `docker run --platform linux/arm64` on an x86 machine), every spawn must still
 * work, by fork(). A seccomp filter (support/seccomp-launch.c NOCLONEFLAGS) gives a node child
 * that answer on this machine; scripts/cross-arm64.sh runs the same kinds of spawns under
 * qemu-aarch64 itself.
 */
import { describe, expect, it } from 'vitest';
import { buildUnderTestEnv, expectChildOk, runNodeChild } from '../helpers/node-child';
import { buildSupport } from './support/build';

describe('clone with CLONE_FILES or CLONE_PIDFD refused with EINVAL (as under qemu-user)', () => {
  it('runSync, run with capture, a failed exec, a handshake and a pidfile daemon all work', () => {
    const sup = buildSupport();
    const r = runNodeChild(
      `
      const path = require('path');
      const out = {};
      // the filter is in force: child_process (libuv) does not use clone, so ask python
      out.probe = require('child_process').spawnSync('python3', ['-c', [
        'import ctypes, os',
        'libc = ctypes.CDLL(None, use_errno=True)',
        // raw clone(CLONE_FILES | SIGCHLD): EINVAL from the filter; a child would exit at once
        'pid = libc.syscall(56, 0x400 | 17, 0, 0, 0, 0)',
        'print(ctypes.get_errno() if pid < 0 else "cloned")',
        'os._exit(0) if pid == 0 else None',
      ].join('\\n')], { encoding: 'utf8' }).stdout.trim();
      const s = new vc.Command('/bin/echo', 'hi').runSync();
      out.sync = { stdout: s.stdout, status: s.status };
      const a = await new vc.Command('/bin/sh', '-c', 'echo out; echo err >&2; exit 3').run({ status: true });
      out.async = { stdout: a.stdout, stderr: a.stderr, status: a.status };
      try { await new vc.Command('/nonexistent/program').run(); } catch (e) { out.missing = { stage: e.stage, code: e.code }; }
      const h = new vc.Command('/bin/echo', 'after').requireHandshake().setOutputBuffer();
      h.runAsync();
      await h.handshakeWait();
      await h.handshakeNotify();
      out.handshake = (await h.wait()).stdout;
      const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'vc-clone-refused-'));
      const pidfile = path.join(dir, 'd.pid');
      await new vc.Command('/bin/sleep', '30').daemonize().setPidFile(pidfile).run();
      const pid = vc.readPidFile(pidfile);
      out.daemonRuns = pid !== null && fs.existsSync('/proc/' + pid);
      out.daemonParentIsUs = pid !== null && Number(fs.readFileSync('/proc/' + pid + '/stat', 'utf8').split(') ')[1].split(' ')[1]) === process.pid;
      out.killed = (await vc.killByPidFile(pidfile, 'SIGKILL', { wait: 5000, remove: true })).exited;
      fs.rmSync(dir, { recursive: true, force: true });
      // the probe child and every spawn are reaped
      out.children = fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).filter((n) => {
        try { const st = fs.readFileSync('/proc/' + n + '/stat', 'utf8');
          return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === process.pid; } catch { return false; }
      }).length;
      emit(out);
    `,
      { prefix: [sup.seccompLaunch, 'NOCLONEFLAGS'], env: buildUnderTestEnv() },
    );
    const out = expectChildOk(r) as Record<string, unknown>;
    expect(out.probe).toBe('22');
    expect(out.sync).toEqual({ stdout: 'hi\n', status: 0 });
    expect(out.async).toEqual({ stdout: 'out\n', stderr: 'err\n', status: 3 });
    expect(out.missing).toEqual({ stage: 'exec', code: 'ENOENT' });
    expect(out.handshake).toBe('after\n');
    expect(out.daemonRuns).toBe(true);
    expect(out.daemonParentIsUs).toBe(false);
    expect(out.killed).toBe(true);
    expect(out.children).toBe(0);
  });
});
