/**
 * A minimal container root for the container tests: a temporary directory holding a statically
 * linked busybox (Debian's busybox-static, which .ci/run installs) as /bin/busybox with the
 * applets the tests call linked to it, and empty /proc, /sys and /tmp. null (with the reason)
 * where no static busybox is installed: the caller skips, printing it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { makeTmpDir } from './tmp';

/** True when the ELF file at `file` has no program interpreter (PT_INTERP): statically linked. 64-bit little-endian only. */
function isStaticElf(file: string): boolean {
  const b = fs.readFileSync(file);
  if (b.length < 64 || b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2 || b[5] !== 1) return false;
  const phoff = Number(b.readBigUInt64LE(32));
  const phentsize = b.readUInt16LE(54);
  const phnum = b.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === 3) return false;
  return true;
}

const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];
const APPLETS = ['sh', 'ls', 'cat', 'echo', 'true', 'id', 'touch', 'mkdir', 'readlink', 'wc', 'stat', 'test', 'grep', 'hostname'];

/** The static busybox, or the reason there is none. */
export function staticBusybox(): { path: string } | { reason: string } {
  const found = BUSYBOX_CANDIDATES.find((p) => fs.existsSync(p));
  if (found === undefined) return { reason: 'no busybox installed (apt-get install busybox-static)' };
  if (!isStaticElf(found)) return { reason: `${found} is not statically linked (install busybox-static)` };
  return { path: found };
}

/** A fresh busybox root (mode 0755 all the way, so another uid can use it), or the reason there is none. */
export function makeBusyboxRoot(): { root: string } | { reason: string } {
  const bb = staticBusybox();
  if ('reason' in bb) return bb;
  const root = makeTmpDir('vc-root-');
  fs.chmodSync(root, 0o755);
  for (const d of ['bin', 'proc', 'sys', 'tmp']) fs.mkdirSync(path.join(root, d), { mode: 0o755 });
  fs.copyFileSync(bb.path, path.join(root, 'bin/busybox'));
  fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
  for (const a of APPLETS) fs.symlinkSync('busybox', path.join(root, 'bin', a));
  return { root };
}
