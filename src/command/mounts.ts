/**
 * Command's new root by pivot_root(2) and the mounts made in it before exec: pivotRoot(),
 * addMount(), addDevMount(). The data and native form are in mount-setup.ts; the child's side
 * in native/child/child_mounts.cc.
 */
import * as path from 'node:path';
import { arg, checkBoolean, checkString, typeError, valueError } from '../validate';
import { Command, stateOf } from './command';
import { defineMethods } from './define-methods';
import { MOUNT_TYPES, type MountOptions, type MountType } from './mount-setup';

// An absolute path, normalized ('/a//b/../c' is '/a/c'); '/' itself only where allowed.
function absolutePath(method: string, what: string, value: unknown, rootAllowed: boolean): string {
  const p = checkString(method, what, value, true);
  if (!p.startsWith('/')) throw valueError(method, what, `must be an absolute path: '${p}'`);
  const normal = path.posix.normalize(p);
  const out = normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
  if (out === '/' && !rootAllowed) throw valueError(method, what, "must not be '/'");
  return out;
}

declare module './command' {
  interface Command {
    /**
     * The program's root becomes `dir` by pivot_root(2) in the new mount namespace (needs
     * `unshare(['mnt'])`), as libvirt's LXC driver and bwrap do: `dir` is bound onto itself,
     * becomes "/", and the old root is detached (unlike chroot(), nothing of the host stays
     * reachable). The old root is parked meanwhile on `dir/.vircommand-oldroot`, which is
     * created and removed again. The program path and setWorkingDirectory() are inside `dir`.
     * A run refuses pivotRoot() with chroot(), without a new mount namespace, or with
     * setMountPropagation('shared' | 'unchanged'); failures report stage 'pivot_root'.
     * @throws {TypeError} for a path that is not absolute
     * @example cmd.unshare(['mnt']).pivotRoot('/srv/rootfs')
     */
    pivotRoot(dir: string): this;
    /**
     * A mount made inside the new root before exec, in the order added (after pivotRoot() or
     * chroot() and remountProc()), in the new mount namespace: never seen by the host (the run
     * refuses a 'shared' or 'unchanged' propagation). `target` is a path inside the new root,
     * created when missing (directories, or an empty file for a file's bind). Types: 'bind' (the
     * host's `source`, recursive; `readonly` remounts it read-only), 'tmpfs', 'proc', 'sysfs',
     * 'mqueue', 'devpts' (`options` as mount -o takes them; `readonly` mounts read-only). As
     * bwrap's --bind, --ro-bind, --tmpfs, --proc, --mqueue. A failure reports stage 'mount', the
     * mount's index as `value` and its target as `path`.
     * @throws {TypeError} for a relative path, a missing bind source, options on a bind; {RangeError} for an unknown type
     * @example cmd.addMount('/tmp', { type: 'tmpfs', options: 'size=16m,mode=1777' })
     * @example cmd.addMount('/etc/resolv.conf', { type: 'bind', source: '/etc/resolv.conf', readonly: true })
     */
    addMount(target: string, options: MountOptions): this;
    /**
     * A minimal /dev at `target` ('/dev' by default), as bwrap's --dev, in the order of the
     * mounts: a tmpfs holding the host's null, zero, full, random, urandom and tty (bound), the
     * links fd, stdin, stdout, stderr (to /proc/self/fd), core and ptmx, a new devpts instance on
     * pts, and a tmpfs on shm. Same rules and failures as addMount(). In a new user namespace
     * whose maps leave out the caller's ids, these steps are made with mapped fs ids (the
     * namespace's root where mapped), which then own /dev and its entries.
     * @param target where in the new root; '/dev' by default
     * @example cmd.unshare(['mnt']).pivotRoot(root).remountProc().addDevMount()
     */
    addDevMount(target?: string): this;
  }
}

defineMethods(Command.prototype, {
  pivotRoot(dir: string) {
    stateOf(this).mountState.pivotRoot = absolutePath('Command.pivotRoot', arg('dir'), dir, false);
    return this;
  },

  addMount(target: string, options: MountOptions) {
    const m = 'Command.addMount';
    const t = absolutePath(m, arg('target'), target, false);
    if (typeof options !== 'object' || options === null) throw typeError(m, arg('options'), 'an object { type, source?, readonly?, options? }', options);
    const type = options.type as unknown;
    if (typeof type !== 'string') throw typeError(m, arg('options.type'), `one of ${MOUNT_TYPES.join(', ')}`, type);
    if (!MOUNT_TYPES.includes(type as MountType)) throw valueError(m, arg('options.type'), `is not a mount type: '${type}'`, RangeError);
    const readonly = checkBoolean(m, arg('options.readonly'), options.readonly, false);
    let source: string | null = null;
    let opts: string | null = null;
    if (type === 'bind') {
      source = absolutePath(m, arg('options.source'), options.source, true);
      if (options.options !== undefined) throw valueError(m, arg('options.options'), "is not taken by a 'bind' mount");
    } else {
      if (options.source !== undefined) throw valueError(m, arg('options.source'), `is only for 'bind', not '${type}'`);
      if (options.options !== undefined) opts = checkString(m, arg('options.options'), options.options);
    }
    stateOf(this).mountState.mounts.push({ type: type as MountType, target: t, source, readonly, options: opts });
    return this;
  },

  addDevMount(target = '/dev') {
    const t = absolutePath('Command.addDevMount', arg('target'), target, false);
    stateOf(this).mountState.mounts.push({ type: 'dev', target: t, source: null, readonly: false, options: null });
    return this;
  },
});
