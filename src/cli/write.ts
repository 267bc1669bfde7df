/** The command line's own output (help, version, dry run, its one-line failures). */
import * as fs from 'node:fs';

/** Writes synchronously: process.stdout would make a pipe non-blocking for the program too. */
export function write(fd: number, text: string): void {
  fs.writeSync(fd, text);
}
