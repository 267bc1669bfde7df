#!/usr/bin/env node
// `npm run prebuild`: the N-API prebuild for this platform, made with prebuildify
// (--napi --strip --tag-libc) into prebuilds/<platform>-<arch>/vircommand.glibc.node, where
// node-gyp-build finds it. prebuildify compiles in <cwd>/build, so it runs in a scratch copy
// of the native sources: the shared build/ is never touched. Node's headers come from the
// local installation (scripts/node-headers.js), never from the network.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { findNodeDir } = require('./node-headers');

const ROOT = path.resolve(__dirname, '..');

function main() {
  const nodeDir = findNodeDir();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'vircommand-prebuild-'));
  try {
    for (const name of ['package.json', 'binding.gyp']) fs.copyFileSync(path.join(ROOT, name), path.join(scratch, name));
    fs.cpSync(path.join(ROOT, 'native'), path.join(scratch, 'native'), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(scratch, 'node_modules'));
    const args = [
      require.resolve('prebuildify/bin.js'),
      '--napi', '--strip', '--tag-libc',
      '--target', process.versions.node,
      '--out', ROOT,
    ];
    console.log(`prebuild: compiling in ${scratch} against ${nodeDir}/include/node`);
    const r = spawnSync(process.execPath, args, {
      cwd: scratch,
      stdio: 'inherit',
      env: { ...process.env, npm_config_nodedir: nodeDir },
    });
    if (r.error) throw r.error;
    if (r.status !== 0) process.exit(r.status ?? 1);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  const dir = path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`);
  for (const file of fs.readdirSync(dir)) {
    console.log(`prebuild: ${path.relative(ROOT, path.join(dir, file))} (${fs.statSync(path.join(dir, file)).size} bytes)`);
  }
}

main();
