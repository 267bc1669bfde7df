'use strict';
// What the fault soak looks at in /proc: this process's fds with their targets, its children
// (zombies included), the processes that carry the soak's marker in their environment, and how
// many tasks a uid runs (RLIMIT_NPROC counts threads too). Used by soak-faults.js and by the
// phases it starts (phase.js), also in the copy that runs as nobody.

const fs = require('node:fs');
const v8 = require('node:v8');
const lib = require('../bench/lib');

/** The environment variable whose value marks every process the soak may leave behind. */
const MARK_NAME = 'VIRCOMMAND_SOAK_MARK';

/** Open fds of this process as { fd: target }; the listing's own fd is left out. */
function fdTable() {
  const out = {};
  for (const name of fs.readdirSync('/proc/self/fd')) {
    try {
      out[name] = fs.readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      // the directory fd readdir used, closed by now
    }
  }
  return out;
}

/** 'pipe:[123]' -> 'pipe', 'anon_inode:[eventpoll]' stays, paths stay. */
function targetKind(target) {
  const m = /^(pipe|socket):\[\d+\]$/.exec(target);
  return m ? m[1] : target;
}

/** A short text of an fd table: '3: anon_inode:[eventpoll], 4-5: pipe, ...' grouped by kind. */
function describeFds(table) {
  const counts = new Map();
  for (const target of Object.values(table)) counts.set(targetKind(target), (counts.get(targetKind(target)) || 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

/** Fds that differ between two tables: [{ fd, before, after }]. */
function diffFds(a, b) {
  const out = [];
  for (const fd of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (a[fd] !== b[fd]) out.push({ fd: Number(fd), before: a[fd] ?? null, after: b[fd] ?? null });
  }
  return out.sort((x, y) => x.fd - y.fd);
}

function readStat(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const close = stat.lastIndexOf(')');
    const rest = stat.slice(close + 2).split(' ');
    return { pid: Number(pid), comm: stat.slice(stat.indexOf('(') + 1, close), state: rest[0], ppid: Number(rest[1]), pgrp: Number(rest[2]) };
  } catch {
    return null;
  }
}

/** Live (non-zombie) processes whose environment holds MARK_NAME=mark. */
function markedProcesses(mark) {
  const needle = Buffer.from(`\0${MARK_NAME}=${mark}\0`);
  const first = Buffer.from(`${MARK_NAME}=${mark}\0`);
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let env;
    try {
      env = fs.readFileSync(`/proc/${name}/environ`);
    } catch {
      continue; // gone, or not ours to read
    }
    if (env.indexOf(needle) < 0 && !(env.length >= first.length && env.subarray(0, first.length).equals(first))) continue;
    const st = readStat(name);
    if (st && st.state !== 'Z') out.push(st);
  }
  return out;
}

/** Tasks (threads included, as RLIMIT_NPROC counts them) whose real uid is `uid`. */
function tasksOfUid(uid) {
  let n = 0;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let status;
    try {
      status = fs.readFileSync(`/proc/${name}/status`, 'latin1');
    } catch {
      continue;
    }
    const u = /^Uid:\s+(\d+)/m.exec(status);
    if (!u || Number(u[1]) !== uid) continue;
    const t = /^Threads:\s+(\d+)/m.exec(status);
    n += t ? Number(t[1]) : 1;
  }
  return n;
}

/** Threads of this process. */
function ownThreads() {
  return fs.readdirSync('/proc/self/task').length;
}

/** Fds, children and memory of this process, after gc() when node runs with --expose-gc. */
function snapshot() {
  lib.collect();
  const mu = process.memoryUsage();
  const children = lib.listChildren();
  const newSpace = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  const fds = fdTable();
  return {
    rssMib: mu.rss / 1048576,
    heapTotalMib: mu.heapTotal / 1048576,
    heapUsedMib: mu.heapUsed / 1048576,
    newSpaceMib: newSpace ? newSpace.space_size / 1048576 : null,
    externalMib: mu.external / 1048576,
    // RSS outside V8's committed heap: the addon, libuv, glibc's arenas, Buffers' memory.
    rssOutsideV8Mib: (mu.rss - mu.heapTotal) / 1048576,
    openFds: Object.keys(fds).length,
    fds,
    fdSummary: describeFds(fds),
    children: children.length,
    zombies: children.filter((c) => c.state === 'Z').length,
    childList: children,
  };
}

/** Whether fd is open in this process. */
function isOpen(fd) {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

module.exports = {
  MARK_NAME,
  isOpen,
  fdTable,
  describeFds,
  diffFds,
  readStat,
  markedProcesses,
  tasksOfUid,
  ownThreads,
  snapshot,
};
