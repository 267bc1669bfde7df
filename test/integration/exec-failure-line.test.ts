/**
 * exec() in place (and so the CLI without --timeout) has no parent to report a failed step to:
 * the child zone prints one line and exits 125/126/127. It printed `vircommand: chdir: errno 2`;
 * it now says what run() says: the stage, the errno's name and text, and the
 * path or resource involved, from static tables in native/child/child_errno.cc (strerror is not
 * async-signal-safe). Each exec() replaces a separate node process (test/helpers/node-child.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useInvariants } from '../helpers/invariants';
import { runNodeChild } from '../helpers/node-child';
import { useTmpDir } from '../helpers/tmp';

describe('the line exec() prints when a step fails after the point of no return', () => {
  useInvariants();
  const tmp = useTmpDir('vc-execline-');

  it('chdir: the errno name and text and the directory, exit 125', () => {
    const r = runNodeChild(`new vc.Command('true').setWorkingDirectory('/nonexistent/vc-exec-line').exec(); emit('returned');`);
    expect(r.result).toBeUndefined();
    expect(r.status).toBe(125);
    expect(r.stderr).toBe('vircommand: chdir: ENOENT (No such file or directory): /nonexistent/vc-exec-line\n');
  });

  it('rlimit: names the resource, exit 125', () => {
    const over = Number(fs.readFileSync('/proc/sys/fs/nr_open', 'utf8')) + 1; // EPERM, even for root
    const r = runNodeChild(`new vc.Command('true').setMaxFiles(ARGS.over).exec(); emit('returned');`, { args: { over } });
    expect(r.status).toBe(125);
    expect(r.stderr).toBe('vircommand: rlimit: EPERM (Operation not permitted): RLIMIT_NOFILE\n');
  });

  it('exec of a file without execute permission: EACCES and the program, exit 126', () => {
    const file = path.join(tmp.path, 'not-executable');
    fs.writeFileSync(file, 'echo no\n', { mode: 0o644 });
    // As root, execve still refuses a file with no execute bit at all.
    const r = runNodeChild(`new vc.Command(ARGS.file).exec(); emit('returned');`, { args: { file } });
    expect(r.status).toBe(126);
    expect(r.stderr).toBe(`vircommand: exec: EACCES (Permission denied): ${file}\n`);
  });
});
