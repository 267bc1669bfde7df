#!/usr/bin/env bash
# The package as users get it: `npm pack` (its prepack makes the prebuild), then the tarball
# installed into an empty folder, offline, as a non-root user with an empty HOME and no
# npm_config_nodedir, where any download fails; both install paths:
#   A. prebuilt: no compiler on PATH; the install must not compile.
#   B. from source: the same tarball with prebuilds/ removed; node-gyp compiles the addon
#      against the running Node's own headers (scripts/install.js), never downloading them.
# Each install is then used from CommonJS, ESM and the CLI; A also from TypeScript.
#   bash scripts/pack-install-check.sh        (npm run test:pack)
# Steps:
#  1. npm pack: prepack runs `npm run prebuild` (prebuilds/linux-<arch>/vircommand.glibc.node,
#     and prebuilds/linux-arm64/ exactly when aarch64-linux-gnu-g++ is on PATH), prepare builds
#     dist/. With VIRCOMMAND_PACK_SKIP_PREBUILD=1: build:ts, then
#     `npm pack --ignore-scripts` of the prebuild already there. The tarball holds exactly the
#     files whitelist: dist, prebuilds, native, binding.gyp, scripts/install.js,
#     scripts/node-headers.js, docs (the guide pages the README links to, and the API reference in docs/api/), README, LICENSE.
#  2. A scratch npm cache gets the runtime dependencies (node-gyp-build, node-addon-api: the
#     locked versions) from the registry; every install after that is `npm install --offline`.
#  3. The user: uid/gid 65534 (setpriv) when run as root, else the caller. The environment is
#     built from nothing (env -i): HOME empty, npm cache = the scratch one, and node-gyp's
#     mirror (NODEJS_ORG_MIRROR) and the proxies point at 127.0.0.1:4 (closed), so a download
#     fails; a control shows node-gyp's own header download (`node-gyp install`) failing there.
#  4. A: PATH holds node, npm and coreutils only, plus cc/c++/gcc/g++/make/python3 stand-ins
#     that record any call and fail.
#  5. B: PATH is the system's (a real toolchain); afterwards build/Release/vircommand.node
#     exists and HOME holds no downloaded headers.
#  6. Smoke tests, per path: require() and import spawn /bin/echo and load the expected binary
#     (the prebuild, or build/Release); ESM and CJS share one module; the bin runs; for A, the
#     loader's error without a prebuild names what it tried, and a TypeScript consumer (.cts and
#     .mts) type-checks against the installed .d.ts files.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vircommand-pack.XXXXXX")
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
step() { printf '\n--- pack-install-check: %s\n' "$*"; }
fail() { printf 'pack-install-check: FAIL: %s\n' "$*" >&2; exit 1; }

cd "$root"
arch=$(node -p process.arch)
prebuild="prebuilds/linux-$arch/vircommand.glibc.node"
if [ "${VIRCOMMAND_PACK_SKIP_PREBUILD:-}" = 1 ]; then
  step "build dist/, npm pack --ignore-scripts (the prebuild already there)"
  [ -f "$prebuild" ] || fail "$prebuild is missing (npm run prebuild)"
  npm run build:ts
  npm pack --ignore-scripts --pack-destination "$work"
else
  step "npm pack (prepack: the prebuilds; prepare: dist/)"
  rm -f "$prebuild"
  rm -rf prebuilds/linux-arm64  # made again by prepack exactly when the cross compiler is here
  npm pack --pack-destination "$work"  # the scripts print to stdout too: no --json
fi
arm64=prebuilds/linux-arm64/vircommand.glibc.node
if [ "$arch" != arm64 ] && [ "${VIRCOMMAND_PACK_SKIP_PREBUILD:-}" != 1 ]; then
  if command -v aarch64-linux-gnu-g++ >/dev/null; then arm64_expected=yes; else arm64_expected=no; fi
else
  arm64_expected=any
fi
tgz="$work/$(node -p "const p = require('./package.json'); p.name + '-' + p.version + '.tgz'")"
[ -f "$tgz" ] || fail "npm pack made no $tgz"
tar tzf "$tgz" | sed -n 's#^package/##p' > "$work/files.txt"
chmod 644 "$tgz"
node - "$work/files.txt" "$prebuild" "$arm64" "$arm64_expected" <<'EOF'
const [list, prebuild, arm64, arm64Expected] = process.argv.slice(2);
const files = require('node:fs').readFileSync(list, 'utf8').split('\n').filter(Boolean);
const required = ['package.json', 'binding.gyp', 'dist/index.js', 'dist/index.mjs', 'dist/index.d.ts',
  'dist/cli/index.js', prebuild, 'native/child/child_exec.cc', 'native/glue/addon.cc',
  'scripts/install.js', 'scripts/node-headers.js', 'docs/README.md', 'docs/api/README.md'];
const missing = required.filter((f) => !files.includes(f));
const allowed = /^(package\.json|binding\.gyp|README\.md|LICENSE|dist\/|prebuilds\/|native\/|docs\/.*\.md$|scripts\/(install|node-headers)\.js$)/;
const stray = files.filter((f) => !allowed.test(f));
console.log(`tarball: ${files.length} files`);
if (missing.length) { console.error(`missing from the tarball: ${missing.join(', ')}`); process.exit(1); }
if (stray.length) { console.error(`outside the files whitelist: ${stray.join(', ')}`); process.exit(1); }
// Every compiled file comes from a source that exists now: a module moved or deleted in src/
// must not ship its old dist/ copy (build:ts empties dist/ first; this catches a tarball made
// from a dist/ built otherwise).
const fsm = require('node:fs');
const orphan = files.filter((f) => /^dist\/.*\.(js|d\.ts|js\.map)$/.test(f))
  .map((f) => f.replace(/^dist\//, 'src/').replace(/\.(js|d\.ts|js\.map)$/, '.ts'))
  .filter((src) => !fsm.existsSync(src));
if (orphan.length) { console.error(`dist/ files whose source is gone: ${[...new Set(orphan)].join(', ')}`); process.exit(1); }
// prepack makes the linux-arm64 prebuild exactly when the cross compiler is on PATH.
const hasArm64 = files.includes(arm64);
if (arm64Expected !== 'any' && hasArm64 !== (arm64Expected === 'yes')) {
  console.error(`${arm64} is ${hasArm64 ? '' : 'not '}in the tarball, though aarch64-linux-gnu-g++ is ${arm64Expected === 'yes' ? '' : 'not '}on PATH`);
  process.exit(1);
}
console.log(`linux-arm64 prebuild in the tarball: ${hasArm64 ? 'yes' : 'no'}`);
for (const f of ['README.md', 'LICENSE']) if (!files.includes(f)) console.warn(`warning: ${f} is not in the tarball`);
EOF

step "the same tarball without prebuilds/ (for the from-source install)"
mkdir "$work/unpacked"
tar xzf "$tgz" -C "$work/unpacked"
rm -rf "$work/unpacked/package/prebuilds"
srctgz="$work/vircommand-no-prebuild.tgz"
tar czf "$srctgz" -C "$work/unpacked" package
chmod 644 "$srctgz"

step "scratch npm cache: node-gyp-build, node-addon-api"
cache="$work/npm-cache"
for dep in node-gyp-build node-addon-api; do
  v=$(node -p "require('./package-lock.json').packages['node_modules/$dep'].version")
  npm cache add "$dep@$v" --cache "$cache" --no-audit --no-fund
done

# A PATH with node, npm and basic tools only; build tools are stand-ins that record calls.
tools="$work/bin"
mkdir -p "$tools"
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
chmod 777 "$work"  # the stand-ins append to the tripwire log as the install's user
syspath="$(dirname "$(command -v node)"):/usr/local/bin:/usr/bin:/bin"

# The user: nobody when we are root, so nothing may need root's HOME, caches or rights.
as_user=()
if [ "$(id -u)" = 0 ]; then
  as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
fi
mkdir -p "$work/home" "$work/tmp" "$work/app" "$work/app-src"
echo '{ "name": "pack-check", "version": "1.0.0", "private": true }' > "$work/app/package.json"
echo '{ "name": "pack-check-src", "version": "1.0.0", "private": true }' > "$work/app-src/package.json"
[ "$(id -u)" != 0 ] || chown -R 65534:65534 "$cache" "$work/home" "$work/tmp" "$work/app" "$work/app-src"
# The environment of a fresh container: nothing from this shell (no npm_config_nodedir), no npm
# config but the cache, and every download address closed.
blocked=http://127.0.0.1:4  # nothing listens; not on fetch's bad-port list, so the refusal is a real one
clean_path() {
  local path=$1; shift
  "${as_user[@]}" env -i PATH="$path" HOME="$work/home" TMPDIR="$work/tmp" npm_config_cache="$cache" \
    npm_config_userconfig="$work/home/.npmrc" npm_config_update_notifier=false \
    NODEJS_ORG_MIRROR="$blocked" npm_config_proxy="$blocked" \
    npm_config_https_proxy="$blocked" http_proxy="$blocked" https_proxy="$blocked" "$@"
}
clean() { clean_path "$tools" "$@"; }        # path A: no compiler
clean_src() { clean_path "$syspath" "$@"; }  # path B: the system's toolchain

step "control: in this environment node-gyp cannot download Node's headers"
ngyp="$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"
[ -f "$ngyp" ] || fail "npm's node-gyp is not at $ngyp"
if out=$(cd "$work/tmp" && clean_src node "$ngyp" install 2>&1); then
  fail "node-gyp downloaded headers in the blocked environment: $out"
fi
echo "download refused, as it should: $(printf '%s\n' "$out" | grep -m1 -E 'ECONNREFUSED|fetch failed|getaddrinfo|proxy' || printf '%s\n' "$out" | tail -1)"
rm -rf "$work/home/.cache"

step "A. install the tarball offline with no compiler (as $(clean id -un))"
app="$work/app"
(cd "$app" && clean npm install --offline --no-audit --no-fund "$tgz")
[ ! -e "$tripwire" ] || fail "the install called build tools: $(cat "$tripwire")"
[ ! -e "$app/node_modules/vircommand/build" ] || fail "the install compiled the addon (node_modules/vircommand/build exists)"
[ -x "$app/node_modules/.bin/vircommand" ] || fail "the bin node_modules/.bin/vircommand is missing or not executable"

step "B. install the tarball without prebuilds/ offline, from source (as $(clean id -un))"
appsrc="$work/app-src"
(cd "$appsrc" && clean_src npm install --offline --no-audit --no-fund --foreground-scripts "$srctgz")
[ ! -e "$appsrc/node_modules/vircommand/prebuilds" ] || fail "B: prebuilds/ is in the from-source install"
[ -f "$appsrc/node_modules/vircommand/build/Release/vircommand.node" ] || fail "B: build/Release/vircommand.node was not built"
[ -x "$appsrc/node_modules/.bin/vircommand" ] || fail "B: the bin node_modules/.bin/vircommand is missing or not executable"
if [ -n "$(find "$work/home" -name node_api.h 2>/dev/null)" ]; then fail "B: Node's headers were downloaded into HOME"; fi
echo "built from source: node_modules/vircommand/build/Release/vircommand.node"

# smoke DIR RUNNER BINARY-REGEX: CJS, ESM and the bin of the install in DIR, run by RUNNER
# (clean or clean_src); the CJS test checks in /proc/self/maps which binary was loaded.
smoke() {
  local dir=$1 runner=$2 binary=$3 out
  step "smoke ($dir): CommonJS"
  cat > "$dir/smoke.cjs" <<'EOF'
const assert = require('node:assert');
const fs = require('node:fs');
const vc = require('vircommand');
const r = new vc.Command('/bin/echo', 'hello', 'from cjs').runSync();
assert.strictEqual(r.stdout, 'hello from cjs\n');
assert.strictEqual(r.status, 0);
const maps = fs.readFileSync('/proc/self/maps', 'utf8');
assert.match(maps, new RegExp(process.env.VC_EXPECT_BINARY), 'the expected binary was loaded');
console.log('cjs ok:', r.stdout.trim(), '; loaded', maps.match(new RegExp('\\S*' + process.env.VC_EXPECT_BINARY))[0]);
EOF
  (cd "$dir" && "$runner" env VC_EXPECT_BINARY="$binary" node smoke.cjs)

  step "smoke ($dir): ESM"
  cat > "$dir/smoke.mjs" <<'EOF'
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
  (cd "$dir" && "$runner" node smoke.mjs)

  step "smoke ($dir): the vircommand bin"
  out=$(cd "$dir" && "$runner" node_modules/.bin/vircommand -- /bin/echo hello from the cli)
  [ "$out" = "hello from the cli" ] || fail "bin printed '$out'"
  out=$(cd "$dir" && "$runner" node_modules/.bin/vircommand --timeout 10 -- /bin/echo hello again)
  [ "$out" = "hello again" ] || fail "bin (run mode) printed '$out'"
  [ "$(cd "$dir" && "$runner" node_modules/.bin/vircommand --version)" = "vircommand $version" ] || fail "bin --version"
  echo "cli ok"
}
version=$(node -p "require('./package.json').version")
smoke "$app" clean 'node_modules/vircommand/prebuilds/linux-[a-z0-9]+/vircommand\.glibc\.node'
smoke "$appsrc" clean_src 'node_modules/vircommand/build/Release/vircommand\.node'

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

printf '\npack-install-check: OK (%s, %s bytes): prebuilt with no compiler, and from source without a download, as %s\n' \
  "$(basename "$tgz")" "$(wc -c < "$tgz")" "$(clean id -un)"
