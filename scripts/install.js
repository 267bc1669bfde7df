#!/usr/bin/env node
// The package's npm "install" script (shipped in the tarball). Use the prebuild when one loads
// here; otherwise compile the addon with node-gyp against the running Node's own headers, so
// the install never downloads anything.
//  - "loads": node-gyp-build picks build/Release or prebuilds/<platform>-<arch>/ and the binary
//    is dlopen()ed in a separate node, so a prebuild for another libc or an older kernel/glibc
//    falls through to the build instead of failing later at require() time.
//    `npm install --build-from-source` (npm_config_build_from_source=true) skips the prebuild.
//  - node-gyp: the one npm hands to lifecycle scripts (npm_config_node_gyp), else one on PATH.
//  - headers: npm_config_nodedir when the user set it (node-gyp reads it itself); else the
//    running Node's prefix when it holds this Node's include/node (scripts/node-headers.js);
//    else node-gyp's default, which downloads them (said on stderr first).
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { runningNodeDir } = require('./node-headers');

const ROOT = path.resolve(__dirname, '..');

function binaryLoads() {
  const probe = `require(require.resolve('node-gyp-build', { paths: [${JSON.stringify(ROOT)}] }))(${JSON.stringify(ROOT)})`;
  const r = spawnSync(process.execPath, ['-e', probe], { cwd: ROOT, stdio: 'ignore' });
  return r.status === 0;
}

function nodeGypCommand() {
  const js = process.env.npm_config_node_gyp;
  return js ? [process.execPath, js] : ['node-gyp'];
}

function main() {
  const fromSource = process.env.npm_config_build_from_source === 'true';
  if (!fromSource && binaryLoads()) return 0;
  const args = ['rebuild'];
  if (!process.env.npm_config_nodedir) {
    const dir = runningNodeDir();
    if (dir) args.push(`--nodedir=${dir}`);
    else
      console.error(
        `vircommand: no headers of Node ${process.version} beside ${process.execPath}; node-gyp will download them (set npm_config_nodedir to avoid it)`,
      );
  }
  const [cmd, ...pre] = nodeGypCommand();
  const why = fromSource ? '--build-from-source' : 'no prebuild for this platform';
  console.error(`vircommand: building from source (${why}): ${[cmd, ...pre, ...args].join(' ')}`);
  const r = spawnSync(cmd, [...pre, ...args], { cwd: ROOT, stdio: 'inherit' });
  if (r.error) {
    console.error(`vircommand: cannot run node-gyp (${r.error.message}); a C++ toolchain (g++, make, python3) and node-gyp are needed to build from source`);
    return 1;
  }
  return r.status ?? 1;
}

process.exitCode = main();
