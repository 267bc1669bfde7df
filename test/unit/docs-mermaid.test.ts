/**
 * The mermaid pictures of the shipped Markdown (README.md, docs/). Whether they parse is checked
 * with Mermaid's own parser by scripts/check-mermaid.js (`npm run docs:mermaid:check`, run by
 * .ci/run: mermaid is 232 MB of node_modules, too big to be a devDependency, so npm test has no
 * parser). What can be checked without it is here:
 * - the script's fence reader finds every ```mermaid block (a block it missed would never be
 *   parsed, and the check would pass without looking), skips a mermaid example shown inside
 *   another fence, and refuses a fence left open;
 * - docs/child-steps.md numbers the child's steps as native/child/child_exec.cc does: its picture
 *   and its list in words have the steps 1 to N in order, N being the code's numbered steps, so a
 *   step added to (or removed from) the code fails here until the page follows.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '..', '..');
const require = createRequire(__filename);
const check = require('../../scripts/check-mermaid.js') as {
  markdownFiles(): string[];
  mermaidBlocks(text: string): { line: number; text: string }[];
};

const read = (rel: string): string => fs.readFileSync(path.join(ROOT, rel), 'utf8');
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('the mermaid blocks that scripts/check-mermaid.js parses', () => {
  it('are every ```mermaid fence of README.md and docs/, found at its opening line', () => {
    const counts: Record<string, number> = {};
    for (const file of check.markdownFiles()) {
      const rel = path.relative(ROOT, file).split(path.sep).join('/');
      const text = fs.readFileSync(file, 'utf8');
      // Every line that opens a mermaid fence, by a plain look at the lines.
      const fences = text
        .split('\n')
        .map((line, i) => (/^ {0,3}(`{3,}|~{3,})\s*mermaid\s*$/.test(line) ? i + 1 : 0))
        .filter((n) => n > 0);
      expect(
        check.mermaidBlocks(text).map((b) => b.line),
        `${rel}: the blocks the script reads`,
      ).toEqual(fences);
      if (fences.length > 0) counts[rel] = fences.length;
    }
    // The pictures the docs have today: the README's overview, the child's steps, the daemon and
    // the handshake, a run's life.
    expect(counts).toMatchObject({ 'README.md': 1, 'docs/child-steps.md': 1, 'docs/daemons-and-pidfiles.md': 2, 'docs/running.md': 1 });
  });

  it('leave out a mermaid example inside another fence, and a fence left open is an error', () => {
    const text = [
      'text',
      '```mermaid',
      'flowchart LR',
      '  A --> B',
      '```',
      '',
      '````markdown',
      '```mermaid',
      'an example, not a picture',
      '```',
      '````',
      '~~~mermaid',
      'sequenceDiagram',
      '  A->>B: hi',
      '~~~',
    ].join('\n');
    expect(check.mermaidBlocks(text)).toEqual([
      { line: 2, text: 'flowchart LR\n  A --> B' },
      { line: 12, text: 'sequenceDiagram\n  A->>B: hi' },
    ]);
    expect(() => check.mermaidBlocks('text\n```mermaid\nflowchart LR\n  A --> B\n')).toThrow(/line 2: the ``` fence is never closed/);
  });
});

describe('docs/child-steps.md numbers the steps of native/child/child_exec.cc', () => {
  const code = read('native/child/child_exec.cc');
  const page = read('docs/child-steps.md');
  const steps = [...code.matchAll(/^\s*\/\/ (\d+)\. /gm)].map((m) => Number(m[1]));

  it('the code numbers its steps 1 to N', () => {
    expect(steps.length).toBeGreaterThan(0);
    expect(steps).toEqual(range(steps.length));
  });

  it('the picture has a node "step K" for each, chained in that order', () => {
    const [picture] = check.mermaidBlocks(page);
    const nodes = [...picture.text.matchAll(/\bS(\d+)\["step (\d+): /g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(nodes).toEqual(range(steps.length).map((k) => [k, k]));
    const links = [...picture.text.matchAll(/\bS(\d+)\[[^\]]*\] --> S(\d+)\b/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(links).toEqual(range(steps.length - 1).map((k) => [k, k + 1]));
  });

  it('the list in words has an item for each, in that order', () => {
    const words = page.slice(page.indexOf('The steps, in words'));
    const items = [...words.matchAll(/^(\d+)\. /gm)].map((m) => Number(m[1]));
    expect(items).toEqual(range(steps.length));
  });
});
