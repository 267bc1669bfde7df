#!/usr/bin/env node
// A smoke test of a prebuilt binary, run by scripts/cross-arm64.sh with an arm64 Node under
// qemu-user: the package (dist/ and prebuilds/<platform>-<arch>/, PREBUILDS_ONLY=1 so the
// x64 build/Release is never picked) loads, and the four things every user does work:
// runSync with capture, await run() with capture, a daemon with a pidfile, and stopping it.
// Prints PASS or FAIL per step; exits 1 if any step failed. Plain JS (no vitest): it must run
// on the emulated Node alone.
//   PREBUILDS_ONLY=1 node test/smoke/arm64-smoke.js [--expect-arch arm64]
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const i = process.argv.indexOf('--expect-arch');
const expectArch = i >= 0 ? process.argv[i + 1] : process.arch;
const results = [];

async function step(name, fn) {
  try {
    const detail = await fn();
    results.push(true);
    console.log(`PASS ${name}${detail ? `: ${detail}` : ''}`);
    return true;
  } catch (err) {
    results.push(false);
    const e = /** @type {any} */ (err);
    const where = e && e.stage ? ` (stage ${e.stage}, errno ${e.errno}${e.code ? ` ${e.code}` : ''})` : '';
    console.log(`FAIL ${name}${where}: ${e && e.message ? e.message.split('\n')[0] : String(e)}`);
    return false;
  }
}

function check(cond, what) {
  if (!cond) throw new Error(what);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return /** @type {any} */ (e).code === 'EPERM';
  }
}

async function waitGone(pid, ms) {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !isAlive(pid);
}

async function main() {
  console.log(`arm64-smoke: node ${process.version} ${process.platform}-${process.arch}, expecting ${expectArch}`);
  let vc;
  const loaded = await step('load the package (dist/ + the prebuilt addon)', () => {
    check(process.arch === expectArch, `this node is ${process.arch}, not ${expectArch}`);
    vc = require(ROOT);
    // The package loads the addon as it is imported, and keeps a failure for the first call
    // that needs it: readPidFile() of a missing file is such a call, and throws that failure.
    check(vc.readPidFile(path.join(os.tmpdir(), `vircommand-smoke-none-${process.pid}.pid`)) === null, 'readPidFile of a missing file');
    const want = `prebuilds/${process.platform}-${expectArch}/vircommand.glibc.node`;
    const after = fs.readFileSync('/proc/self/maps', 'utf8').match(/\S*vircommand[^\s/]*\.node/);
    check(after, `no vircommand .node is mapped (wanted ${want})`);
    check(after[0].endsWith(want), `loaded ${after[0]}, not ${want}`);
    return path.relative(ROOT, after[0]);
  });
  if (!loaded) return;

  await step("runSync(['/bin/echo', 'hi']) with capture", () => {
    const r = new vc.Command('/bin/echo', 'hi').runSync();
    check(r.status === 0, `status ${r.status}`);
    check(r.stdout === 'hi\n', `stdout ${JSON.stringify(r.stdout)}`);
    return `stdout ${JSON.stringify(r.stdout)}, status ${r.status}`;
  });

  await step('await run() with capture of stdout and stderr', async () => {
    const r = await new vc.Command('/bin/sh', '-c', 'echo out; echo err >&2; exit 3').run({ status: true });
    check(r.status === 3, `status ${r.status}`);
    check(r.stdout === 'out\n', `stdout ${JSON.stringify(r.stdout)}`);
    check(r.stderr === 'err\n', `stderr ${JSON.stringify(r.stderr)}`);
    return `stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}, status ${r.status}`;
  });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vircommand-smoke-'));
  const pidfile = path.join(dir, 'sleep.pid');
  let pid = null;
  try {
    await step('a daemon with a pidfile: daemonize().setPidFile(path), await run()', async () => {
      await new vc.Command('/bin/sleep', '300').daemonize().setPidFile(pidfile).run();
      pid = vc.readPidFile(pidfile);
      check(pid !== null, `readPidFile(${pidfile}) is null: ${JSON.stringify(fs.readFileSync(pidfile, 'utf8'))}`);
      check(isAlive(pid), `pid ${pid} is not running`);
      const ppid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      check(ppid !== process.pid, `the daemon's parent is this process (${ppid}): not daemonized`);
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      check(cmdline.includes('300'), `pid ${pid} runs ${JSON.stringify(cmdline)}, not sleep 300`);
      return `pid ${pid} (parent ${ppid}), ${cmdline.filter(Boolean).join(' ')}`;
    });
    if (pid !== null) {
      await step('stop the daemon: killByPidFile(pidfile, SIGTERM, { wait, remove })', async () => {
        const r = await vc.killByPidFile(pidfile, 'SIGTERM', { wait: 10000, force: true, remove: true });
        check(await waitGone(pid, 5000), `pid ${pid} still runs`);
        check(!fs.existsSync(pidfile), 'the pidfile was not removed');
        return JSON.stringify(r);
      });
    }
  } finally {
    if (pid !== null && isAlive(pid)) process.kill(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main()
  .catch((e) => {
    results.push(false);
    console.log(`FAIL (unexpected) ${e && e.stack}`);
  })
  .finally(() => {
    const failed = results.filter((ok) => !ok).length;
    console.log(`arm64-smoke: ${results.length - failed} passed, ${failed} failed`);
    process.exitCode = failed ? 1 : 0;
  });
