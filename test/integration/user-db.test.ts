/**
 * User and group names through the C library (src/user-db.ts, native/glue/user_db.cc):
 * getpwnam_r/getgrnam_r in the addon answer as getent(1) does, so any NSS source counts
 * (the CLI test shows a user known only to nss-systemd). No code of ours parses /etc/passwd.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lookupGroup, lookupUser } from '../../src/user-db';
import { REPO_ROOT } from '../helpers/build-helper';

// getent's answer (NSS, as the addon's): the fields of the entry, or null.
function getent(db: 'passwd' | 'group', name: string): string[] | null {
  try {
    return execFileSync('getent', [db, name], { encoding: 'utf8' }).trim().split(':');
  } catch {
    return null;
  }
}

describe('user and group names (getpwnam_r/getgrnam_r in the addon)', () => {
  it('resolves users as getent passwd does: root, nobody', () => {
    expect(lookupUser('root')).toEqual({ name: 'root', uid: 0, gid: 0 });
    const nobody = getent('passwd', 'nobody');
    expect(nobody).not.toBeNull();
    expect(lookupUser('nobody')).toEqual({ name: 'nobody', uid: Number(nobody![2]), gid: Number(nobody![3]) });
  });

  it('resolves groups as getent group does: root and the first group of /etc/group', () => {
    expect(lookupGroup('root')).toEqual({ name: 'root', gid: 0 });
    const first = fs
      .readFileSync('/etc/group', 'utf8')
      .split('\n')
      .find((l) => l && !l.startsWith('#') && !l.startsWith('root:'));
    expect(first).toBeDefined();
    const name = first!.split(':')[0];
    expect(lookupGroup(name)).toEqual({ name, gid: Number(getent('group', name)![2]) });
  });

  it('an unknown name is null, not an error; a numeric-looking name is a name', () => {
    expect(lookupUser('vircommand-no-such-user')).toBeNull();
    expect(lookupGroup('vircommand-no-such-group')).toBeNull();
    expect(lookupUser('4294967294')).toBeNull();
  });

  it('an empty name or a NUL byte is a TypeError naming the function', () => {
    expect(() => lookupUser('')).toThrow(/^lookupUser: argument 'name'/);
    expect(() => lookupGroup('ro\0ot')).toThrow(TypeError);
    expect(() => lookupUser(7 as unknown as string)).toThrow(TypeError);
  });

  it('no source file names /etc/passwd or /etc/group as a path to read (names go through the C library)', () => {
    const hits: string[] = [];
    const scan = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) scan(p);
        else if (/\.(ts|js|cc|h)$/.test(e.name) && /['"`]\/etc\/(passwd|group)\b/.test(fs.readFileSync(p, 'utf8'))) hits.push(path.relative(REPO_ROOT, p));
      }
    };
    scan(path.join(REPO_ROOT, 'src'));
    scan(path.join(REPO_ROOT, 'native'));
    expect(hits).toEqual([]);
  });
});
