#!/usr/bin/env node
// Builds the addon with cmake-js (CMakeLists.txt) into a directory of its own, never build/.
// cmake-js downloads Node's headers unless the npm config `nodedir` names a Node installation
// that has them; this script finds the installed headers and passes them on, so the build works
// offline whether or not it runs under npm.
// Usage: node scripts/cmake-build.js [--out DIR] [--asan]   (default out: build-cmake)
'use strict';
const { spawnSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const { findNodeDir } = require('./node-headers');

const ROOT = path.resolve(__dirname, '..');

function parseArgs(argv) {
  const opts = { out: 'build-cmake', asan: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--asan') opts.asan = true;
    else if (argv[i] === '--out' && i + 1 < argv.length) opts.out = argv[++i];
    else throw new Error(`unknown argument ${argv[i]} (usage: cmake-build.js [--out DIR] [--asan])`);
  }
  return opts;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const nodeDir = findNodeDir();
  const args = [
    require.resolve('cmake-js/bin/cmake-js'),
    'build',
    '--directory',
    ROOT,
    '--out',
    path.resolve(ROOT, opts.out),
    '--parallel',
    String(os.availableParallelism()),
    `--CDVIRCOMMAND_SANITIZE=${opts.asan ? 'ON' : 'OFF'}`,
  ];
  console.log(`cmake-build: Node headers from ${nodeDir}/include/node, output in ${opts.out}`);
  const r = spawnSync(process.execPath, args, {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, npm_config_nodedir: nodeDir },
  });
  if (r.error) throw r.error;
  process.exit(r.status ?? 1);
}

main();
