'use strict';
// The README's performance excerpt, taken from scripts/bench/results.md: the machine line, the
// targets and scenarios 1-2, headings one level up. `npm run bench` writes it between the
// README's markers after a reference run (full, into scripts/bench/); test/unit/readme-bench
// checks that the README and results.md agree, so the README never shows figures of its own.

const BEGIN = '<!-- bench excerpt: written by `npm run bench` from scripts/bench/results.md -->';
const END = '<!-- end of bench excerpt -->';

/** The part of results.md the README shows. */
function excerpt(resultsMd) {
  const lines = resultsMd.split('\n');
  const from = lines.findIndex((l) => l.startsWith('Measured '));
  const to = lines.findIndex((l) => l.startsWith('#### 3.'));
  if (from < 0 || to < from) throw new Error('results.md: no "Measured" line or no scenario 3 heading');
  return lines.slice(from, to).map((l) => l.replace(/^#### /, '### ')).join('\n').trim();
}

/** The README's current excerpt (between the markers). */
function current(readme) {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error('README.md: the bench excerpt markers are missing');
  return readme.slice(a + BEGIN.length, b).trim();
}

/** README text with the excerpt replaced. */
function splice(readme, resultsMd) {
  current(readme);  // throws without the markers
  const a = readme.indexOf(BEGIN) + BEGIN.length;
  const b = readme.indexOf(END);
  return `${readme.slice(0, a)}\n\n${excerpt(resultsMd)}\n\n${readme.slice(b)}`;
}

module.exports = { BEGIN, END, excerpt, current, splice };
