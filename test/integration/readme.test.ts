/**
 * Every JavaScript block of README.md and of the pages of docs/ that requires 'vircommand' runs as
 * written, in its own node process, and prints what its comments say: a
 * `console.log(...); // expected` line (or a `// expected` comment line right after a
 * console.log) must match the next line printed, with `...` standing for any text. A block with a
 * `// needs: ...` line naming root, a static busybox or user namespaces is skipped, saying why,
 * where this machine lacks one of them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/build-helper';
import { PACKAGE_ENTRY, TS_REGISTER } from '../helpers/node-child';
import { useInvariants } from '../helpers/invariants';
import { staticBusybox } from '../helpers/busybox-root';

useInvariants();

/** The markdown files whose examples run: the front page, then every page of docs/. */
const DOC_FILES = [
  'README.md',
  ...fs
    .readdirSync(path.join(REPO_ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];

/** The runnable blocks of one file. */
function examplesOf(file: string): string[] {
  const text = fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
  return [...text.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).filter((code) => code.includes("require('vircommand')"));
}

const examples = DOC_FILES.flatMap((file) => examplesOf(file).map((code, i) => [file, i + 1, code] as const));

/** The outputs the comments promise, in order. */
function expectedLines(code: string): string[] {
  const out: string[] = [];
  const lines = code.split('\n');
  lines.forEach((line, i) => {
    if (!line.includes('console.log(')) return;
    const inline = line.match(/\);\s*\/\/ (.*)$/);
    const next = lines[i + 1]?.match(/^\s*\/\/ (.*)$/);
    if (inline) out.push(inline[1].trim());
    else if (next) out.push(next[1].trim());
  });
  return out;
}

/** Why a block's `// needs:` line cannot be met here, or null. */
function unmetNeeds(code: string): string | null {
  const needs = code.match(/^\/\/ needs: (.*)$/m)?.[1];
  if (needs === undefined) return null;
  if (/^root\b/.test(needs) && process.getuid?.() !== 0) return `its needs: line asks for root, and this run is uid ${process.getuid?.()}`;
  if (needs.includes('a static busybox')) {
    const bb = staticBusybox();
    if ('reason' in bb) return bb.reason;
    if (bb.path !== '/bin/busybox') return `the example copies /bin/busybox, and busybox is at ${bb.path}`;
  }
  if (!needs.includes('user namespaces')) return null;
  const probe = spawnSync('unshare', ['--user', '--map-root-user', 'true'], { encoding: 'utf8' });
  return probe.status === 0 ? null : `no user namespaces here: ${(probe.stderr || probe.error?.message || '').trim()}`;
}

function toPattern(expected: string): RegExp {
  const escaped = expected.split('...').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

describe('README and docs/ examples', () => {
  it('has examples to run: the quick start and the five recipes on the front page, more in docs/', () => {
    expect(examplesOf('README.md').length).toBeGreaterThanOrEqual(6);
    expect(examples.length - examplesOf('README.md').length).toBeGreaterThanOrEqual(8);
  });

  it('the test sees a needs: line that asks only for user namespaces', () => {
    const code = examplesOf('README.md').find((c) => /^\/\/ needs: user namespaces/m.test(c));
    expect(code, 'the namespaces recipe').toBeDefined();
  });

  it.for(examples)('%s example %i runs and prints what it says', ([file, n, code], ctx) => {
    const unmet = unmetNeeds(code);
    if (unmet !== null) {
      console.warn(`[skip] ${file} example ${n}: ${unmet}`);
      ctx.skip();
      return;
    }
    const script = code.replace("require('vircommand')", 'require(process.env.VC_TEST_ENTRY)');
    const r = spawnSync(process.execPath, ['-r', TS_REGISTER, '-e', script], {
      env: { PATH: '/usr/bin:/bin', VC_TEST_ENTRY: PACKAGE_ENTRY },
      encoding: 'utf8',
      timeout: 20000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const printed = r.stdout.split('\n').filter((l) => l !== '');
    const wanted = expectedLines(code);
    expect(printed).toHaveLength(wanted.length);
    wanted.forEach((w, i) => expect(printed[i]).toMatch(toPattern(w)));
  });
});
