/**
 * libvirt's virCommandRunRegex and virCommandRunNul. The child's stdout is a pipe parsed as it
 * arrives (run/index.ts runConsuming starts the run, run/consume.ts reads, splits and ends it), so a
 * 100 MB output costs one chunk and one record of memory, not 100 MB; with runRegex's
 * `parse: 'after-exit'` it is read whole and parsed only once the run has succeeded, libvirt's
 * order.
 *
 * Matching follows libvirt (libvirt-facts.md, "Regex and NUL helpers"):
 * - runRegex: stdout is split at '\n' as g_strsplit does: empty output has no lines, and the
 *   text after the last '\n' is a line even when empty ("a\n" is "a" and ""). A line that
 *   starts with `prefix` loses it. Every regex is then searched (not anchored unless it says
 *   so) in that same line, in order; when all match, the callback gets the groups 1..n of each
 *   regex, concatenated, n being `groups[i]` or all of that regex's groups. A group that took no
 *   part in the match is '' (GLib returns "" there too). String patterns are GRegex's, and
 *   RegExps get GRegex's `$` at a line end (run/regex-dialect.ts).
 * - runNul: stdout is split at NUL bytes as getdelim(3) does (an empty field between two NULs
 *   counts; text after the last NUL is a field; empty output has none); the callback gets every
 *   numColumns fields, then once the fewer fields left at the end, if any.
 * Where libvirt stops on a callback returning < 0, ours stops on one that throws or rejects.
 */
import type { CommandState } from '../plan';
import { runConsuming } from './index';
import { OPTION_NAMES, type RunResult } from '../types';
import type { RunNulOptions, RunRegexOptions } from '../types-streams';
import { arg, checkInteger, checkOptions, checkString, typeError, valueError } from '../validate';
import type { ParseJob } from './consume';
import { fromLibvirtPattern, PatternError, withLibvirtLineEnds } from './regex-dialect';
import { BytesSplitter, detached, TextSplitter } from './split';

interface Matcher {
  re: RegExp;
  take: number;
  /** groupAt[n]: the index in the match of the pattern's group n. */
  groupAt: number[];
}

// One pattern as a JavaScript regex (regex-dialect.ts): a string is libvirt's GRegex pattern,
// translated; a RegExp is used as is but for `$` at a line end. Refused at call time when it
// cannot match as libvirt's would.
function compile(method: string, r: unknown, i: number): { re: RegExp; groupAt: number[] } {
  const name = arg(`regexes[${i}]`);
  if (!(r instanceof RegExp) && typeof r !== 'string') throw typeError(method, name, 'a RegExp or a string', r);
  try {
    if (r instanceof RegExp) {
      const re = withLibvirtLineEnds(r);
      // An alternative that matches '' tells how many groups the regex has.
      const count = (new RegExp(`${re.source}|`, re.flags).exec('') as RegExpExecArray).length - 1;
      return { re, groupAt: Array.from({ length: count + 1 }, (_, j) => j) };
    }
    const { source, flags, groupAt } = fromLibvirtPattern(r);
    return { re: new RegExp(source, flags), groupAt };
  } catch (err) {
    if (err instanceof PatternError) throw valueError(method, name, `cannot be matched as libvirt's GRegex would: ${err.message}`);
    throw valueError(method, name, `is not a valid regular expression: ${(err as Error).message}`);
  }
}

// The regexes as non-global copies (a global or sticky regex would carry lastIndex from one
// line to the next), with the number of groups to take from each.
function matchers(method: string, regexes: unknown, groups: unknown): Matcher[] {
  if (!Array.isArray(regexes)) throw typeError(method, arg('regexes'), 'an array of RegExp or strings', regexes);
  if (groups !== undefined && (!Array.isArray(groups) || groups.length !== regexes.length)) {
    throw typeError(method, arg('options.groups'), `an array of ${regexes.length} integers`, groups);
  }
  return regexes.map((r: unknown, i) => {
    const { re, groupAt } = compile(method, r, i);
    const count = groupAt.length - 1;
    const take = groups === undefined ? count : checkInteger(method, arg(`options.groups[${i}]`), (groups as unknown[])[i], 0, count);
    return { re, take, groupAt };
  });
}

function checkCallback(method: string, callback: unknown): void {
  if (typeof callback !== 'function') throw typeError(method, arg('callback'), 'a function', callback);
}

/** runRegex(): see the module comment. Arguments are checked at once (throws, not rejects). */
export function runRegex(
  state: CommandState,
  regexes: unknown,
  callback: (groups: string[], lineIndex: number) => unknown,
  options: unknown,
): Promise<RunResult<string | Buffer>> {
  const method = 'Command.runRegex';
  const { prefix, groups, parse, ...runOptions } = checkOptions<RunRegexOptions>(method, options, OPTION_NAMES.runRegex);
  const ms = matchers(method, regexes, groups);
  checkCallback(method, callback);
  const pre = prefix === undefined ? '' : checkString(method, arg('options.prefix'), prefix);
  if (parse !== undefined && parse !== 'streaming' && parse !== 'after-exit') {
    throw typeError(method, arg('options.parse'), "'streaming' or 'after-exit'", parse);
  }
  let index = 0;
  const job: ParseJob<string> = {
    splitter: new TextSplitter('\n', 'always'),
    afterExit: parse === 'after-exit',
    onRecord(rec) {
      const line = pre !== '' && rec.startsWith(pre) ? rec.slice(pre.length) : rec;
      const i = index++;
      const got: string[] = [];
      for (const m of ms) {
        const found = m.re.exec(line);
        if (found === null) return undefined;
        for (let j = 1; j <= m.take; j++) got.push(detached(found[m.groupAt[j]] ?? ''));
      }
      return callback(got, i);
    },
  };
  return runConsuming(state, method, runOptions, job);
}

/** runNul(): see the module comment. Arguments are checked at once (throws, not rejects). */
export function runNul(
  state: CommandState,
  numColumns: unknown,
  callback: (fields: (string | Buffer)[]) => unknown,
  options: unknown,
): Promise<RunResult<string | Buffer>> {
  const method = 'Command.runNul';
  const n = checkInteger(method, arg('numColumns'), numColumns, 1, 2 ** 31 - 1);
  checkCallback(method, callback);
  const o = checkOptions<RunNulOptions>(method, options, OPTION_NAMES.runNul);
  let fields: (string | Buffer)[] = [];
  // A field the callback may keep must not keep its chunk (split.ts detached()).
  const own = (rec: string | Buffer): string | Buffer => (typeof rec === 'string' ? detached(rec) : rec);
  const job: ParseJob = {
    splitter: o.encoding === 'buffer' ? new BytesSplitter(0, 'nonEmpty') : new TextSplitter('\0', 'nonEmpty'),
    afterExit: false,
    onRecord:
      n === 1
        ? (rec) => callback([own(rec)])
        : (rec) => {
            fields.push(own(rec));
            if (fields.length < n) return undefined;
            const full = fields;
            fields = [];
            return callback(full);
          },
    onEnd() {
      return fields.length > 0 ? callback(fields) : undefined;
    },
  };
  return runConsuming(state, method, o, job);
}
