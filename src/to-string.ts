/**
 * The text forms of a command: shell-quoted (toString, error messages, dry-run log) and
 * unquoted (writeArgLog). Formats follow libvirt's virCommandToString and
 * virCommandWriteArgLog so logs read the same.
 */
import * as path from 'node:path';
import type { ToStringOptions } from './types';

// Characters that make a word need quoting in a POSIX shell.
const SHELL_SPECIAL = /[\r\t\n !"#$&'()*;<>?[\\\]^`{|}~]/;

/**
 * Quotes a word for a POSIX shell: '' for the empty string, the word as is when it has no
 * special character, else the word in single quotes with each ' written as '\''.
 */
export function shellEscape(word: string): string {
  if (word === '') return "''";
  if (!SHELL_SPECIAL.test(word)) return word;
  return `'${word.replace(/'/g, "'\\''")}'`;
}

// NAME=value with only the value quoted; an entry without '=' is written quoted whole.
function escapeEnvEntry(entry: string): string {
  const eq = entry.indexOf('=');
  if (eq < 0) return shellEscape(entry);
  return entry.slice(0, eq + 1) + shellEscape(entry.slice(eq + 1));
}

// With linebreaks, does argument i stay on the line before it? Option values do: a word
// not starting with '-', after some option, when the previous word or a later word is an
// option (so `--opt a b --next` keeps a and b with --opt, and a trailing word stands alone).
// `firstOpt`/`lastOpt`: the first and last option indexes (from 1; -1: none), found once so
// that a long command line costs linear time, not a scan per argument.
function staysOnLine(args: readonly string[], i: number, firstOpt: number, lastOpt: number): boolean {
  if (isOpt(args[i])) return false;
  if (firstOpt < 1 || firstOpt >= i) return false;
  return isOpt(args[i - 1]) || lastOpt > i;
}

function isOpt(s: string): boolean {
  return s.startsWith('-');
}

/**
 * The shell-quoted command line: env entries, then argv.
 * formatCommand(['true', 'F', 'G  H'], ['A=B', 'C=D  E']) === "A=B C='D  E' true F 'G  H'"
 */
export function formatCommand(argv: readonly string[], env: readonly string[] | null, options: ToStringOptions = {}): string {
  const linebreaks = options.linebreaks === true;
  let out = '';
  for (const entry of env ?? []) out += escapeEnvEntry(entry) + (linebreaks ? ' \\\n' : ' ');
  const program = options.stripPath ? path.basename(argv[0]) : argv[0];
  out += shellEscape(program);
  let firstOpt = -1;
  let lastOpt = -1;
  if (linebreaks) {
    for (let i = 1; i < argv.length; i++) {
      if (!isOpt(argv[i])) continue;
      if (firstOpt < 0) firstOpt = i;
      lastOpt = i;
    }
  }
  for (let i = 1; i < argv.length; i++) {
    out += linebreaks && !staysOnLine(argv, i, firstOpt, lastOpt) ? ' \\\n' : ' ';
    out += shellEscape(argv[i]);
  }
  return out;
}

/**
 * The unquoted log line of writeArgLog: env entries and arguments separated by single
 * spaces, with a newline at the end.
 */
export function formatArgLog(argv: readonly string[], env: readonly string[] | null): string {
  return [...(env ?? []), ...argv].join(' ') + '\n';
}
