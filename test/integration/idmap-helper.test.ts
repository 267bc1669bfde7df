/**
 * Id ranges for a caller without privileges: maps that name more than its own id go through
 * the setuid helpers newuidmap/newgidmap (package uidmap), which check /etc/subuid and
 * /etc/subgid. Run as throwaway system users made for this file (root only): one with a
 * subordinate range written here, one without; both removed afterwards with their lines.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { needsMapHelper } from '../../src/command/idmap-helper';
import { nobodyPackage, sanitizerEnv } from '../adversarial/support/nobody';
import { useInvariants } from '../helpers/invariants';
import { describeRoot } from '../helpers/root';
import { makeTmpDir } from '../helpers/tmp';

useInvariants();

describe('when a map needs the helper', () => {
  it("only for more than one id, or another id than the caller's own, and never for a privileged caller", () => {
    expect(needsMapHelper(null, 1000, false)).toBe(false);
    expect(needsMapHelper([{ inside: 0, outside: 1000, count: 1 }], 1000, false)).toBe(false);
    expect(needsMapHelper([{ inside: 0, outside: 1000, count: 2 }], 1000, false)).toBe(true);
    expect(needsMapHelper([{ inside: 0, outside: 1001, count: 1 }], 1000, false)).toBe(true);
    expect(
      needsMapHelper(
        [
          { inside: 0, outside: 1000, count: 1 },
          { inside: 1, outside: 100000, count: 65536 },
        ],
        1000,
        false,
      ),
    ).toBe(true);
    expect(needsMapHelper([{ inside: 0, outside: 200000, count: 65536 }], 0, true)).toBe(false);
  });

  it('a root caller writes ranges itself: no helper, whatever is installed', async (ctx) => {
    if (process.getuid?.() !== 0) return ctx.skip('needs root');
    const m = [{ inside: 0, outside: 200000, count: 65536 }];
    const r = await new Command('cat', '/proc/self/uid_map').unshare(['user']).setUidMappings(m).setGidMappings(m).run();
    expect(r.stdout.trim().split(/\s+/).map(Number)).toEqual([0, 200000, 65536]);
  });
});

const SCRIPT = `'use strict';
const { Command } = require(process.argv[2]);
const range = (outside) => [{ inside: 0, outside: process.getuid(), count: 1 }, { inside: 1, outside, count: 65536 }];
const grange = (outside) => [{ inside: 0, outside: process.getgid(), count: 1 }, { inside: 1, outside, count: 65536 }];
const failure = (e) => ({ stage: e.stage, code: e.code, path: e.path, message: e.message });
(async () => {
  const out = {};
  const base = Number(process.argv[3]);
  try {
    const r = await new Command('/bin/sh', '-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; touch /tmp/x 2>/dev/null; chown 5:5 /proc/self/fd/0 2>/dev/null; echo done')
      .unshare(['user']).setUidMappings(range(base)).setGidMappings(grange(base)).run();
    out.ok = r.stdout.trim().split('\\n').map((l) => l.trim().split(/\\s+/).join(' '));
  } catch (e) { out.ok = failure(e); }
  try {
    await new Command('/bin/true').unshare(['user']).setUidMappings(range(base + 1000000)).run();
    out.outside = null;
  } catch (e) { out.outside = failure(e); }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { process.stderr.write(String(e && e.stack)); process.exit(1); });
`;

describeRoot('newuidmap/newgidmap for a caller without privileges (root makes throwaway users)', () => {
  const withRange = `vc-map-${process.pid}`;
  const without = `vc-nomap-${process.pid}`;
  const BASE = 400000 + (process.pid % 1000) * 65536;
  let skip: string | null = null;
  let entry = '';
  let dir = '';
  const ids = (u: string) => ({
    uid: Number(execFileSync('id', ['-u', u], { encoding: 'utf8' })),
    gid: Number(execFileSync('id', ['-g', u], { encoding: 'utf8' })),
  });
  const dropLines = (file: string) => {
    if (!fs.existsSync(file)) return;
    const kept = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => !l.startsWith(`${withRange}:`) && !l.startsWith(`${without}:`));
    fs.writeFileSync(file, kept.join('\n'));
  };

  beforeAll(() => {
    if (!fs.existsSync('/usr/bin/newuidmap')) {
      skip = 'newuidmap is not installed (apt-get install uidmap; .ci/run installs it)';
      return;
    }
    const pkg = nobodyPackage();
    if ('reason' in pkg) {
      skip = pkg.reason;
      return;
    }
    entry = pkg.entry;
    // System users (-r): useradd adds no subordinate ranges for them; we add one for withRange.
    execFileSync('useradd', ['-r', '-M', '-U', '-s', '/usr/sbin/nologin', withRange]);
    execFileSync('useradd', ['-r', '-M', '-U', '-s', '/usr/sbin/nologin', without]);
    for (const file of ['/etc/subuid', '/etc/subgid']) fs.appendFileSync(file, `${withRange}:${BASE}:65536\n`);
    dir = makeTmpDir('vc-idmap-');
    fs.writeFileSync(path.join(dir, 'script.js'), SCRIPT);
    execFileSync('chmod', ['-R', 'a+rX', dir]);
    const probe = spawnSync('setpriv', [`--reuid=${ids(withRange).uid}`, `--regid=${ids(withRange).gid}`, '--clear-groups', 'unshare', '--user', 'true'], {
      encoding: 'utf8',
    });
    if (probe.status !== 0) skip = `unprivileged user namespaces are disabled here: ${probe.stderr.trim()}`;
  });
  afterAll(() => {
    dropLines('/etc/subuid');
    dropLines('/etc/subgid');
    spawnSync('userdel', [withRange]);
    spawnSync('userdel', [without]);
  });

  const runAs = (user: string, wrap: string[] = []) => {
    const { uid, gid } = ids(user);
    const argv = [...wrap, 'setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', process.execPath, path.join(dir, 'script.js'), entry, String(BASE)];
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', cwd: dir, env: { PATH: '/usr/bin:/bin', ...sanitizerEnv() } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return { uid, gid, out: JSON.parse(r.stdout) };
  };

  it('a range from /etc/subuid and /etc/subgid: written by the helpers, the program is root inside', (ctx) => {
    if (skip) return ctx.skip(skip);
    const { uid, gid, out } = runAs(withRange);
    expect(out.ok).toEqual(['0', '0', `0 ${uid} 1`, `1 ${BASE} 65536`, `0 ${gid} 1`, `1 ${BASE} 65536`, 'done']);
    // Beyond the range: newuidmap refuses; its reason is in the message, with the helper's path.
    expect(out.outside).toMatchObject({ stage: 'idmap', code: 'EPERM', path: '/usr/bin/newuidmap' });
    expect(out.outside.message).toMatch(/failed at stage 'idmap': EPERM \(Operation not permitted\): \/usr\/bin\/newuidmap \(newuidmap: .+\)$/);
    expect(out.outside.message).not.toMatch(/has no entry/);
  });

  it("no /etc/subuid entry: the helper's refusal, and the message says the entry is missing", (ctx) => {
    if (skip) return ctx.skip(skip);
    const { out } = runAs(without);
    expect(out.ok).toMatchObject({ stage: 'idmap', code: 'EPERM', path: '/usr/bin/newuidmap' });
    expect(out.ok.message).toMatch(new RegExp(`; /etc/subuid has no entry for ${without}\\)$`));
  });

  it('no helper installed: stage idmap, ENOENT, naming the helper and its package, before any child', (ctx) => {
    if (skip) return ctx.skip(skip);
    // newuidmap hidden in a private mount namespace (/dev/null over it: not a regular file).
    const hide = ['unshare', '-m', '/bin/sh', '-c', 'mount --make-rprivate / && mount --bind /dev/null /usr/bin/newuidmap && exec "$0" "$@"'];
    const { out } = runAs(withRange, hide);
    expect(out.ok).toMatchObject({ stage: 'idmap', code: 'ENOENT', path: 'newuidmap' });
    expect(out.ok.message).toMatch(
      /: newuidmap \(the map names more than your own uid \d+: without privileges that needs the setuid helper newuidmap \(package uidmap\)\)$/,
    );
  });
});
