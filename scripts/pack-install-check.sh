#!/usr/bin/env bash
# The package as users get it: `npm pack`, then install the tarball into an empty folder
# offline, with no compiler on PATH, and use it from CommonJS, ESM, TypeScript and the CLI.
#   bash scripts/pack-install-check.sh        (npm run test:pack)
# Steps:
#  1. npm run prebuild (prebuilds/linux-x64/vircommand.glibc.node); skip with
#     VIRCOMMAND_PACK_SKIP_PREBUILD=1 to pack the prebuild already there.
#  2. npm run build:ts, then npm pack; the tarball holds exactly the files whitelist: dist,
#     prebuilds, native, binding.gyp, README, LICENSE.
#  3. A scratch npm cache gets the one runtime dependency (node-gyp-build, the locked version)
#     from the registry; then `npm install --offline` of the tarball into an empty folder, in a
#     clean environment whose PATH holds node, npm and coreutils only, plus cc/c++/gcc/g++/make/
#     python3 stand-ins that record any call and fail. The install must not compile.
#  4. Smoke tests in that environment: require() and import spawn /bin/echo and load the
#     prebuild; ESM and CJS share one module; the bin runs; the loader's error without a
#     prebuild names what it tried. Then a TypeScript consumer (.cts and .mts) type-checks
#     against the installed .d.ts files.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vircommand-pack.XXXXXX")
trap 'rm -rf "$work"' EXIT
step() { printf '\n--- pack-install-check: %s\n' "$*"; }
fail() { printf 'pack-install-check: FAIL: %s\n' "$*" >&2; exit 1; }

cd "$root"
if [ "${VIRCOMMAND_PACK_SKIP_PREBUILD:-}" != 1 ]; then
  step "prebuild"
  npm run prebuild
fi
prebuild="prebuilds/linux-$(node -p process.arch)/vircommand.glibc.node"
[ -f "$prebuild" ] || fail "$prebuild is missing (npm run prebuild)"

step "build dist/ and npm pack"
npm run build:ts
npm pack --json --ignore-scripts --pack-destination "$work" > "$work/pack.json"
tgz="$work/$(node -p "require('$work/pack.json')[0].filename")"
node - "$work/pack.json" "$prebuild" <<'EOF'
const [packJson, prebuild] = process.argv.slice(2);
const files = require(packJson)[0].files.map((f) => f.path);
const required = ['package.json', 'binding.gyp', 'dist/index.js', 'dist/index.mjs', 'dist/index.d.ts',
  'dist/cli.js', prebuild, 'native/child/child_exec.cc', 'native/glue/addon.cc'];
const missing = required.filter((f) => !files.includes(f));
const allowed = /^(package\.json|binding\.gyp|README\.md|LICENSE|dist\/|prebuilds\/|native\/)/;
const stray = files.filter((f) => !allowed.test(f));
console.log(`tarball: ${files.length} files`);
if (missing.length) { console.error(`missing from the tarball: ${missing.join(', ')}`); process.exit(1); }
if (stray.length) { console.error(`outside the files whitelist: ${stray.join(', ')}`); process.exit(1); }
for (const f of ['README.md', 'LICENSE']) if (!files.includes(f)) console.warn(`warning: ${f} is not in the tarball`);
EOF

step "scratch npm cache: node-gyp-build"
cache="$work/npm-cache"
ngb=$(node -p "require('./package-lock.json').packages['node_modules/node-gyp-build'].version")
npm cache add "node-gyp-build@$ngb" --cache "$cache" --no-audit --no-fund

# A PATH with node, npm and basic tools only; build tools are stand-ins that record calls.
tools="$work/bin"
mkdir -p "$tools" "$work/home"
for t in node sh bash env cat ls mkdir rm cp mv chmod ln sed grep head tail dirname basename \
         readlink realpath uname mktemp tr cut sort id touch true false echo; do
  p=$(command -v "$t" || true)
  [ -n "$p" ] && [ "${p#/}" != "$p" ] && ln -s "$p" "$tools/$t"
done
ln -s "$(readlink -f "$(command -v npm)")" "$tools/npm"
tripwire="$work/tripwire.log"
for t in cc c++ gcc g++ clang clang++ make cmake python python3 ld; do
  printf '#!/bin/sh\necho "$0 $*" >> %s\necho "pack-install-check: build tool called: $0" >&2\nexit 1\n' "$tripwire" > "$tools/$t"
  chmod +x "$tools/$t"
done
# The environment of a fresh container: nothing from this shell, no npm config but the cache.
clean() { env -i PATH="$tools" HOME="$work/home" TMPDIR="$work" npm_config_cache="$cache" \
  npm_config_userconfig="$work/home/.npmrc" npm_config_update_notifier=false "$@"; }

step "install the tarball offline with no compiler"
app="$work/app"
mkdir -p "$app"
echo '{ "name": "pack-check", "version": "1.0.0", "private": true }' > "$app/package.json"
(cd "$app" && clean npm install --offline --no-audit --no-fund "$tgz")
[ ! -e "$tripwire" ] || fail "the install called build tools: $(cat "$tripwire")"
[ ! -e "$app/node_modules/vircommand/build" ] || fail "the install compiled the addon (node_modules/vircommand/build exists)"
[ -x "$app/node_modules/.bin/vircommand" ] || fail "the bin node_modules/.bin/vircommand is missing or not executable"

step "smoke: CommonJS"
cat > "$app/smoke.cjs" <<'EOF'
const assert = require('node:assert');
const fs = require('node:fs');
const vc = require('vircommand');
const r = new vc.Command('/bin/echo', 'hello', 'from cjs').runSync();
assert.strictEqual(r.stdout, 'hello from cjs\n');
assert.strictEqual(r.status, 0);
const maps = fs.readFileSync('/proc/self/maps', 'utf8');
assert.match(maps, /node_modules\/vircommand\/prebuilds\/linux-[a-z0-9]+\/vircommand\.glibc\.node/, 'the prebuild was loaded');
console.log('cjs ok:', r.stdout.trim());
EOF
(cd "$app" && clean node smoke.cjs)

step "smoke: ESM"
cat > "$app/smoke.mjs" <<'EOF'
import assert from 'node:assert';
import { createRequire } from 'node:module';
import vc, { Command, CommandError, EXIT_ENOENT } from 'vircommand';
const r = await new Command('/bin/echo', 'hello', 'from esm').run();
assert.strictEqual(r.stdout, 'hello from esm\n');
assert.strictEqual(createRequire(import.meta.url)('vircommand').Command, Command, 'ESM and CJS share one module');
assert.strictEqual(vc.Command, Command);
await assert.rejects(new Command('/nonexistent/program').run(), (e) => e instanceof CommandError && e.code === 'ENOENT' && e.exitStatus === EXIT_ENOENT);
console.log('esm ok:', r.stdout.trim());
EOF
(cd "$app" && clean node smoke.mjs)

step "smoke: the vircommand bin"
out=$(cd "$app" && clean node_modules/.bin/vircommand -- /bin/echo hello from the cli)
[ "$out" = "hello from the cli" ] || fail "bin printed '$out'"
out=$(cd "$app" && clean node_modules/.bin/vircommand --timeout 10 -- /bin/echo hello again)
[ "$out" = "hello again" ] || fail "bin (run mode) printed '$out'"
version=$(node -p "require('./package.json').version")
[ "$(cd "$app" && clean node_modules/.bin/vircommand --version)" = "vircommand $version" ] || fail "bin --version"
echo "cli ok"

step "smoke: the loader's error without a usable binary"
mv "$app/node_modules/vircommand/prebuilds" "$app/prebuilds.off"
msg=$(cd "$app" && clean node -e "
  try { new (require('vircommand').Command)('/bin/true').runSync(); console.log('loaded?!'); }
  catch (e) { console.log(e.message); }")
mv "$app/prebuilds.off" "$app/node_modules/vircommand/prebuilds"
case "$msg" in
  *"cannot load the native addon"*prebuilds/linux-*"npm rebuild vircommand"*) echo "loader error ok: ${msg:0:100}...";;
  *) fail "unexpected loader error: $msg";;
esac

step "types: a TypeScript consumer, CommonJS and ESM"
cat > "$app/consumer.cts" <<'EOF'
import { Command, type RunResult } from 'vircommand';
const cmd: Command = new Command('/bin/echo', 'hi').addArg('x');
export const result: RunResult = cmd.runSync();
EOF
cat > "$app/consumer.mts" <<'EOF'
import { Command, CommandError, PASS_FD_CLOSE_PARENT, type RunResult } from 'vircommand';
const flag: 1 = PASS_FD_CLOSE_PARENT;
export async function go(): Promise<RunResult | CommandError> {
  using cmd = new Command('/bin/echo', 'hi').passFD(3, flag);
  return cmd.run().catch((e: CommandError) => e);
}
EOF
cat > "$app/tsconfig.json" <<EOF
{
  "compilerOptions": {
    "module": "node16", "moduleResolution": "node16", "target": "ES2022",
    "lib": ["ES2022", "esnext.disposable"], "strict": true, "noEmit": true,
    "types": ["node"], "typeRoots": ["$root/node_modules/@types"]
  },
  "files": ["consumer.cts", "consumer.mts"]
}
EOF
(cd "$app" && node "$root/node_modules/typescript/bin/tsc" -p tsconfig.json)
echo "types ok"

printf '\npack-install-check: OK (%s, %s bytes)\n' "$(basename "$tgz")" "$(wc -c < "$tgz")"
