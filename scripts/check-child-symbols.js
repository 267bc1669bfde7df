#!/usr/bin/env node
// Lists the undefined symbols of the child-zone objects (native/child/*.cc, built into the
// vircommand_child static library) and fails if any is not on the allow-list: the code between
// clone() and execve() may call only async-signal-safe functions and raw syscalls.
// Usage: node scripts/check-child-symbols.js [build dir]   (default: build)
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

// Every entry is on POSIX's async-signal-safe list (signal-safety(7)) or is the raw syscall(2)
// entry point; the *64 names are glibc's large-file aliases of the same calls.
const ALLOWED = new Set([
  'syscall',
  '__errno_location',
  '_exit',
  'execve',
  'chdir',
  'close',
  'dup2',
  'read',
  'write',
  'unlink',
  'open',
  'open64',
  'openat',
  'openat64',
  'fcntl',
  'fcntl64',
  'fstat',
  'fstat64',
  'stat',
  'stat64',
  'ftruncate',
  'ftruncate64',
  'memcpy',
  'memset',
  'strlen', // emitted by the compiler for struct copies; pure functions
]);
// Our own functions, all defined in the child zone or pure (StageName reads a static table).
const OWN = /^_ZN10vircommand/;

function findLibrary(buildDir) {
  for (const config of ['Release', 'Debug']) {
    const lib = path.join(buildDir, config, 'vircommand_child.a');
    if (fs.existsSync(lib)) return lib;
  }
  const cmake = path.join(buildDir, 'libvircommand_child.a');
  if (fs.existsSync(cmake)) return cmake;
  throw new Error(`no vircommand_child library under ${buildDir}: build the addon first`);
}

function undefinedSymbols(lib) {
  const out = execFileSync('nm', ['-u', lib], { encoding: 'utf8' });
  const symbols = new Set();
  for (const line of out.split('\n')) {
    const m = line.trim().match(/^U\s+(\S+)/);
    if (m) symbols.add(m[1].replace(/@.*$/, ''));
  }
  return [...symbols].sort();
}

function main() {
  const lib = findLibrary(path.resolve(process.argv[2] || 'build'));
  const symbols = undefinedSymbols(lib);
  const bad = symbols.filter((s) => !ALLOWED.has(s) && !OWN.test(s));
  if (bad.length > 0) {
    console.error(`child zone calls functions that are not allowed: ${bad.join(', ')}`);
    process.exit(1);
  }
  console.log(`child zone: ${symbols.length} undefined symbols, all allowed (${lib})`);
}

if (require.main === module) main();
module.exports = { ALLOWED, undefinedSymbols, findLibrary };
