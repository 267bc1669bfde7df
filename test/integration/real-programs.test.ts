/**
 * A real daemon started the way libvirt's network driver starts it: dnsmasq,
 * which forks into the background itself and writes its own pidfile without
 * a lock. Then the pidfile helpers find and stop it: readPidFile() and
 * killByPidFile() with `exe`, as libvirt reads dnsmasq's pidfile with
 * virPidFileReadPathIfAlive. And the documented limit of our own pidfile
 * lock: dnsmasq kept in the foreground under daemonize().setPidFile() closes
 * every fd at start, so its lock is gone and only `exe` can vouch for it.
 *
 * dnsmasq comes from Debian's dnsmasq-base (.ci/run installs it); where it
 * is not installed, the tests say so and skip.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Command, killByPidFile, readPidFile } from '../../src/index';
import { killPids } from '../helpers/daemon';
import { useInvariants } from '../helpers/invariants';
import { isAlive, openFds, waitFor } from '../helpers/proc';
import { isRoot } from '../helpers/root';
import { useTmpDir } from '../helpers/tmp';

useInvariants();
const tmp = useTmpDir('vc-real-');

const DNSMASQ = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'].find((p) => fs.existsSync(p));
const why = !DNSMASQ
  ? 'dnsmasq is not installed (Debian: apt-get install dnsmasq-base; .ci/run installs it)'
  : !isRoot
    ? 'dnsmasq drops to its own user and binds sockets: run as root'
    : null;
if (why) console.warn(`[real-programs] skipped: ${why}`);

const started = new Set<number>();
afterEach(async () => {
  await killPids(started);
});

// What libvirt's network driver writes into the conf file it gives dnsmasq, cut down to what
// runs without a bridge: no DNS port, no DHCP range, its own pidfile, stays root.
function confFile(pidFile: string): string {
  const conf = path.join(tmp.path, 'net.conf');
  fs.writeFileSync(conf, ['strict-order', 'port=0', 'user=root', `pid-file=${pidFile}`, 'except-interface=lo', 'bind-dynamic', ''].join('\n'));
  return conf;
}

describe.skipIf(why !== null)('dnsmasq as libvirt starts it', () => {
  it('run() returns once dnsmasq has forked; its own (unlocked) pidfile is trusted through exe', async () => {
    const pidFile = path.join(tmp.path, 'default.pid');
    const cmd = new Command(DNSMASQ!).addArgFormat('--conf-file=%s', confFile(pidFile)).addArg('--leasefile-ro').addEnvPair('VIR_BRIDGE_NAME', 'virbr-test');
    const r = await cmd.run();
    expect(r.exitStatus).toBe(0);
    expect(await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').endsWith('\n'), 5000)).toBe(true);

    expect(readPidFile(pidFile, { lock: true })).toBeNull(); // dnsmasq takes no lock
    const pid = readPidFile(pidFile, { exe: DNSMASQ! });
    expect(pid).toBeGreaterThan(1);
    started.add(pid!);
    // The environment we gave it, and none of our fds: dnsmasq's own sockets and /dev/null only.
    const env = fs.readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
    expect(env).toContain('VIR_BRIDGE_NAME=virbr-test');
    expect([...openFds(pid!).values()].filter((t) => !/^(socket|pipe|anon_inode):|^\/dev\/null$/.test(t))).toEqual([]);

    expect(await killByPidFile(pidFile, 'SIGTERM')).toMatchObject({ outcome: 'not-locked', signals: [] });
    const stop = await killByPidFile(pidFile, 'SIGTERM', { exe: DNSMASQ!, wait: 5000, force: true });
    expect(stop).toMatchObject({ outcome: 'signalled', pid, trustedBy: 'exe', signals: ['SIGTERM'], exited: true });
    expect(isAlive(pid!)).toBe(false);
  });

  it('kept in the foreground under daemonize().setPidFile(), it closes every fd and so loses our lock', async () => {
    const pidFile = path.join(tmp.path, 'fg.pid');
    // A clean environment, as libvirt gives dnsmasq (and no sanitizer preload from an ASan pass).
    await new Command(DNSMASQ!, '--keep-in-foreground', '--conf-file=/dev/null', '--port=0', '--user=root')
      .addEnvPair('PATH', '/usr/sbin:/usr/bin:/bin')
      .daemonize()
      .setPidFile(pidFile)
      .run();
    const pid = readPidFile(pidFile);
    expect(pid).toBeGreaterThan(1);
    started.add(pid!);
    // Our daemon wrote and locked the file; dnsmasq then closed that fd, and the lock went with it.
    expect(await waitFor(() => readPidFile(pidFile, { lock: true }) === null, 5000)).toBe(true);
    expect(await killByPidFile(pidFile, 'SIGTERM')).toMatchObject({ outcome: 'not-locked', signals: [] });
    expect(isAlive(pid!)).toBe(true);
    const stop = await killByPidFile(pidFile, 'SIGTERM', { exe: DNSMASQ!, wait: 5000, force: true, remove: true });
    expect(stop).toMatchObject({ outcome: 'signalled', trustedBy: 'exe', exited: true, removed: true });
    expect(fs.existsSync(pidFile)).toBe(false);
  });
});
