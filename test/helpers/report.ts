/**
 * Parses the report written by test/fixtures/helper.c (see the comment at
 * the top of that file for the line format). Runs nothing.
 *
 * The parser is strict: an unknown key, a malformed value or a missing END
 * line throws, so a drift between helper and parser shows up as a test
 * failure instead of a silently missing field.
 */
import fs from 'node:fs';

export type RlimitName = 'NOFILE' | 'NPROC' | 'MEMLOCK' | 'CORE';

export interface Rlimit {
  /** Infinity for RLIM_INFINITY ("unlimited") */
  cur: number;
  max: number;
}

export interface IdSet {
  real: number;
  effective: number;
  saved: number;
  fs: number;
}

export interface HelperReport {
  /** argv[1..] exactly as the helper received them */
  rawArgs: string[];
  /** rawArgs without a leading `--log PATH` pair (our harness's own option) */
  args: string[];
  /** environment entries sorted by name, as printed */
  env: string[];
  envMap: Map<string, string>;
  /** open fds (the helper's own scratch fds excluded) -> readlink target */
  fds: Map<number, string>;
  /** fd -> flags from /proc/self/fdinfo (numeric, parsed from octal) */
  fdFlags: Map<number, number>;
  cwd: string;
  umask: number;
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  tty: number;
  sigIgn: bigint;
  sigBlk: bigint;
  sigCgt: bigint;
  capInh: bigint;
  capPrm: bigint;
  capEff: bigint;
  capBnd: bigint;
  capAmb: bigint;
  noNewPrivs: boolean;
  seccomp: number;
  secureBits: number;
  uid: IdSet;
  gid: IdSet;
  groups: number[];
  rlimits: Record<RlimitName, Rlimit>;
  pdeathSig: number;
  nice: number;
  /** namespace name (net, mnt, ...) -> link target like "net:[4026531833]" */
  ns: Map<string, string>;
  /** first line of /proc/self/cgroup */
  cgroup: string;
  root: string;
  exe: string;
  /** libvirt's test: getpgrp() != getppid() */
  daemon: boolean;
  /** probe results, present only when the probe option was given */
  setuid0?: string;
  bind: Map<number, string>;
  rawsock?: string;
  create?: { path: string; result: string };
  /** the raw report lines, for error messages */
  lines: string[];
}

/** Undo the helper's escaping: "\\" -> "\", "\n" -> newline. */
export function unescapeValue(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      const n = s[++i];
      if (n === 'n') out += '\n';
      else if (n === '\\') out += '\\';
      else throw new Error(`report: bad escape \\${n} in ${JSON.stringify(s)}`);
    } else {
      out += c;
    }
  }
  return out;
}

function int(s: string, what: string): number {
  if (!/^-?\d+$/.test(s)) throw new Error(`report: ${what}: not an integer: ${JSON.stringify(s)}`);
  return Number(s);
}

function hex(s: string, what: string): bigint {
  if (!/^[0-9a-f]+$/i.test(s)) throw new Error(`report: ${what}: not hex: ${JSON.stringify(s)}`);
  return BigInt(`0x${s}`);
}

function ids(s: string, what: string): IdSet {
  const p = s.split(' ');
  if (p.length !== 4) throw new Error(`report: ${what}: expected 4 ids, got ${JSON.stringify(s)}`);
  const [real, effective, saved, fsid] = p.map((x) => int(x, what));
  return { real, effective, saved, fs: fsid };
}

function limit(s: string, what: string): number {
  return s === 'unlimited' ? Infinity : int(s, what);
}

/** Split "N rest" at the first space. */
function numAndRest(v: string, what: string): [number, string] {
  const sp = v.indexOf(' ');
  if (sp < 0) throw new Error(`report: ${what}: expected "<n> <value>", got ${JSON.stringify(v)}`);
  return [int(v.slice(0, sp), what), v.slice(sp + 1)];
}

export function parseReport(text: string): HelperReport {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines[lines.length - 1] !== 'END') {
    throw new Error(`report: truncated (no END line):\n${text.slice(-500)}`);
  }
  type Building = Omit<Partial<HelperReport>, 'rlimits'> & {
    rawArgs: string[];
    env: string[];
    fds: Map<number, string>;
    fdFlags: Map<number, number>;
    ns: Map<string, string>;
    bind: Map<number, string>;
    rlimits: Partial<Record<RlimitName, Rlimit>>;
  };
  const r: Building = {
    rawArgs: [],
    env: [],
    fds: new Map(),
    fdFlags: new Map(),
    ns: new Map(),
    bind: new Map(),
    rlimits: {},
    lines,
  };
  const seen = new Set<string>();

  for (const line of lines.slice(0, -1)) {
    const colon = line.indexOf(':');
    if (colon < 0) throw new Error(`report: malformed line ${JSON.stringify(line)}`);
    const key = line.slice(0, colon);
    const raw = line.slice(colon + 1);
    const v = unescapeValue(raw);
    const once = () => {
      if (seen.has(key)) throw new Error(`report: duplicate ${key} line`);
      seen.add(key);
    };
    switch (key) {
      case 'ARG':
        r.rawArgs.push(v);
        break;
      case 'ENV':
        r.env.push(v);
        break;
      case 'FD': {
        const [fd, target] = numAndRest(v, key);
        r.fds.set(fd, target);
        break;
      }
      case 'FDFLAGS': {
        const [fd, fl] = numAndRest(v, key);
        r.fdFlags.set(fd, parseInt(fl, 8));
        break;
      }
      case 'CWD':
        once();
        r.cwd = v;
        break;
      case 'UMASK':
        once();
        r.umask = parseInt(v, 8);
        break;
      case 'PID':
        once();
        r.pid = int(v, key);
        break;
      case 'PPID':
        once();
        r.ppid = int(v, key);
        break;
      case 'PGID':
        once();
        r.pgid = int(v, key);
        break;
      case 'SID':
        once();
        r.sid = int(v, key);
        break;
      case 'TTY':
        once();
        r.tty = int(v, key);
        break;
      case 'SIGIGN':
        once();
        r.sigIgn = hex(v, key);
        break;
      case 'SIGBLK':
        once();
        r.sigBlk = hex(v, key);
        break;
      case 'SIGCGT':
        once();
        r.sigCgt = hex(v, key);
        break;
      case 'CAPINH':
        once();
        r.capInh = hex(v, key);
        break;
      case 'CAPPRM':
        once();
        r.capPrm = hex(v, key);
        break;
      case 'CAPEFF':
        once();
        r.capEff = hex(v, key);
        break;
      case 'CAPBND':
        once();
        r.capBnd = hex(v, key);
        break;
      case 'CAPAMB':
        once();
        r.capAmb = hex(v, key);
        break;
      case 'NNP':
        once();
        r.noNewPrivs = int(v, key) === 1;
        break;
      case 'SECCOMP':
        once();
        r.seccomp = int(v, key);
        break;
      case 'SECUREBITS':
        once();
        r.secureBits = int(v, key);
        break;
      case 'UID':
        once();
        r.uid = ids(v, key);
        break;
      case 'GID':
        once();
        r.gid = ids(v, key);
        break;
      case 'GROUPS':
        once();
        r.groups = v === '' ? [] : v.split(' ').map((g) => int(g, key));
        break;
      case 'RLIMIT': {
        const [name, cur, max] = v.split(' ');
        if (!['NOFILE', 'NPROC', 'MEMLOCK', 'CORE'].includes(name) || max === undefined) {
          throw new Error(`report: bad RLIMIT line ${JSON.stringify(line)}`);
        }
        r.rlimits[name as RlimitName] = { cur: limit(cur, key), max: limit(max, key) };
        break;
      }
      case 'PDEATHSIG':
        once();
        r.pdeathSig = int(v, key);
        break;
      case 'NICE':
        once();
        r.nice = int(v, key);
        break;
      case 'NS': {
        const sp = v.indexOf(' ');
        r.ns.set(v.slice(0, sp), v.slice(sp + 1));
        break;
      }
      case 'CGROUP':
        once();
        r.cgroup = v;
        break;
      case 'ROOT':
        once();
        r.root = v;
        break;
      case 'EXE':
        once();
        r.exe = v;
        break;
      case 'DAEMON':
        once();
        if (v !== 'yes' && v !== 'no') throw new Error(`report: bad DAEMON ${v}`);
        r.daemon = v === 'yes';
        break;
      case 'SETUID0':
        once();
        r.setuid0 = v;
        break;
      case 'BIND': {
        const [port, res] = numAndRest(v, key);
        r.bind.set(port, res);
        break;
      }
      case 'RAWSOCK':
        once();
        r.rawsock = v;
        break;
      case 'CREATE': {
        once();
        // the path is escaped; the result is the last space-separated word
        const sp = raw.lastIndexOf(' ');
        r.create = { path: unescapeValue(raw.slice(0, sp)), result: raw.slice(sp + 1) };
        break;
      }
      default:
        throw new Error(`report: unknown key ${key} in line ${JSON.stringify(line)}`);
    }
  }

  const required = ['CWD', 'UMASK', 'PID', 'PPID', 'PGID', 'SID', 'SIGIGN', 'SIGBLK', 'SIGCGT', 'CAPEFF', 'UID', 'GID', 'GROUPS', 'DAEMON', 'EXE'];
  for (const k of required) {
    if (!seen.has(k)) throw new Error(`report: missing ${k} line`);
  }
  for (const n of ['NOFILE', 'NPROC', 'MEMLOCK', 'CORE'] as RlimitName[]) {
    if (!r.rlimits[n]) throw new Error(`report: missing RLIMIT ${n}`);
  }

  r.args = r.rawArgs[0] === '--log' ? r.rawArgs.slice(2) : [...r.rawArgs];
  r.envMap = new Map(
    r.env.map((e) => {
      const eq = e.indexOf('=');
      return eq < 0 ? [e, ''] : [e.slice(0, eq), e.slice(eq + 1)];
    }),
  );
  return r as unknown as HelperReport;
}

/**
 * Read, parse and (unless keep) delete a helper log. A missing log means the
 * helper never got to write it (exec failed, or it died first).
 */
export function readReport(logPath: string, opts: { keep?: boolean } = {}): HelperReport {
  let text: string;
  try {
    text = fs.readFileSync(logPath, 'utf8');
  } catch (e) {
    throw new Error(`helper log ${logPath} not written: ${(e as Error).message}`);
  }
  if (!opts.keep) fs.rmSync(logPath, { force: true });
  return parseReport(text);
}

/** fd numbers in ascending order */
export function fdNumbers(r: HelperReport): number[] {
  return [...r.fds.keys()].sort((a, b) => a - b);
}

/** Signal number -> bit in a /proc status mask. */
export function sigBit(sig: number): bigint {
  return 1n << BigInt(sig - 1);
}
