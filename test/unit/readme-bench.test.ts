/**
 * The performance figures of docs/performance.md are scripts/bench/results.md's, never typed by
 * hand: the excerpt between the page's markers is exactly what scripts/bench/readme-excerpt.js
 * takes from results.md (which `npm run bench` writes there after a reference run).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '..', '..');
const require = createRequire(__filename);
const bench = require('../../scripts/bench/readme-excerpt.js') as {
  PAGE: string;
  excerpt(resultsMd: string): string;
  current(readme: string): string;
  splice(readme: string, resultsMd: string): string;
};

describe('docs/performance.md: the benchmark excerpt', () => {
  const readme = fs.readFileSync(path.join(ROOT, bench.PAGE), 'utf8');
  const results = fs.readFileSync(path.join(ROOT, 'scripts', 'bench', 'results.md'), 'utf8');

  it('is the machine line, the summary of what holds and scenarios 1-2 of scripts/bench/results.md', () => {
    const shown = bench.current(readme);
    expect(shown).toBe(bench.excerpt(results));
    expect(shown).toMatch(/^Measured /);
    expect(shown).toMatch(/^## What holds on this machine$/m);
    expect(shown).toMatch(/^## 2\. Big parents/m);
    expect(shown).not.toMatch(/^#+ 3\./m);
  });

  it('is replaced whole when the results change, and only it', () => {
    const changed = results.replace(/^Measured \S+/m, 'Measured 2099-01-01');
    const out = bench.splice(readme, changed);
    expect(bench.current(out)).toMatch(/^Measured 2099-01-01/);
    const outside = (t: string) => t.replace(bench.current(t), '');
    expect(outside(out)).toBe(outside(readme));
  });
});
