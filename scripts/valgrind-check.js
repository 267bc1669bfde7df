'use strict';
// Reads the text logs of one valgrind memcheck run (one file per process, --log-file=DIR/vg.%p.log)
// and decides whether it was clean. Prints what it found; exits 1 on any error.
//   node scripts/valgrind-check.js DIR
// The node process's log is the one that starts with valgrind's header ("Command: ..."); a
// child forked from it logs to a file of its own with no header.
// Counted as errors:
//   - every memcheck error that is not a leak record (invalid reads and writes, uses of
//     uninitialised values, bad syscall parameters, bad frees, overlaps), in any process: the
//     node process and the children forked from it before they exec;
//   - in the node process, a "definitely lost" leak record with a frame in vircommand.node.
// Not counted: node's and V8's own memory still held at exit (the leak check runs when the
// process ends, and Node does not tear V8's heap down), and leak records of forked children
// (their heap is the parent's copy, abandoned by exec or _exit by design).
const fs = require('node:fs');
const path = require('node:path');

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node scripts/valgrind-check.js DIR');
  process.exit(2);
}
const ERROR_HEADER =
  /^(Invalid (read|write|free|size)|Mismatched free|Conditional jump|Use of uninitialised|Syscall param|Source and destination overlap|Argument .* of function|Jump to the invalid|Fishy value|.* bytes in .* blocks are definitely lost)/;

function blocksOf(text) {
  const blocks = [];
  let cur = [];
  for (const raw of text.split('\n')) {
    const m = /^==\d+== ?(.*)$/.exec(raw);
    if (!m) continue; // "--pid--" lines are valgrind's own notes (e.g. unhandled syscalls)
    if (m[1].trim() === '') {
      if (cur.length) blocks.push(cur);
      cur = [];
    } else {
      cur.push(m[1]);
    }
  }
  if (cur.length) blocks.push(cur);
  return blocks;
}

const found = [];
let processes = 0;
let mainSeen = false;
let nodeLeaks = 0;
for (const name of fs.readdirSync(dir).sort()) {
  const m = /^vg\.(\d+)\.log$/.exec(name);
  if (!m) continue;
  processes++;
  const pid = Number(m[1]);
  const text = fs.readFileSync(path.join(dir, name), 'utf8');
  const isMain = /^==\d+== Command: /m.test(text);
  if (isMain) mainSeen = true;
  for (const block of blocksOf(text)) {
    if (!ERROR_HEADER.test(block[0])) continue;
    const isLeak = / are definitely lost/.test(block[0]);
    if (isLeak) {
      if (!isMain) continue;
      if (!block.some((l) => l.includes('vircommand.node'))) {
        nodeLeaks++;
        continue;
      }
    }
    found.push({ pid, isMain, block });
  }
}
if (!mainSeen) {
  console.error(`valgrind-check: no log of the node process in ${dir}`);
  process.exit(1);
}
for (const f of found) {
  console.error(`==== ${f.isMain ? 'node process' : 'forked child'} ${f.pid}`);
  console.error(f.block.join('\n'));
}
console.log(
  `valgrind-check: ${processes} process log(s); ${found.length} error(s) counted; ` + `${nodeLeaks} leak record(s) of node/V8's own memory at exit not counted`,
);
process.exit(found.length ? 1 : 0);
