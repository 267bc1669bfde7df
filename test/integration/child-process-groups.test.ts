/**
 * What the README says of child_process, checked on this Node: with `uid` or `gid` set,
 * child_process (libuv) drops every supplementary group of the parent (setgroups(0, NULL)), so
 * the child has none; without them it keeps the parent's. vircommand instead gives the child the
 * user's groups (getgrouplist) or setGroups()'s (test/adversarial/credentials.test.ts).
 * The parent is a node process started by setpriv with groups 0,4,27,100; as root only.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeRoot } from '../helpers/root';

const PARENT_GROUPS = [0, 4, 27, 100];
const NOBODY = 65534;

// Prints, as JSON, the Groups line of /proc/self/status of a cat run by spawnSync and by spawn
// with each set of options.
const SCRIPT = `
const cp = require('node:child_process');
const groupsOf = (text) => /^Groups:(.*)$/m.exec(text)[1].trim().split(/\\s+/).filter(Boolean).map(Number);
const cases = { none: {}, uid: { uid: ${NOBODY} }, gid: { gid: ${NOBODY} }, both: { uid: ${NOBODY}, gid: ${NOBODY} } };
(async () => {
  const out = { parent: groupsOf(require('node:fs').readFileSync('/proc/self/status', 'utf8')) };
  for (const [name, opts] of Object.entries(cases)) {
    const r = cp.spawnSync('cat', ['/proc/self/status'], { ...opts, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(name + ': ' + (r.error || r.stderr));
    out['spawnSync ' + name] = groupsOf(r.stdout);
    const child = cp.spawn('cat', ['/proc/self/status'], opts);
    let text = '';
    child.stdout.on('data', (d) => { text += d; });
    await new Promise((resolve, reject) => { child.on('error', reject); child.on('close', resolve); });
    out['spawn ' + name] = groupsOf(text);
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && fs.existsSync(path.join(dir, program)));
}

describeRoot("child_process with uid/gid drops the supplementary groups (the README's comparison)", () => {
  it('a parent with groups 0,4,27,100: spawnSync/spawn children have none with uid, gid or both; all four without', (ctx) => {
    if (!onPath('setpriv')) {
      console.warn('[skip] child_process groups: setpriv (util-linux) not installed');
      ctx.skip();
    }
    const r = spawnSync('setpriv', ['--groups', PARENT_GROUPS.join(','), '--', process.execPath, '-e', SCRIPT], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const seen = JSON.parse(r.stdout) as Record<string, number[]>;
    const sorted = (g: number[]): number[] => [...g].sort((a, b) => a - b);
    expect(sorted(seen.parent), "precondition: the parent's groups").toEqual(PARENT_GROUPS);
    for (const api of ['spawnSync', 'spawn']) {
      expect(sorted(seen[`${api} none`]), `${api} without uid/gid keeps the parent's groups`).toEqual(PARENT_GROUPS);
      for (const opts of ['uid', 'gid', 'both']) expect(seen[`${api} ${opts}`], `${api} with ${opts}`).toEqual([]);
    }
  });
});
