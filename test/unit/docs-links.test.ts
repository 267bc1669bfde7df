/**
 * The Markdown the package ships (README.md, docs/**: the list is npm's own, from
 * `npm pack --dry-run --json`) has no broken link, on GitHub nor in the unpacked tarball:
 * - a relative link names a file (or a directory) that exists AND is in the tarball: a link to
 *   src/*.ts, test/ or scripts/ works in a clone and is dead for whoever reads the installed package;
 * - a #anchor exists in the target: a heading's GitHub slug (with -1, -2 for repeats) or an
 *   explicit <a id>;
 * - an http(s) link is a well-formed URL (not fetched: the tests run without network); other
 *   schemes and absolute paths are refused.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/build-helper';
import { githubSlug, markdownAnchors, markdownLinks } from '../helpers/markdown-links';

/** The package's files, as npm would pack them (no scripts run: the list does not depend on them). */
function shippedFiles(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [pack] = JSON.parse(out) as { files: { path: string }[] }[];
  return pack.files.map((f) => f.path).sort();
}

type ReadFile = (file: string) => string | null;

/** Every problem with the links of `file` (a path in the package, '/'-separated), one line each. */
function linkProblems(file: string, text: string, shipped: Set<string>, read: ReadFile): string[] {
  const problems: string[] = [];
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (target: string): Set<string> | null => {
    if (!anchorsOf.has(target)) {
      const content = target === file ? text : read(target);
      if (content === null) return null;
      anchorsOf.set(target, markdownAnchors(content));
    }
    return anchorsOf.get(target) ?? null;
  };
  const isShippedDir = (dir: string): boolean => [...shipped].some((f) => f.startsWith(`${dir}/`));

  for (const { line, target } of markdownLinks(text)) {
    const where = `${file}:${line}: ${target || '(empty link)'}`;
    if (target === '') {
      problems.push(`${where}: empty link target`);
      continue;
    }
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(target)?.[1].toLowerCase();
    if (scheme !== undefined) {
      if (scheme === 'mailto') continue;
      if (scheme !== 'http' && scheme !== 'https') {
        problems.push(`${where}: scheme '${scheme}:' (only http, https, mailto and relative links)`);
        continue;
      }
      let url: URL | null = null;
      try {
        url = new URL(target);
      } catch {
        // reported below
      }
      if (url === null || !url.hostname.includes('.') || /[\s<>"{}|\\^`]/.test(target)) problems.push(`${where}: not a well-formed URL`);
      continue;
    }
    if (target.startsWith('/')) {
      problems.push(`${where}: absolute path (GitHub and npm resolve it against their own site): use a relative link`);
      continue;
    }
    const hash = target.indexOf('#');
    const pathPart = (hash < 0 ? target : target.slice(0, hash)).replace(/\?.*$/, '');
    const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
    let dest = file;
    if (pathPart !== '') {
      dest = path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURIComponent(pathPart))).replace(/\/$/, '');
      if (dest === '..' || dest.startsWith('../')) {
        problems.push(`${where}: points outside the package`);
        continue;
      }
      const onDisk = fs.existsSync(path.join(REPO_ROOT, dest));
      if (!shipped.has(dest) && !isShippedDir(dest)) {
        problems.push(`${where}: ${dest} ${onDisk ? 'exists in the repository but is not in the npm tarball' : 'does not exist'}`);
        continue;
      }
    }
    if (anchor === null) continue;
    if (!dest.endsWith('.md')) {
      problems.push(`${where}: an anchor into ${dest}, which is not Markdown`);
      continue;
    }
    const ids = anchors(dest);
    if (ids === null) problems.push(`${where}: cannot read ${dest}`);
    else if (!ids.has(anchor)) problems.push(`${where}: no heading or anchor '#${anchor}' in ${dest}`);
  }
  return problems;
}

const readPackageFile: ReadFile = (file) => {
  try {
    return fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
  } catch {
    return null;
  }
};

describe('GitHub heading slugs', () => {
  it('lower case, punctuation but - and _ dropped, spaces to -', () => {
    expect(githubSlug("The child's steps in order")).toBe('the-childs-steps-in-order');
    expect(githubSlug('Users, host names, id maps and seccomp')).toBe('users-host-names-id-maps-and-seccomp');
    expect(githubSlug('Coming from child_process or execa')).toBe('coming-from-child_process-or-execa');
    expect(githubSlug('runAsync() / wait()')).toBe('runasync--wait');
    expect(githubSlug('Set-up & test')).toBe('set-up--test');
  });

  it('rendered text (code spans, emphasis, links) is what is slugged; repeats get -1, -2', () => {
    const ids = markdownAnchors(
      [
        '# `setUID(uid)` and *groups*',
        '## Options',
        'text',
        '## Options',
        '## Options-1',
        '## Options',
        'A [linked](x.md) heading',
        '---',
        '```',
        '# not a heading (in a fence)',
        '```',
        '<a id="custom-id"></a>',
      ].join('\n'),
    );
    expect([...ids].sort()).toEqual(['a-linked-heading', 'custom-id', 'options', 'options-1', 'options-1-1', 'options-2', 'setuiduid-and-groups'].sort());
  });
});

describe('the link checker', () => {
  it('reports each kind of broken link and passes the good ones', () => {
    const shipped = new Set(['README.md', 'docs/guide.md', 'dist/index.js']);
    const files: Record<string, string> = { 'docs/guide.md': '# Guide\n## Daemons and pidfiles\n' };
    const text = [
      '# Top',
      '[ok](docs/guide.md#daemons-and-pidfiles) [ok](#top) [ok](dist/) [ok](https://nodejs.org/api/)',
      '[src](src/index.ts) [gone](docs/nothing.md) [anchor](docs/guide.md#daemons) [self](#nowhere)',
      '[bad url](https://exa mple.com) [ftp](ftp://x.org/f) [abs](/docs/guide.md) [up](../x.md)',
      '`[in code](src/index.ts)` \\[escaped\\](src/index.ts)',
      '[^1]: a footnote, not a link',
      '[ref]: docs/guide.md#nope',
    ].join('\n');
    const problems = linkProblems('README.md', text, shipped, (f) => files[f] ?? null);
    expect(problems).toEqual([
      'README.md:3: src/index.ts: src/index.ts exists in the repository but is not in the npm tarball',
      'README.md:3: docs/nothing.md: docs/nothing.md does not exist',
      "README.md:3: docs/guide.md#daemons: no heading or anchor '#daemons' in docs/guide.md",
      "README.md:3: #nowhere: no heading or anchor '#nowhere' in README.md",
      'README.md:4: https://exa: not a well-formed URL',
      "README.md:4: ftp://x.org/f: scheme 'ftp:' (only http, https, mailto and relative links)",
      'README.md:4: /docs/guide.md: absolute path (GitHub and npm resolve it against their own site): use a relative link',
      'README.md:4: ../x.md: points outside the package',
      "README.md:7: docs/guide.md#nope: no heading or anchor '#nope' in docs/guide.md",
    ]);
  });
});

describe('the shipped Markdown has no broken links', () => {
  const shipped = shippedFiles();
  const markdown = shipped.filter((f) => f.endsWith('.md'));

  it('npm ships README.md and the docs/ pages', () => {
    expect(markdown).toContain('README.md');
    expect(markdown.filter((f) => f.startsWith('docs/')).length).toBeGreaterThan(0);
  });

  it.each(markdown)('%s', (file) => {
    const text = readPackageFile(file);
    expect(text, `${file} is in npm's list but cannot be read`).not.toBeNull();
    expect(linkProblems(file, text as string, new Set(shipped), readPackageFile)).toEqual([]);
  });
});
