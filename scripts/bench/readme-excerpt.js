'use strict';
// The performance excerpt of docs/performance.md (once the README's), taken from
// scripts/bench/results.md: the machine line, the targets and scenarios 1-2, headings one level
// up (## on that page). `npm run bench` writes it between the page's markers after a reference
// run (full, into scripts/bench/); test/unit/readme-bench checks that the page and results.md
// agree, so the docs never show figures of their own.

/** The page holding the excerpt, relative to the repository's root. */
const PAGE = 'docs/performance.md';

const BEGIN = '<!-- bench excerpt: written by `npm run bench` from scripts/bench/results.md -->';
const END = '<!-- end of bench excerpt -->';

/** The part of results.md the page shows. */
function excerpt(resultsMd) {
  const lines = resultsMd.split('\n');
  const from = lines.findIndex((l) => l.startsWith('Measured '));
  const to = lines.findIndex((l) => l.startsWith('#### 3.'));
  if (from < 0 || to < from) throw new Error('results.md: no "Measured" line or no scenario 3 heading');
  return lines
    .slice(from, to)
    .map((l) => l.replace(/^#### /, '## '))
    .join('\n')
    .trim();
}

/** The page's current excerpt (between the markers). */
function current(readme) {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${PAGE}: the bench excerpt markers are missing`);
  return readme.slice(a + BEGIN.length, b).trim();
}

/** The page's text with the excerpt replaced. */
function splice(readme, resultsMd) {
  current(readme); // throws without the markers
  const a = readme.indexOf(BEGIN) + BEGIN.length;
  const b = readme.indexOf(END);
  return `${readme.slice(0, a)}\n\n${excerpt(resultsMd)}\n\n${readme.slice(b)}`;
}

module.exports = { PAGE, BEGIN, END, excerpt, current, splice };
