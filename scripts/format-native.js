#!/usr/bin/env node
// clang-format over native/ (its .cc and .h), with the style in .clang-format.
//   node scripts/format-native.js           rewrite the files in place (npm run format:native)
//   node scripts/format-native.js --check   list the files that differ and fail (npm run format:native:check)
// clang-format comes from the npm package `clang-format` (a devDependency, so `npm ci` is all
// `npm test` needs; it bundles clang-format 15 for linux-x64). Where its binary cannot run
// (another platform), this fails and says how to point it at a system one: VC_CLANG_FORMAT.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const check = process.argv.includes('--check');

function clangFormat() {
  if (process.env.VC_CLANG_FORMAT) return process.env.VC_CLANG_FORMAT;
  try {
    const pkg = path.dirname(require.resolve('clang-format/package.json'));
    const bin = path.join(pkg, 'bin', `${process.platform}_${process.arch}`, 'clang-format');
    if (fs.existsSync(bin)) return bin;
  } catch {
    // not installed: reported below
  }
  return null;
}

function nativeFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return nativeFiles(p);
    return /\.(cc|h)$/.test(e.name) ? [path.relative(ROOT, p)] : [];
  });
}

const bin = clangFormat();
const files = nativeFiles(path.join(ROOT, 'native')).sort();
const args = check ? ['--dry-run', '--Werror', '--ferror-limit=1', ...files] : ['-i', ...files];
const r = bin === null ? null : spawnSync(bin, args, { cwd: ROOT, encoding: 'utf8' });
if (r === null || r.error) {
  const why = r === null ? `the npm package clang-format has no binary for ${process.platform}-${process.arch}` : r.error.message;
  console.error(`format-native: cannot run clang-format (${why}). Run \`npm ci\`, or set VC_CLANG_FORMAT to a clang-format (15 or later).`);
  process.exit(2);
}
if (!check) {
  process.stderr.write(r.stderr);
  process.exit(r.status ?? 1);
}
const differing = [...new Set([...r.stderr.matchAll(/^(native\/[^:]+):\d+:\d+: error/gm)].map((m) => m[1]))];
if (r.status === 0 && differing.length === 0) {
  console.log(`format-native: ${files.length} files of native/ as clang-format writes them`);
  process.exit(0);
}
console.error(
  `format-native: ${differing.length} of ${files.length} files of native/ differ from clang-format's output (npm run format:native rewrites them):`,
);
for (const f of differing) console.error(`  ${f}`);
if (differing.length === 0) process.stderr.write(r.stderr);
process.exit(1);
