#!/usr/bin/env bash
# Runs the test suite against another build of the addon than build/: a cmake-js output
# directory (DIR/Release/vircommand.node, from `npm run build:cmake` or `npm run build:asan`).
#   bash scripts/test-binary.sh DIR [vitest arguments...]
# The loader (src/native.ts) goes through node-gyp-build, which honours VIRCOMMAND_PREBUILD=D:
# it then looks in D/build/Release and D/prebuilds instead of the package root, and nowhere
# else. DIR/loader is such a D holding only this binary, so the suite cannot fall back to
# build/ or prebuilds/; the resolved path is checked before the run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [vitest args...]" >&2; exit 2; }
dir=$(cd "$1" && pwd)
shift
binary="$dir/Release/vircommand.node"
[ -f "$binary" ] || { echo "test-binary: $binary is missing: build it first" >&2; exit 1; }

loader="$dir/loader"
mkdir -p "$loader/build/Release"
ln -sfn "$binary" "$loader/build/Release/vircommand.node"
export VIRCOMMAND_PREBUILD="$loader"

resolved=$(cd "$root" && node -e "process.stdout.write(require('node-gyp-build').path('.'))")
if [ "$resolved" != "$loader/build/Release/vircommand.node" ]; then
  echo "test-binary: the loader would use $resolved, not $binary" >&2
  exit 1
fi
echo "test-binary: running the suite against $binary"
cd "$root"
exec node node_modules/vitest/vitest.mjs run "$@"
