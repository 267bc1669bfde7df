#!/usr/bin/env node
// `npm run prebuild`: the N-API prebuilds, made with prebuildify (--napi --strip --tag-libc)
// into prebuilds/<platform>-<arch>/vircommand.glibc.node, where node-gyp-build finds them.
//   node scripts/prebuild.js              this machine's arch, then linux-arm64 when the
//                                         Debian cross compiler (aarch64-linux-gnu-g++) is on
//                                         PATH (said either way); what `npm pack` runs
//   node scripts/prebuild.js --arch arm64 only linux-arm64, with that cross compiler; fails
//                                         without it (scripts/cross-arm64.sh)
// prebuildify compiles in <cwd>/build, so it runs in a scratch copy of the native sources: the
// shared build/ is never touched. Node's headers come from the local installation
// (scripts/node-headers.js), never from the network: an N-API addon compiled against the
// headers of this x64 Node is the same for an arm64 Node (the ABI is N-API's, not the headers').
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { findNodeDir } = require('./node-headers');

const ROOT = path.resolve(__dirname, '..');

// The cross toolchains this script knows, by Node's arch name: Debian's package and its prefix.
const CROSS = {
  arm64: { triplet: 'aarch64-linux-gnu', apt: 'g++-aarch64-linux-gnu' },
};

function onPath(cmd) {
  return (process.env.PATH || '').split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The environment that makes node-gyp (make) and prebuildify's strip use the cross tools. */
function crossEnv(arch) {
  if (arch === process.arch) return {};
  const cross = CROSS[arch];
  if (!cross) throw new Error(`prebuild: no cross toolchain known for arch '${arch}' (known: ${Object.keys(CROSS).join(', ')})`);
  const t = cross.triplet;
  if (!onPath(`${t}-g++`)) {
    throw new Error(`prebuild: ${t}-g++ is not on PATH; install Debian's ${cross.apt} (apt-get install ${cross.apt})`);
  }
  return {
    CC: `${t}-gcc`,
    CXX: `${t}-g++`,
    LINK: `${t}-g++`,
    AR: `${t}-ar`,
    PREBUILD_STRIP_BIN: `${t}-strip`,
  };
}

function build(arch, nodeDir) {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `vircommand-prebuild-${arch}-`));
  try {
    for (const name of ['package.json', 'binding.gyp']) fs.copyFileSync(path.join(ROOT, name), path.join(scratch, name));
    fs.cpSync(path.join(ROOT, 'native'), path.join(scratch, 'native'), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(scratch, 'node_modules'));
    const env = { ...process.env, npm_config_nodedir: nodeDir, ...crossEnv(arch) };
    const args = [require.resolve('prebuildify/bin.js'), '--napi', '--strip', '--tag-libc', '--arch', arch, '--target', process.versions.node, '--out', ROOT];
    const tools = env.CXX ? ` with ${env.CXX}` : '';
    console.log(`prebuild: linux-${arch}: compiling in ${scratch}${tools} against ${nodeDir}/include/node`);
    const r = spawnSync(process.execPath, args, { cwd: scratch, stdio: 'inherit', env });
    if (r.error) throw r.error;
    if (r.status !== 0) process.exit(r.status ?? 1);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  const dir = path.join(ROOT, 'prebuilds', `${process.platform}-${arch}`);
  for (const file of fs.readdirSync(dir)) {
    console.log(`prebuild: ${path.relative(ROOT, path.join(dir, file))} (${fs.statSync(path.join(dir, file)).size} bytes)`);
  }
}

function main(argv) {
  const i = argv.indexOf('--arch');
  const nodeDir = findNodeDir();
  if (i >= 0) {
    const arch = argv[i + 1];
    if (!arch) throw new Error('prebuild: --arch needs a value (e.g. --arch arm64)');
    build(arch, nodeDir);
    return;
  }
  build(process.arch, nodeDir);
  for (const [arch, cross] of Object.entries(CROSS)) {
    if (arch === process.arch) continue;
    if (onPath(`${cross.triplet}-g++`)) build(arch, nodeDir);
    else console.log(`prebuild: no ${cross.triplet}-g++ on PATH: no linux-${arch} prebuild (Debian's ${cross.apt} makes one)`);
  }
}

main(process.argv.slice(2));
