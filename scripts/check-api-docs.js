#!/usr/bin/env node
// Checks the committed API reference (docs/api/, Markdown made by TypeDoc from the JSDoc of
// src/index.ts's exports) against the sources: TypeDoc runs into a scratch directory with the
// project's typedoc.json, whose validation (every export documented, no broken {@link}, no
// referenced type left unexported) counts warnings as errors; then every file must be the same
// as in docs/api/, with none missing or extra.
// Usage: node scripts/check-api-docs.js   (npm run docs:api:check; `npm run docs:api` remakes docs/api/)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const COMMITTED = path.join(ROOT, 'docs', 'api');

function listFiles(dir, prefix = '') {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = path.posix.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path.join(dir, entry.name), rel));
    else out.push(rel);
  }
  return out.sort();
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vircommand-api-docs.'));
try {
  const typedoc = path.join(path.dirname(require.resolve('typedoc/package.json', { paths: [ROOT] })), 'bin', 'typedoc');
  const run = spawnSync(process.execPath, [typedoc, '--out', scratch], { cwd: ROOT, encoding: 'utf8' });
  const output = `${run.stdout}${run.stderr}`;
  // eslint-disable-next-line no-control-regex -- TypeDoc colours its output: ESC [ ... m sequences removed
  const warned = /\[(warning|error)\]/.test(output.replace(/\x1b\[[0-9;]*m/g, ''));
  if (run.status !== 0 || warned) {
    process.stderr.write(output);
    console.error(
      `check-api-docs: TypeDoc ${run.status !== 0 ? `exited with status ${run.status}` : 'warned'}: fix what it names (an export without JSDoc, a {@link} to nothing, a type used but not exported), then \`npm run docs:api\``,
    );
    process.exit(1);
  }
  const made = listFiles(scratch);
  const committed = listFiles(COMMITTED);
  const missing = made.filter((f) => !committed.includes(f));
  const extra = committed.filter((f) => !made.includes(f));
  const changed = made.filter((f) => committed.includes(f) && !fs.readFileSync(path.join(scratch, f)).equals(fs.readFileSync(path.join(COMMITTED, f))));
  if (missing.length || extra.length || changed.length) {
    if (missing.length) console.error(`not in docs/api/ (TypeDoc makes them): ${missing.join(', ')}`);
    if (extra.length) console.error(`in docs/api/ but TypeDoc no longer makes them: ${extra.join(', ')}`);
    if (changed.length) console.error(`differ from what TypeDoc makes now: ${changed.join(', ')}`);
    console.error('check-api-docs: docs/api/ is out of date with the JSDoc: run `npm run docs:api` and commit docs/api/');
    process.exit(1);
  }
  console.log(`check-api-docs: docs/api/ (${made.length} files) is what TypeDoc makes from the JSDoc; no warnings`);
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
