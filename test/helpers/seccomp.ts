/**
 * Classic BPF seccomp programs for tests: "deny these syscalls with this errno, allow the rest",
 * for x86-64 and arm64 (any other architecture: null, and the test skips saying so). Each
 * instruction is a struct sock_filter { u16 code; u8 jt; u8 jf; u32 k } in the machine's byte
 * order (little-endian on both).
 */

/** Syscall numbers of the calls the tests deny. arm64 has no mkdir(2), only mkdirat(2). */
const SYSCALLS: Record<string, { x64: number; arm64: number | null }> = {
  mkdir: { x64: 83, arm64: null },
  mkdirat: { x64: 258, arm64: 34 },
  chdir: { x64: 80, arm64: 49 },
  sethostname: { x64: 170, arm64: 161 },
  setresuid: { x64: 117, arm64: 147 },
  getpid: { x64: 39, arm64: 172 },
};

const AUDIT_ARCH = { x64: 0xc000003e, arm64: 0xc00000b7 } as const;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ERRNO = 0x00050000;

/** One instruction's 8 bytes. */
export function insn(code: number, jt: number, jf: number, k: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(code, 0);
  b.writeUInt8(jt, 2);
  b.writeUInt8(jf, 3);
  b.writeUInt32LE(k >>> 0, 4);
  return b;
}

/** Why this machine gets no program, or null. */
export function seccompUnsupported(): string | null {
  return process.arch === 'x64' || process.arch === 'arm64' ? null : `no syscall table for ${process.arch} in test/helpers/seccomp.ts`;
}

/** A program that makes each named syscall fail with `errno` and allows every other one. */
export function denySyscalls(names: string[], errno: number): Uint8Array {
  const arch = process.arch === 'arm64' ? 'arm64' : 'x64';
  const numbers = names.map((n) => SYSCALLS[n][arch]).filter((n): n is number => n !== null);
  const out: Buffer[] = [
    insn(0x20, 0, 0, 4), // ld [4]: seccomp_data.arch
    insn(0x15, 1, 0, AUDIT_ARCH[arch]), // jeq arch: go on; else allow
    insn(0x06, 0, 0, SECCOMP_RET_ALLOW),
    insn(0x20, 0, 0, 0), // ld [0]: seccomp_data.nr
  ];
  numbers.forEach((nr, i) => out.push(insn(0x15, numbers.length - i, 0, nr))); // jeq nr: to the deny
  out.push(insn(0x06, 0, 0, SECCOMP_RET_ALLOW));
  out.push(insn(0x06, 0, 0, SECCOMP_RET_ERRNO | errno));
  return new Uint8Array(Buffer.concat(out));
}
