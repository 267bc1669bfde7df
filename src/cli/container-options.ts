/**
 * The `vircommand` options for containers, so a `unshare`/`bwrap` line can be written as a
 * vircommand one: --unshare, --map-root, --map-users/--map-groups, --hostname, --domainname,
 * --proc, --chroot, --user and --seccomp. Each adds a builder step (public API); options.ts lists
 * them among its options, and the program runs as vircommand's child (not in place) when a step
 * needs a parent: a new pid namespace, or id maps, which exec() cannot set up.
 */
import * as fs from 'node:fs';
import type { Command, IdMapping, NamespaceName } from '../index';

/** What these options record: builder steps, and whether the program needs vircommand as its parent. */
export interface ContainerCliPlan {
  steps: ((cmd: Command) => void)[];
  /** run the program as a child and wait (exec() cannot make a pid namespace or write id maps) */
  needsParent: boolean;
  /** --map-users/--map-groups lines so far (null: none given) */
  uidMaps?: IdMapping[];
  gidMaps?: IdMapping[];
}

/** One option, as options.ts's OptionSpec. */
export interface ContainerOptionSpec {
  name: string;
  value?: string;
  help: string;
  apply: (plan: ContainerCliPlan, value: string) => void;
}

/** A usage error (reported as stage 'usage', exit 125: cli-error.ts). */
export type UsageError = (message: string) => Error;

// util-linux's and bwrap's names for the namespaces, beside ours.
const ALIASES: Record<string, NamespaceName> = { mount: 'mnt', network: 'net' };

function parseNamespaces(value: string, usage: UsageError): NamespaceName[] {
  const names = value.split(',').map((n) => n.trim().toLowerCase());
  if (names.some((n) => n === '')) throw usage(`--unshare: expected NS[,NS...] (mnt, uts, ipc, net, pid, user, cgroup, time), got '${value}'`);
  return names.map((n) => ALIASES[n] ?? (n as NamespaceName)); // unshare() checks the names
}

// INSIDE:OUTSIDE:COUNT (non-negative integers); setUidMappings() checks ranges and overlaps.
function parseMapping(name: string, value: string, usage: UsageError): IdMapping {
  const m = /^(\d+):(\d+):(\d+)$/.exec(value);
  if (!m) throw usage(`${name}: expected INSIDE:OUTSIDE:COUNT, got '${value}'`);
  return { inside: Number(m[1]), outside: Number(m[2]), count: Number(m[3]) };
}

// The namespaces that only a new process can enter with its maps written: run as a child.
function needsParentFor(names: readonly NamespaceName[]): boolean {
  return names.includes('pid');
}

/** The container options; `usage` makes the command line's usage errors. */
export function containerOptions(usage: UsageError): ContainerOptionSpec[] {
  const addMap = (p: ContainerCliPlan, kind: 'uid' | 'gid', m: IdMapping): void => {
    const key = kind === 'uid' ? 'uidMaps' : 'gidMaps';
    const first = p[key] === undefined;
    const list = (p[key] ??= []);
    list.push(m);
    p.needsParent = true;
    if (first)
      p.steps.push((c) => {
        c.unshare(['user']);
        if (kind === 'uid') c.setUidMappings(list);
        else c.setGidMappings(list);
      });
  };
  return [
    {
      name: '--unshare',
      value: 'NS[,NS...]',
      help: 'new namespaces: mnt, uts, ipc, net, pid, user, cgroup, time (repeatable)',
      apply: (p, v) => {
        const names = parseNamespaces(v, usage);
        if (needsParentFor(names)) p.needsParent = true;
        p.steps.push((c) => c.unshare(names));
      },
    },
    {
      name: '--map-root',
      help: "new user namespace where the caller's uid and gid are root (unshare -r)",
      apply: (p) => {
        const uid = process.geteuid?.() ?? 0;
        const gid = process.getegid?.() ?? 0;
        addMap(p, 'uid', { inside: 0, outside: uid, count: 1 });
        addMap(p, 'gid', { inside: 0, outside: gid, count: 1 });
      },
    },
    {
      name: '--map-users',
      value: 'INSIDE:OUTSIDE:COUNT',
      help: 'a uid_map line of a new user namespace (repeatable; beyond your own uid: newuidmap)',
      apply: (p, v) => addMap(p, 'uid', parseMapping('--map-users', v, usage)),
    },
    {
      name: '--map-groups',
      value: 'INSIDE:OUTSIDE:COUNT',
      help: 'a gid_map line of a new user namespace (repeatable; beyond your own gid: newgidmap)',
      apply: (p, v) => addMap(p, 'gid', parseMapping('--map-groups', v, usage)),
    },
    {
      name: '--hostname',
      value: 'NAME',
      help: 'host name in a new uts namespace (implies --unshare uts)',
      apply: (p, v) => p.steps.push((c) => c.unshare(['uts']).setHostname(v)),
    },
    {
      name: '--domainname',
      value: 'NAME',
      help: 'NIS domain name in a new uts namespace (implies --unshare uts)',
      apply: (p, v) => p.steps.push((c) => c.unshare(['uts']).setDomainname(v)),
    },
    {
      name: '--proc',
      help: 'a new /proc for the new pid namespace, in a new mount namespace (unshare --mount-proc)',
      apply: (p) => p.steps.push((c) => c.remountProc()),
    },
    {
      name: '--chroot',
      value: 'DIR',
      help: 'change the root directory to DIR before exec',
      apply: (p, v) => p.steps.push((c) => c.chroot(v)),
    },
    {
      name: '--pivot-root',
      value: 'DIR',
      help: 'new root DIR by pivot_root(2) in a new mount namespace (implies --unshare mnt); the old root detached',
      apply: (p, v) => p.steps.push((c) => c.unshare(['mnt']).pivotRoot(v)),
    },
    {
      name: '--dev',
      help: "a minimal /dev in the new root: null, zero, full, random, urandom, tty, a devpts (bwrap's --dev)",
      apply: (p) => p.steps.push((c) => c.addDevMount()),
    },
    {
      name: '--mount',
      value: 'SPEC',
      help: 'type=T,target=DIR[,source=SRC][,readonly][,options=DATA]: a mount inside the new root before exec (repeatable, in order)',
      apply: (p, v) => {
        const m = parseMountSpec(v, usage);
        p.steps.push((c) =>
          c.addMount(m.target, { type: m.type as Parameters<Command['addMount']>[1]['type'], source: m.source, readonly: m.readonly, options: m.options }),
        );
      },
    },
    {
      name: '--user',
      value: 'USER',
      help: 'run as this user: its uid, primary group and supplementary groups (runuser)',
      apply: (p, v) => p.steps.push((c) => c.setUser(/^\d+$/.test(v) ? Number(v) : v)),
    },
    {
      name: '--seccomp',
      value: 'FILE',
      help: 'install this seccomp program (struct sock_filter[], as bwrap --seccomp) last before exec',
      apply: (p, v) => {
        let program: Buffer;
        try {
          program = fs.readFileSync(v);
        } catch (err) {
          throw usage(`--seccomp: cannot read ${v}: ${(err as Error).message}`);
        }
        p.steps.push((c) => c.setSeccompFilter(program));
      },
    },
  ];
}

/** What `--mount` asks for: addMount(target, { type, source, readonly, options }). */
export interface MountSpec {
  target: string;
  type: string;
  source?: string;
  readonly?: boolean;
  /** mount(2) data, as given ('size=64m,mode=1777') */
  options?: string;
}

const MOUNT_KEYS = ['type', 'target', 'source', 'readonly', 'ro', 'options'];

/**
 * `--mount type=T,target=DIR[,source=SRC][,readonly][,options=DATA]`, as docker's --mount:
 * comma-separated keys; `options=` comes last and takes the rest of the value, commas included
 * (`options=size=64m,mode=1777`). The type itself is checked by addMount().
 */
export function parseMountSpec(value: string, usage: UsageError): MountSpec {
  const bad = (why: string) => usage(`--mount: ${why} (expected type=T,target=DIR[,source=SRC][,readonly][,options=DATA]), got '${value}'`);
  const spec: Partial<MountSpec> = {};
  let rest = value;
  while (rest !== '') {
    if (rest.startsWith('options=')) {
      spec.options = rest.slice('options='.length);
      break;
    }
    const comma = rest.indexOf(',');
    const part = comma < 0 ? rest : rest.slice(0, comma);
    rest = comma < 0 ? '' : rest.slice(comma + 1);
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const val = eq < 0 ? null : part.slice(eq + 1);
    if (!MOUNT_KEYS.includes(key)) throw bad(`unknown key '${key}'`);
    if (key === 'readonly' || key === 'ro') {
      if (val !== null && val !== 'true' && val !== 'false') throw bad(`${key} takes no value or true/false`);
      spec.readonly = val !== 'false';
    } else {
      if (val === null || val === '') throw bad(`${key} needs a value`);
      (spec as Record<string, string>)[key] = val;
    }
  }
  if (spec.type === undefined || spec.target === undefined) throw bad('type and target are required');
  return spec as MountSpec;
}
