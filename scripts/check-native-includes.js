#!/usr/bin/env node
// Checks the #include lines of native/ against its three zones (`npm run lint:includes`; part of
// `npm run lint`, which `npm test` runs first). Quoted includes are followed, so a header that
// pulls in a forbidden one is caught through any chain.
//
// Rules, and why:
// 1. native/child/ (the child zone: code that runs between clone() and execve(), see
//    docs/internals.md) includes nothing from native/glue/, no N-API/Node/V8/libuv header, and
//    no C++ library header: after a fork of a threaded process only async-signal-safe code may
//    run, so no malloc/new, no std containers or strings, no exceptions, no locks, no stdio
//    logging. Its angle-bracket includes must be C/POSIX/Linux headers (`<x.h>`, `<sys/x.h>`,
//    `<linux/x.h>`) or C wrappers (`<cstdint>`), and not the ones whose point is what the zone
//    must not do: <stdlib.h>/<malloc.h> (allocation), <stdio.h>/<syslog.h> (buffered, locked
//    output), <pthread.h> (locks). scripts/check-child-symbols.js checks the built objects the
//    same way (what they call); this checks the sources (what they can reach).
// 2. native/core/ (the spawn engine, which knows no JavaScript) includes nothing from
//    native/glue/ and no N-API/Node/V8/libuv header: glue/ converts between JavaScript and the
//    plans core/ runs, one way, so core/ stays testable and reusable without Node.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const NATIVE = path.join(__dirname, '..', 'native');
const GLUE = path.join(NATIVE, 'glue') + path.sep;
const JS_ENGINE_HEADER = /^(napi|node_api|js_native_api|node|node_buffer|node_object_wrap|uv|v8)(\.h|-|_|\/)/;
const CHILD_REFUSED_C = new Set(['stdlib.h', 'malloc.h', 'stdio.h', 'syslog.h', 'pthread.h']);
const C_WRAPPER = /^c(assert|ctype|errno|float|inttypes|limits|signal|stddef|stdint|string)$/;

const INCLUDE = /^\s*#\s*include\s*([<"])([^>"]+)[>"]/;

function sources(dir) {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.(cc|h)$/.test(f))
    .map((f) => path.join(dir, f));
}

function includesOf(file) {
  const out = [];
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const m = INCLUDE.exec(text);
      if (m) out.push({ quoted: m[1] === '"', name: m[2], line: i + 1 });
    });
  return out;
}

// Every include reachable from `file` through quoted includes, with the chain that reached it.
function reachable(file) {
  const seen = new Set();
  const found = [];
  const walk = (f, chain) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const inc of includesOf(f)) {
      const where = `${path.relative(process.cwd(), f)}:${inc.line}`;
      const resolved = inc.quoted ? path.resolve(path.dirname(f), inc.name) : null;
      found.push({ ...inc, resolved, chain: [...chain, where] });
      if (resolved && fs.existsSync(resolved)) walk(resolved, [...chain, where]);
    }
  };
  walk(file, []);
  return found;
}

function childZoneProblem(inc) {
  if (inc.resolved) {
    if (inc.resolved.startsWith(GLUE)) return 'a glue/ header (JavaScript-side code)';
    return null;
  }
  if (JS_ENGINE_HEADER.test(inc.name)) return 'an N-API/Node/V8/libuv header';
  if (CHILD_REFUSED_C.has(path.basename(inc.name))) return 'a header for allocation, buffered output or locks';
  if (inc.name.endsWith('.h') || C_WRAPPER.test(inc.name)) return null;
  return 'a C++ library header (containers, strings, exceptions, streams, locks allocate or throw)';
}

function coreProblem(inc) {
  if (inc.resolved && inc.resolved.startsWith(GLUE)) return 'a glue/ header (core/ knows no JavaScript)';
  if (!inc.quoted && JS_ENGINE_HEADER.test(inc.name)) return 'an N-API/Node/V8/libuv header (core/ knows no JavaScript)';
  return null;
}

const problems = [];
for (const [zone, check] of [
  ['child', childZoneProblem],
  ['core', coreProblem],
]) {
  for (const file of sources(path.join(NATIVE, zone))) {
    for (const inc of reachable(file)) {
      const why = check(inc);
      if (why) problems.push(`native/${zone}: #include ${inc.quoted ? `"${inc.name}"` : `<${inc.name}>`} is ${why}\n    via ${inc.chain.join(' -> ')}`);
    }
  }
}

if (problems.length > 0) {
  console.error(`check-native-includes: ${problems.length} include(s) break the zone rules (see this script's header):`);
  for (const p of [...new Set(problems)]) console.error(`  ${p}`);
  process.exit(1);
}
console.log('check-native-includes: native/child and native/core include nothing they must not');
