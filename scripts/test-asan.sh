#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UBSan (npm run build:asan -> build-asan/) and runs the
# test suite against it; any sanitizer report fails the run.
#   bash scripts/test-asan.sh [vitest arguments...]     (default: the whole suite)
# VIRCOMMAND_ASAN_SKIP_BUILD=1 reuses build-asan/ as it is.
# Node itself is not instrumented, so the ASan runtime is preloaded into every process of the
# run (LD_PRELOAD is inherited by vitest's workers and by the node children the tests start).
# Leak detection is off: Node frees little at exit by design. Reports go to files under
# build-asan/logs/ (a test may swallow a child's stderr), and are listed at the end.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ "${VIRCOMMAND_ASAN_SKIP_BUILD:-}" != 1 ]; then
  npm run build:asan
fi

libasan=$(gcc -print-file-name=libasan.so)
if [ ! -e "$libasan" ] || [ "$libasan" = libasan.so ]; then
  echo "test-asan: gcc does not know libasan.so (Debian: apt-get install libasan8 or gcc)" >&2
  exit 1
fi

logs="$root/build-asan/logs"
rm -rf "$logs"
mkdir -p "$logs"
# Options already in the environment come last and win (e.g. ASAN_OPTIONS=fast_unwind_on_malloc=0).
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$logs/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

# Tests whose bounds do not hold under ASan (memory footprint, timing) can check this.
export VIRCOMMAND_SANITIZER=address
# One test file at a time: ASan slows every process, and two at once on 2 cores would stretch
# the timing bounds the tests keep.
export VC_TEST_WORKERS="${VC_TEST_WORKERS:-1}"
status=0
LD_PRELOAD="$libasan" bash scripts/test-binary.sh build-asan "$@" || status=$?

# Errors fail the run. The one known warning is not an error: the child zone leaves through a
# noreturn call on its own stack, which ASan notes once ("ignoring requested
# __asan_handle_no_return").
reports=$(grep -l -E 'ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer' "$logs"/* 2>/dev/null || true)
if [ -n "$reports" ]; then
  echo "test-asan: sanitizer errors reported:" >&2
  for f in $reports; do
    echo "==== $f" >&2
    cat "$f" >&2
  done
  status=1
fi
others=$(ls "$logs" | wc -l)
echo "test-asan: $(echo "$reports" | grep -c . || true) error report(s), $others log file(s) in $logs"
exit "$status"
