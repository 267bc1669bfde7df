import { constants } from 'node:buffer';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Command, CommandError } from '../../src/index';
import { type NativePlan, type NativeResult, setNativeBinding } from '../../src/native';
import { resolveCandidates } from '../../src/plan';
import { nativeResult } from '../helpers/native-result';

const { MAX_LENGTH } = constants; // no maxBuffer: captures are capped at the largest Buffer
let plans: NativePlan[];
const ok = (): NativeResult => nativeResult();

beforeEach(() => {
  plans = [];
  setNativeBinding({
    runSync: (plan: NativePlan) => (plans.push(plan), ok()),
    spawn: () => {
      throw new Error('not used');
    },
    pidWait: () => {},
    pidKill: () => false,
    getGroupList: () => [],
  });
});
afterEach(() => setNativeBinding(null));

function planOf(cmd: Command): NativePlan {
  cmd.runSync();
  return plans[plans.length - 1];
}

describe('NativePlan', () => {
  it('has the defaults of docs/internals.md', () => {
    const plan = planOf(new Command('/bin/true', 'a'));
    expect(plan).toEqual({
      argv: ['/bin/true', 'a'],
      candidates: ['/bin/true'],
      env: expect.any(Array),
      cwd: null,
      umask: -1,
      stdin: { type: 'null' },
      stdout: { type: 'capture', maxBuffer: MAX_LENGTH },
      stderr: { type: 'capture', maxBuffer: MAX_LENGTH },
      nonblocking: false,
      passFds: [],
      blockingFds: [],
      uid: -1,
      gid: -1,
      groups: null,
      clearCaps: false,
      keepCaps: [],
      rlimits: [],
      noNewPrivs: false,
      parentDeathSignal: 0,
      setsid: false,
      pgid: -1,
      nice: null,
      namespaces: [],
      unshareFlags: 0,
      cgroup: null,
      cgroupFd: -1,
      chroot: null,
      hook: null,
      handshake: false,
      daemonize: false,
      pidFile: null,
      timeoutMs: 0,
      killGraceMs: 100,
      drainMs: 200,
      namespaceSetup: { uidMap: null, gidMap: null, propagation: 0x4000 | 0x40000, mountProc: false, uidMapHelper: null, gidMapHelper: null },
      mountSetup: null,
      sendBuffers: null,
      cpuAffinity: null,
      memoryPolicy: null,
      schedCore: 0,
      schedCorePid: 0,
      selinuxLabel: null,
      apparmorProfile: null,
      hostname: null,
      domainname: null,
      seccompFilter: null,
    });
    // No env call: the inherited environment is process.env's own entries, read here (native
    // never reads environ).
    expect(plan.env).toEqual(Object.entries(process.env).map(([k, v]) => `${k}=${v}`));
  });

  it("records the new namespaces' setup: maps in the kernel format, propagation flags, remountProc implies mnt", () => {
    const plan = planOf(
      new Command('/bin/true')
        .unshare(['user', 'pid'])
        .remountProc()
        .setMountPropagation('slave')
        .setUidMappings([
          { inside: 0, outside: 1000, count: 1 },
          { inside: 1, outside: 100000, count: 65536 },
        ])
        .setGidMappings([{ inside: 0, outside: 1000, count: 1 }]),
    );
    expect(plan.unshareFlags).toBe(0x10000000 | 0x20000000 | 0x00020000);
    // (uidMapHelper/gidMapHelper depend on who runs this: test/integration/idmap-helper.test.ts.)
    expect(plan.namespaceSetup).toMatchObject({
      uidMap: '0 1000 1\n1 100000 65536\n',
      gidMap: '0 1000 1\n',
      propagation: 0x4000 | 0x80000,
      mountProc: true,
    });
    expect(planOf(new Command('/bin/true').unshare(['mnt']).setMountPropagation('unchanged')).namespaceSetup?.propagation).toBe(0);
  });

  it('records privileges, limits and pre-exec steps', () => {
    const plan = planOf(
      new Command('/bin/true')
        .setUmask(0)
        .setUID(1000)
        .setGID(100)
        .setGroups([100, 27])
        .clearCaps()
        .allowCap('CAP_NET_ADMIN')
        .allowCap(10)
        .setMaxProcesses(64)
        .setMaxMemLock(2 ** 53)
        .setMaxFiles(1024)
        .setMaxCoreSize(0)
        .setRlimit('RLIMIT_STACK', 8, Infinity)
        .setMaxFiles(777)
        .setNoNewPrivs()
        .setParentDeathSignal('SIGTERM')
        .setpgid()
        .setNice(5)
        .joinNamespace(9, 'net')
        .unshare(['uts', 'ipc'])
        .unshare(0x40000000)
        .joinCgroup('/sys/fs/cgroup/x')
        .chroot('/srv')
        .setPreExecHook({ library: '/lib/h.so', symbol: 'f', data: 'xy' })
        .nonblockingFDs(),
    );
    expect(plan).toMatchObject({
      umask: 0,
      uid: 1000,
      gid: 100,
      groups: [100, 27],
      clearCaps: true,
      keepCaps: [10, 12],
      rlimits: [
        { resource: 6, soft: 64, hard: 64 },
        { resource: 8, soft: -1, hard: -1 },
        { resource: 7, soft: 777, hard: 777 },
        { resource: 4, soft: 0, hard: 0 },
        { resource: 3, soft: 8, hard: -1 },
      ],
      noNewPrivs: true,
      parentDeathSignal: os.constants.signals.SIGTERM,
      pgid: 0,
      nice: 5,
      namespaces: [{ fd: 9, type: 0x40000000 }],
      unshareFlags: 0x04000000 | 0x08000000 | 0x40000000,
      cgroup: '/sys/fs/cgroup/x',
      chroot: '/srv',
      hook: { library: '/lib/h.so', symbol: 'f', data: Buffer.from('xy') },
      nonblocking: true,
    });
  });

  it('maps stdio', () => {
    const both = { value: '' };
    // fds that are open: a closed one is refused before native (run/context.ts)
    const [a, b, c] = [0, 1, 2].map(() => fs.openSync('/dev/null', 'r'));
    try {
      expect(
        planOf(
          new Command('/bin/true')
            .setInputBuffer(new Uint8Array([0, 1]))
            .setOutputFD(b)
            .setErrorBuffer(both),
        ),
      ).toMatchObject({
        stdin: { type: 'buffer', data: Buffer.from([0, 1]) },
        stdout: { type: 'fd', fd: b },
        stderr: { type: 'capture', maxBuffer: MAX_LENGTH },
      });
      expect(planOf(new Command('/bin/true').setInputFD(a).setOutputFD({ fd: c }).setErrorFD({ fd: c }))).toMatchObject({
        stdin: { type: 'fd', fd: a },
        stdout: { type: 'fd', fd: c },
        stderr: { type: 'fd', fd: c },
      });
    } finally {
      for (const fd of [a, b, c]) fs.closeSync(fd);
    }
    expect(planOf(new Command('/bin/true').daemonize().setPidFile('/run/p'))).toMatchObject({
      stdout: { type: 'null' },
      stderr: { type: 'null' },
      daemonize: true,
      pidFile: '/run/p',
    });
  });
});

describe('PATH resolution', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vircommand-path-'));
    for (const d of ['a', 'b', 'c']) fs.mkdirSync(path.join(dir, d));
    fs.writeFileSync(path.join(dir, 'a', 'prog'), '');
    fs.mkdirSync(path.join(dir, 'b', 'prog')); // a directory is no candidate
    fs.writeFileSync(path.join(dir, 'c', 'prog'), '');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true }));

  it('lists every regular file on the PATH, in order', () => {
    const p = ['a', 'b', 'missing', 'c', 'a'].map((d) => path.join(dir, d)).join(':');
    expect(resolveCandidates('prog', p)).toEqual([path.join(dir, 'a', 'prog'), path.join(dir, 'c', 'prog')]);
    expect(resolveCandidates('nothere', p)).toEqual([]);
  });

  it('keeps a name with a slash as given', () => {
    expect(resolveCandidates('./x/prog', '/bin')).toEqual(['./x/prog']);
    expect(resolveCandidates('/nope', '/bin')).toEqual(['/nope']);
  });

  it('uses the parent PATH, not the child env, and fails with ENOENT without spawning', () => {
    const saved = process.env.PATH;
    process.env.PATH = path.join(dir, 'c');
    try {
      const plan = planOf(new Command('prog').addEnvPair('PATH', path.join(dir, 'a')));
      expect(plan.candidates).toEqual([path.join(dir, 'c', 'prog')]);
      expect(plan.argv[0]).toBe('prog');
      const before = plans.length;
      let err: CommandError | undefined;
      try {
        new Command('vircommand-no-such-program').runSync();
      } catch (e) {
        err = e as CommandError;
      }
      expect(plans.length).toBe(before);
      expect(err).toMatchObject({ stage: 'exec', code: 'ENOENT', path: 'vircommand-no-such-program', exitStatus: 127 });
      expect(err?.message).toContain(path.join(dir, 'c'));
      expect(() => new Command('vircommand-no-such-program').runSync({ status: true })).toThrow(/^Cannot find 'vircommand-no-such-program' in PATH/);
    } finally {
      process.env.PATH = saved;
    }
  });
});
