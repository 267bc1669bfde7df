#!/usr/bin/env node
// Checks that every ```mermaid block of the shipped Markdown (README.md and docs/**/*.md) parses
// with the real Mermaid parser, so a picture GitHub would show as "Unable to render" never ships.
// It validates without rendering: mermaid.parse(text) in Node, with happy-dom as the DOM that
// Mermaid's sanitizer (DOMPurify) needs for some diagram types (stateDiagram-v2); no browser.
//
// Why a script with its own scratch install, not a devDependency and a vitest test: mermaid is
// large. mermaid@12.4.0 with happy-dom@21.0.4 is 125 packages and 232 MB of node_modules (mermaid
// alone 130 MB: bundles, chunks and source maps; mermaid@11.17.2 is no lighter, 177 MB), about
// 12 s to install from a cold npm cache, for three diagram types in five blocks. That would
// more than double every `npm ci` and every checkout's node_modules. (@mermaid-js/parser, the
// small Langium parser, parses only the newer diagram types: info, pie, packet, gitGraph, ...,
// not flowchart, sequenceDiagram or stateDiagram.) So the check installs the pinned versions
// below into a fresh scratch directory (mkdtemp, mode 0700, removed afterwards: never a reused
// /tmp path someone else could have filled), with install scripts off, and .ci/run runs it once.
// MERMAID_CHECK_DEPS=<dir> names a directory where those versions are already installed
// (npm install --prefix <dir> mermaid@... happy-dom@...), to check again without the download.
//
// Before trusting a pass it checks the parser itself: a valid block of each diagram type must
// be accepted and blocks with deliberate syntax errors (a link with no target, an unbalanced
// bracket, a message with no colon, a transition with no target) must be rejected. A fence
// left open fails the check (everything after it would be read as code).
// Mermaid 12 declares node >= 22.12; its parser runs on Node 20 (this project's floor), and npm
// says so with an EBADENGINE warning only.
// Usage: node scripts/check-mermaid.js [file.md ...]   (npm run docs:mermaid:check; files
// given: those instead of the shipped ones)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const { createRequire } = require('node:module');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const ROOT = path.join(__dirname, '..');
const PINNED = { mermaid: '12.4.0', 'happy-dom': '21.0.4' };

// Blocks the parser must accept (it is not rejecting everything, e.g. for a missing DOM) and
// blocks it must reject (a pass means something), one or more per diagram type the docs use.
const MUST_PARSE = [
  'flowchart LR\n  A["a, b"] -->|label| B\n  B -. dotted .-> C',
  'sequenceDiagram\n  participant N as Node\n  N->>C: message\n  C-->>N: reply',
  'stateDiagram-v2\n  state "long name" as S\n  [*] --> S: why\n  S --> [*]',
];
const MUST_FAIL = [
  ['flowchart: a link with no target', 'flowchart LR\n  A --> B\n  B -->'],
  ['flowchart: an unbalanced bracket', 'flowchart LR\n  A["open --> B'],
  ['sequenceDiagram: a message with no colon', 'sequenceDiagram\n  A->>B hello'],
  ['stateDiagram-v2: a transition with no target', 'stateDiagram-v2\n  [*] --> A\n  A -->'],
];

function markdownFiles() {
  const out = [path.join(ROOT, 'README.md')];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.md')) out.push(full);
    }
  };
  walk(path.join(ROOT, 'docs'));
  return out;
}

// The ```mermaid blocks of one Markdown file, each with the line of its opening fence. A fence
// of another language is skipped whole (a mermaid example inside it is text, not a picture).
function mermaidBlocks(text) {
  const lines = text.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)/.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !close.test(lines[end])) end++;
    if (end === lines.length) throw new Error(`line ${i + 1}: the ${fence} fence is never closed`);
    if (open[2] === 'mermaid') blocks.push({ line: i + 1, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

function installPinned() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vircommand-mermaid.'));
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "private": true }\n');
  const specs = Object.entries(PINNED).map(([name, version]) => `${name}@${version}`);
  console.log(`check-mermaid: npm install ${specs.join(' ')} into ${dir}`);
  const npm = spawnSync('npm', ['install', '--prefix', dir, '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', ...specs], {
    stdio: 'inherit',
  });
  if (npm.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`npm install of ${specs.join(' ')} failed (${npm.error ? npm.error.message : `status ${npm.status}`})`);
  }
  return dir;
}

async function loadMermaid(dir) {
  const req = createRequire(path.join(dir, 'package.json'));
  for (const [name, version] of Object.entries(PINNED)) {
    const found = req(`${name}/package.json`).version;
    if (found !== version) throw new Error(`${dir} has ${name}@${found}, not the pinned ${version}`);
  }
  const { Window } = req('happy-dom');
  const window = new Window();
  globalThis.window = window;
  globalThis.document = window.document;
  // mermaid is ESM only: import the file its package.json exports as the module entry.
  const pkgDir = path.dirname(req.resolve('mermaid/package.json'));
  const entry = require(path.join(pkgDir, 'package.json')).exports['.'].import;
  const mermaid = (await import(pathToFileURL(path.join(pkgDir, entry)).href)).default;
  mermaid.initialize({ startOnLoad: false });
  return { mermaid, close: () => window.happyDOM.close() };
}

// null when the text parses, else the parser's message.
async function parseError(mermaid, text) {
  try {
    await mermaid.parse(text);
    return null;
  } catch (err) {
    return String(err && err.message ? err.message : err);
  }
}

async function main() {
  const files = process.argv.length > 2 ? process.argv.slice(2).map((f) => path.resolve(f)) : markdownFiles();
  const found = [];
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    for (const block of mermaidBlocks(text)) found.push({ file: path.relative(ROOT, file), ...block });
  }

  const own = process.env.MERMAID_CHECK_DEPS;
  const dir = own ? path.resolve(own) : installPinned();
  let failures = 0;
  try {
    const { mermaid, close } = await loadMermaid(dir);
    try {
      for (const text of MUST_PARSE) {
        const error = await parseError(mermaid, text);
        if (error) throw new Error(`the parser rejects a valid block, so its verdicts mean nothing:\n${text}\n${error}`);
      }
      for (const [what, text] of MUST_FAIL) {
        if ((await parseError(mermaid, text)) === null) throw new Error(`the parser accepts ${what}, so a pass would prove nothing:\n${text}`);
      }
      for (const block of found) {
        const error = await parseError(mermaid, block.text);
        if (error) {
          failures++;
          console.error(`${block.file}:${block.line}: this mermaid block does not parse:\n${error}\n`);
        }
      }
    } finally {
      await close();
    }
  } finally {
    if (!own) fs.rmSync(dir, { recursive: true, force: true });
  }
  if (failures) {
    console.error(`check-mermaid: ${failures} of ${found.length} mermaid blocks do not parse (mermaid@${PINNED.mermaid})`);
    process.exit(1);
  }
  const where = [...new Set(found.map((b) => b.file))].join(', ');
  console.log(
    `check-mermaid: ${found.length} mermaid blocks parse with mermaid@${PINNED.mermaid} (${where || 'none found'}); ` +
      `the parser accepted ${MUST_PARSE.length} valid samples and rejected ${MUST_FAIL.length} broken ones`,
  );
}

// The fence reader and the file list are checked by npm test (test/unit/docs-mermaid.test.ts),
// which has no mermaid to parse with.
module.exports = { markdownFiles, mermaidBlocks, MUST_PARSE, MUST_FAIL };

if (require.main === module) {
  main().catch((err) => {
    console.error(`check-mermaid: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  });
}
