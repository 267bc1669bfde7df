/**
 * The caller's entry in /etc/subuid or /etc/subgid, for the hint of a refused newuidmap or
 * newgidmap (stage 'idmap'). The helpers themselves are the judges (they may also ask NSS);
 * this only says what is missing from the files.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';

/** '; /etc/subuid has no entry for USER' when the file names neither the caller's name nor uid; else ''. */
export function subordinateHint(helperPath: string): string {
  const file = helperPath.endsWith('newgidmap') ? '/etc/subgid' : '/etc/subuid';
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    // missing or unreadable: no entry
  }
  const me = os.userInfo();
  const has = text.split('\n').some((l) => l.startsWith(`${me.username}:`) || l.startsWith(`${me.uid}:`));
  return has ? '' : `; ${file} has no entry for ${me.username}`;
}
