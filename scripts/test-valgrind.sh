#!/usr/bin/env bash
# Runs the addon's paths under valgrind memcheck: test/valgrind/sync-paths.js (every synchronous
# native path, then a few asynchronous ones, each checked by assertions) in one node process under
# memcheck, following the children it forks until they exec. scripts/valgrind-check.js then reads
# the logs: any memcheck error, or a definite leak from vircommand.node, fails the run.
#   bash scripts/test-valgrind.sh [--rounds N]
# Under valgrind the addon spawns with fork() instead of clone(CLONE_VM | CLONE_VFORK ...), which
# valgrind cannot emulate, and polls waitpid instead of a pidfd, which valgrind 3.19 lacks
# (native/core/spawn.cc): the plan, pipes, I/O session and result code are the same.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v valgrind >/dev/null || { echo "test-valgrind: valgrind not found (Debian: apt-get install valgrind)" >&2; exit 1; }

logs="$root/build/valgrind-logs"
rm -rf "$logs"
mkdir -p "$logs"
status=0
# --trace-children=no: programs the children exec run natively; --child-silent-after-fork=no:
# errors in a forked child before its exec are still reported, to its own log (%p).
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
  --track-origins=yes --trace-children=no --child-silent-after-fork=no \
  --log-file="$logs/vg.%p.log" \
  node test/valgrind/sync-paths.js "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "test-valgrind: the script failed under valgrind (exit $status)" >&2
fi
node scripts/valgrind-check.js "$logs" || status=1
exit "$status"
