'use strict';
// The addon's paths under valgrind memcheck (scripts/test-valgrind.sh runs this file under it):
// every synchronous path of the native code (plan conversion, pipes, the spawn, the child's
// setup steps up to exec, the poll() loop, capture, stdin feeding, timeouts and kills, error
// reports, result conversion), then a few asynchronous runs (uv_poll/uv_timer sessions), each
// checked by assertions. vitest cannot run under valgrind (its workers are forked by a parent
// valgrind does not follow), so this is a plain script: it prints one line per case and exits 1
// on the first failed assertion. Memory errors are judged afterwards from valgrind's logs
// (scripts/valgrind-check.js).
//
//   node test/valgrind/sync-paths.js [--rounds N]     (N: repeats of the sync cases, default 3)

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
const { Command, CommandError, pidAbort } = require('../..');

const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 3;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vc-valgrind-'));
const isRoot = process.getuid() === 0;

// A full GC without --expose-gc on the command line (test-valgrind.sh runs plain node).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

// Bytes with a pattern, and their ArrayBuffer taken away from the view (transferred, as to a
// Worker): the view then reads as empty, and the memory belongs to the returned clone.
function patterned(size) {
  const u8 = new Uint8Array(size);
  for (let i = 0; i < size; i++) u8[i] = (i * 13) & 0xff;
  return u8;
}
function transferAway(u8) {
  return structuredClone(u8, { transfer: [u8.buffer] });
}

function expectError(fn, check) {
  let caught = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof CommandError, `expected a CommandError, got ${caught}`);
  check(caught);
}

async function expectRejection(promise, check) {
  let caught = null;
  try {
    await promise;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof CommandError, `expected a CommandError, got ${caught}`);
  check(caught);
}

const syncCases = {
  'exit statuses'() {
    assert.equal(new Command('/bin/true').runSync().status, 0);
    assert.equal(new Command('/bin/sh', '-c', 'exit 3').runSync({ status: true }).status, 3);
    expectError(
      () => new Command('/bin/false').runSync(),
      (e) => assert.equal(e.exitStatus, 1),
    );
    const raw = new Command('/bin/sh', '-c', 'exit 2').rawStatus().runSync({ status: true });
    assert.equal(raw.status, 2 << 8);
  },
  'capture stdout and stderr, apart and interleaved'() {
    const r = new Command('/bin/sh', '-c', 'echo out; echo err >&2').setOutputBuffer().setErrorBuffer().runSync();
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const both = { value: undefined };
    new Command('/bin/sh', '-c', 'echo a; echo b >&2; echo c').setOutputBuffer(both).setErrorBuffer(both).runSync();
    assert.equal(both.value, 'a\nb\nc\n');
  },
  'stdin buffer of 1 MiB through cat'() {
    const data = Buffer.alloc(1 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const r = new Command('/bin/cat').setInputBuffer(data).setOutputBuffer().runSync({ encoding: 'buffer' });
    assert.ok(Buffer.compare(r.stdout, data) === 0, 'cat returned other bytes');
  },
  'a child that closes stdin early (EPIPE)'() {
    const r = new Command('/bin/sh', '-c', 'exec 0<&-; echo done')
      .setInputBuffer(Buffer.alloc(4 << 20, 1))
      .setOutputBuffer()
      .runSync();
    assert.equal(r.stdout, 'done\n');
  },
  'environment'() {
    process.env.VC_VALGRIND_PASS = 'passed';
    const r = new Command('/usr/bin/env').addEnvPair('A', '1').addEnvString('B=two=2').addEnvPass('VC_VALGRIND_PASS').setOutputBuffer().runSync();
    assert.deepEqual(r.stdout.trim().split('\n').sort(), ['A=1', 'B=two=2', 'VC_VALGRIND_PASS=passed']);
  },
  'setup failures report their stage'() {
    expectError(
      () => new Command('/nonexistent/vc').runSync(),
      (e) => {
        assert.equal(e.stage, 'exec');
        assert.equal(e.code, 'ENOENT');
      },
    );
    const noexec = path.join(tmp, 'noexec');
    fs.writeFileSync(noexec, '#!/bin/sh\n', { mode: 0o644 });
    if (isRoot) fs.chmodSync(noexec, 0o644);
    expectError(
      () => new Command(noexec).runSync(),
      (e) => assert.equal(e.stage, 'exec'),
    );
    expectError(
      () => new Command('/bin/true').setWorkingDirectory('/nonexistent/dir').runSync(),
      (e) => {
        assert.equal(e.stage, 'chdir');
        assert.equal(e.code, 'ENOENT');
      },
    );
  },
  'working directory, umask, rlimits'() {
    // Not setMaxFiles: valgrind refuses a child's change of RLIMIT_NOFILE's hard limit (EPERM).
    const r = new Command('/bin/sh', '-c', 'pwd; umask; grep -E "^Max (core file size|processes)" /proc/self/limits')
      .setWorkingDirectory(tmp)
      .setUmask(0o027)
      .setMaxCoreSize(0)
      .setMaxProcesses(4321)
      .setOutputBuffer()
      .runSync();
    const lines = r.stdout.split('\n');
    assert.deepEqual(lines.slice(0, 2), [fs.realpathSync(tmp), '0027']);
    assert.match(lines[2], /^Max core file size\s+0\s+0\s/);
    assert.match(lines[3], /^Max processes\s+4321\s+4321\s/);
  },
  'timeout kills the child'() {
    expectError(
      () => new Command('/bin/sleep', '30').runSync({ timeout: 300, killGrace: 100 }),
      (e) => {
        assert.equal(e.timedOut, true);
        assert.equal(e.signal, 'SIGTERM');
      },
    );
  },
  'maxBuffer stops a chatty child'() {
    expectError(
      () => new Command('/usr/bin/yes').setOutputBuffer().runSync({ maxBuffer: 100000 }),
      (e) => {
        assert.equal(e.stdout.length, 100000);
      },
    );
  },
  'fds: passFD, output to an fd'() {
    const file = path.join(tmp, 'out.txt');
    const fd = fs.openSync(file, 'w');
    const passed = fs.openSync(tmp, 'r');
    try {
      new Command('/bin/sh', '-c', `readlink /proc/self/fd/${passed}; echo to-out`).passFD(passed).setOutputFD(fd).runSync();
    } finally {
      fs.closeSync(fd);
      fs.closeSync(passed);
    }
    assert.equal(fs.readFileSync(file, 'utf8'), `${tmp}\nto-out\n`);
  },
  // Not E2BIG: valgrind cannot recover when the kernel's execve fails for a reason its own
  // checks did not foresee ("EXEC FAILED: I can't recover"), and kills the child.
  'many arguments'() {
    const many = Array.from({ length: 2000 }, (_, i) => `arg${i}`);
    const r = new Command('/bin/echo').addArgSet(many).setOutputBuffer().runSync();
    assert.equal(r.stdout, `${many.join(' ')}\n`);
  },
  'daemon with a pidfile'() {
    const pidfile = path.join(tmp, 'daemon.pid');
    new Command('/bin/sleep', '30').daemonize().setPidFile(pidfile).runSync();
    const pid = Number(fs.readFileSync(pidfile, 'utf8'));
    assert.ok(pid > 1);
    process.kill(pid, 'SIGKILL');
    expectError(
      () => new Command('/bin/true').setPidFile(pidfile).runSync(),
      () => {},
    );
  },
  'input and send buffers are copied at the call: a transferred Uint8Array still sends its bytes'() {
    const input = patterned(300000);
    const send = patterned(200000);
    const want = [Buffer.from(input), Buffer.from(send)];
    const cmd = new Command('/bin/sh', '-c', 'cat; cat <&3').setInputBuffer(input).setSendBuffer(3, send).setOutputBuffer();
    transferAway(input);
    transferAway(send);
    assert.equal(input.byteLength + send.byteLength, 0);
    const r = cmd.runSync({ encoding: 'buffer' });
    assert.ok(Buffer.compare(r.stdout, Buffer.concat(want)) === 0, 'the child read other bytes');
    assert.throws(() => new Command('/bin/cat').setInputBuffer(input), { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' });
  },
  'captures over 1 MiB become external Buffers, also cut at maxBuffer'() {
    const r = new Command('/bin/sh', '-c', 'head -c 3000000 /dev/zero; head -c 1500000 /dev/zero >&2').runSync({ encoding: 'buffer' });
    assert.equal(r.stdout.length, 3000000);
    assert.equal(r.stderr.length, 1500000);
    expectError(
      () => new Command('/usr/bin/yes').runSync({ maxBuffer: 2500000, encoding: 'buffer' }),
      (e) => {
        assert.equal(e.code, 'ERR_CHILD_MAX_BUFFER');
        assert.equal(e.stdout.length, 2500000);
      },
    );
  },
  'send buffers, scheduling, labels'() {
    const data = Buffer.alloc(3 << 20, 7);
    const r = new Command('/bin/sh', '-c', 'wc -c <&3; wc -c <&4; grep Cpus_allowed_list /proc/self/status')
      .setSendBuffer(3, data)
      .setSendBuffer(4, 'four')
      .setCpuAffinity([0])
      .setMemoryPolicy('default')
      .setOutputBuffer()
      .runSync();
    assert.match(r.stdout, /^3145728\n4\nCpus_allowed_list:\s+0\n$/);
    assert.equal(new Command('/bin/true').setSendBuffer(5, data).runSync().status, 0); // never read
    expectError(
      () => new Command('/bin/true').setSELinuxLabel('not a context').runSync(),
      (e) => assert.equal(e.stage, 'selinux'),
    );
  },
  'credentials and capabilities (as root)'() {
    if (!isRoot) return 'not root';
    const r = new Command('/bin/sh', '-c', 'id -u; id -g; grep -E "^Cap(Eff|Bnd)" /proc/self/status')
      .setUID(65534)
      .setGID(65534)
      .clearCaps()
      .setOutputBuffer()
      .runSync();
    assert.match(r.stdout, /^65534\n65534\nCapEff:\s+0+\nCapBnd:\s+0+\n$/);
    return undefined;
  },
};

const asyncCases = {
  async 'run() captures'() {
    const r = await new Command('/bin/sh', '-c', 'echo out; echo err >&2').setOutputBuffer().setErrorBuffer().run();
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  },
  async 'run() with stdin and a failure'() {
    const r = await new Command('/bin/cat').setInputBuffer('x'.repeat(300000)).setOutputBuffer().run();
    assert.equal(r.stdout.length, 300000);
    await expectRejection(new Command('/nonexistent/vc').run(), (e) => assert.equal(e.stage, 'exec'));
  },
  async 'runAsync, wait, abort'() {
    const c = new Command('/bin/sh', '-c', 'exit 4');
    c.runAsync();
    assert.equal((await c.wait({ status: true })).status, 4);
    const s = new Command('/bin/sleep', '30');
    s.runAsync();
    s.abort();
    await expectRejection(new Command('/bin/sleep', '30').run({ timeout: 200, killGrace: 100 }), (e) => {
      assert.equal(e.timedOut, true);
    });
  },
  async 'FdRef pipe'() {
    const ref = { fd: -1 };
    const c = new Command('/bin/echo', 'piped').setOutputFD(ref);
    c.runAsync();
    assert.ok(ref.fd > 2);
    assert.equal(fs.readFileSync(ref.fd, 'utf8'), 'piped\n');
    fs.closeSync(ref.fd);
    await c.wait();
  },
  async 'handshake'() {
    const c = new Command('/bin/echo', 'after-handshake').requireHandshake().setOutputBuffer();
    c.runAsync();
    await c.handshakeWait();
    await c.handshakeNotify();
    const r = await c.wait();
    assert.equal(r.stdout, 'after-handshake\n');
  },
  async 'send buffers on the event loop'() {
    const r = await new Command('/bin/sh', '-c', 'wc -c <&3').setSendBuffer(3, Buffer.alloc(3 << 20, 1)).run();
    assert.equal(r.stdout, '3145728\n');
    const c = new Command('/bin/true').setSendBuffer(6, Buffer.alloc(3 << 20, 1));
    c.runAsync();
    assert.equal((await c.wait()).status, 0);
  },
  async 'input and send buffers transferred and collected while run() feeds them'() {
    let input = patterned(4 << 20);
    let send = patterned(4 << 20);
    const want = Buffer.concat([Buffer.from(input), Buffer.from(send)]);
    const running = new Command('/bin/sh', '-c', 'sleep 1; cat; cat <&3').setInputBuffer(input).setSendBuffer(3, send).run({ encoding: 'buffer' });
    await new Promise((r) => setTimeout(r, 300)); // spawned: the event loop feeds both pipes
    let clones = [transferAway(input), transferAway(send)];
    // eslint-disable-next-line no-unused-vars -- dropped, not read: gc() below must be able to collect the buffers
    input = send = clones = null;
    gc();
    const other = Buffer.alloc(16 << 20, 0x5a);
    const r = await running;
    assert.ok(Buffer.compare(r.stdout, want) === 0, 'the child read other bytes');
    assert.equal(other[0], 0x5a);
  },
  async 'run() capture over 1 MiB (an external Buffer from the event loop)'() {
    const r = await new Command('/bin/sh', '-c', 'head -c 3000000 /dev/zero').run({ encoding: 'buffer' });
    assert.equal(r.stdout.length, 3000000);
  },
  async 'released pid'() {
    const pidfile = path.join(tmp, 'daemon2.pid');
    new Command('/bin/sleep', '30').daemonize().setPidFile(pidfile).runSync();
    pidAbort(Number(fs.readFileSync(pidfile, 'utf8')));
  },
};

async function main() {
  let n = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, fn] of Object.entries(syncCases)) {
      const skipped = fn();
      if (round === 1) console.log(skipped ? `skip ${name}: ${skipped}` : `ok   ${name}`);
      n++;
    }
  }
  for (const [name, fn] of Object.entries(asyncCases)) {
    await fn();
    console.log(`ok   ${name} (async)`);
    n++;
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(
    `valgrind sync paths: ${n} case runs passed (${ROUNDS} rounds of ${Object.keys(syncCases).length} sync cases, ${Object.keys(asyncCases).length} async)`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
