/**
 * runRegex()'s patterns in libvirt's dialect. libvirt compiles its patterns with GRegex, which
 * is PCRE with UTF-8, PCRE_UCP (\d, \w, \s, \b and the POSIX classes are Unicode-aware) and
 * PCRE_NEWLINE_ANY (any of \r \n \v \f NEL LS PS ends a line: `.` matches none of them, and `$`
 * also matches before one that ends the subject, so "name\r" of a CRLF line matches `^(.*)$`).
 *
 * - A pattern given as a string is read as GRegex reads it and translated into a JavaScript
 *   regex (flag `u`) that matches the same (atomic groups and possessive quantifiers emulated
 *   with a lookahead and a backreference, whose extra groups `groupAt` maps around); what has no
 *   faithful translation is refused with a PatternError naming the construct (never a pattern
 *   that silently matches nothing).
 * - A RegExp is JavaScript's, matched as JavaScript does, except that `$` (without the `m`
 *   flag) also matches before a final line-ending character, as GRegex's does; PCRE escapes
 *   that a RegExp without `u`/`v` would silently read as letters (`\Z`, `\A`, `\h`...), and POSIX
 *   classes (`[[:digit:]]`, a class of ':', 'd', 'i'... there), are refused.
 */

/** A pattern construct that cannot be matched as libvirt would. */
export class PatternError extends Error {}

/** A pattern GRegex itself would refuse to compile. */
export class PatternSyntaxError extends Error {}

// The characters that end a line under PCRE_NEWLINE_ANY (the ones \R matches), as class items.
const NL = '\\n\\v\\f\\r\\x85\\u2028\\u2029';
const DOT = `[^${NL}]`;
const ANY = '[^]';
// `$`: end of subject, or before a line end that ends it (\r\n counts as one).
const END = `(?=(?:\\r\\n|[${NL}])?$)`;
// PCRE_UCP's \w and \s, as class items.
const WORD = '\\p{L}\\p{N}_';
const SPACE = `${NL}\\t\\u180e\\p{Z}`; // UCP: \p{Z}, \h and \v
const HSPACE = '\\t\\p{Zs}\\u180e';
const BOUNDARY = `(?:(?<=[${WORD}])(?![${WORD}])|(?<![${WORD}])(?=[${WORD}]))`;
const NOT_BOUNDARY = `(?:(?<=[${WORD}])(?=[${WORD}])|(?<![${WORD}])(?![${WORD}]))`;

// POSIX classes under PCRE_UCP, as class items; the negated form where one item does it.
const POSIX: Record<string, [string, string | null]> = {
  alpha: ['\\p{L}', '\\P{L}'],
  digit: ['\\p{Nd}', '\\P{Nd}'],
  lower: ['\\p{Ll}', '\\P{Ll}'],
  upper: ['\\p{Lu}', '\\P{Lu}'],
  cntrl: ['\\p{Cc}', '\\P{Cc}'],
  alnum: ['\\p{L}\\p{N}', null],
  word: [WORD, null],
  space: [SPACE, null],
  blank: [HSPACE, null],
  xdigit: ['0-9A-Fa-f', null],
  ascii: ['\\0-\\x7f', '\\x80-\\u{10ffff}'],
};

// A JavaScript escape for one code point (valid in and out of classes under the `u` flag).
const cp = (code: number): string => `\\u{${code.toString(16)}}`;
// An escaped character (`\-`, `\Q...\E`) as a JavaScript atom that is literal anywhere.
const literal = (ch: string): string => (/^[A-Za-z0-9]$/.test(ch) ? ch : cp(ch.codePointAt(0) as number));

interface Scope {
  multiline: boolean;
  dotall: boolean;
  extended: boolean;
  ungreedy: boolean;
  /** Where the group's text starts in the output, and the JavaScript groups opened before it. */
  start: number;
  jsBefore: number;
  /** What closes it, when not ')' (an emulated atomic group). */
  close?: string;
}

/** A libvirt pattern translated: JavaScript source and flags, and where each PCRE group went. */
export interface TranslatedPattern {
  source: string;
  flags: string;
  /** groupAt[n]: the JavaScript group holding PCRE group n (emulation adds groups of its own). */
  groupAt: number[];
}

/** A libvirt (GRegex) pattern as a JavaScript regex's source and flags. */
export function fromLibvirtPattern(p: string): TranslatedPattern {
  let i = 0;
  let out = '';
  let groups = 0;
  let caseless = false;
  let maxRef = 0;
  let jsGroups = 0;
  const groupAt: number[] = [0];
  // The last atom emitted (a possessive quantifier wraps it), and whether it holds captures.
  let lastAtom: { start: number; captures: boolean } | null = null;
  const scopes: Scope[] = [{ multiline: false, dotall: false, extended: false, ungreedy: false, start: 0, jsBefore: 0 }];
  const scope = (): Scope => scopes[scopes.length - 1];
  const fail = (what: string): never => {
    throw new PatternError(`${what} (at offset ${i}) has no JavaScript equivalent`);
  };
  const codeOf = (s: string): number => s.codePointAt(0) as number;

  // The escape after a backslash at p[i] (i on the letter); `inClass` for class items.
  function escape(inClass: boolean): string {
    const c = p[i++];
    if (c === undefined) throw new PatternSyntaxError('\\ at end of pattern');
    switch (c) {
      case 'd':
        return inClass ? '\\p{Nd}' : '\\p{Nd}';
      case 'D':
        return '\\P{Nd}';
      case 'w':
        return inClass ? WORD : `[${WORD}]`;
      case 's':
        return inClass ? SPACE : `[${SPACE}]`;
      case 'h':
        return inClass ? HSPACE : `[${HSPACE}]`;
      case 'v':
        return inClass ? NL : `[${NL}]`;
      case 'W':
      case 'S':
      case 'H':
      case 'V':
        if (inClass) fail(`\\${c} inside a character class`);
        return `[^${{ W: WORD, S: SPACE, H: HSPACE, V: NL }[c]}]`;
      case 'n':
      case 'r':
      case 't':
      case 'f':
        return `\\${c}`;
      case 'e':
        return '\\x1b';
      case 'a':
        return '\\x07';
      case 'b':
        return inClass ? '\\x08' : BOUNDARY;
      case 'x': {
        if (p[i] === '{') {
          const end = p.indexOf('}', i);
          const hex = p.slice(i + 1, end);
          if (end < 0 || !/^[0-9a-fA-F]+$/.test(hex)) fail('a malformed \\x{...}');
          i = end + 1;
          return cp(parseInt(hex, 16));
        }
        const m = /^[0-9a-fA-F]{0,2}/.exec(p.slice(i))?.[0] ?? '';
        i += m.length;
        return cp(m === '' ? 0 : parseInt(m, 16));
      }
      case 'o': {
        const end = p.indexOf('}', i);
        const oct = p.slice(i + 1, end);
        if (p[i] !== '{' || end < 0 || !/^[0-7]+$/.test(oct)) fail('a malformed \\o{...}');
        i = end + 1;
        return cp(parseInt(oct, 8));
      }
      case 'c': {
        const ch = p[i++];
        if (ch === undefined || ch.charCodeAt(0) > 127) fail('\\c without an ASCII character');
        return cp(ch.toUpperCase().charCodeAt(0) ^ 0x40);
      }
      case 'p':
      case 'P': {
        let name: string;
        if (p[i] === '{') {
          const end = p.indexOf('}', i);
          if (end < 0) fail('a malformed \\p{...}');
          name = p.slice(i + 1, end);
          i = end + 1;
        } else name = p[i++] ?? '';
        let neg = c === 'P';
        if (name.startsWith('^')) {
          neg = !neg;
          name = name.slice(1);
        }
        if (name === 'Any') {
          if (neg) fail('\\P{Any}');
          return inClass ? '\\0-\\u{10ffff}' : ANY;
        }
        if (name === 'L&') name = 'LC';
        const gc = /^(?:[CLMNPSZ][a-z]?|LC)$/.test(name);
        const prop = gc ? name : `Script=${name}`;
        try {
          new RegExp(`\\p{${prop}}`, 'u');
        } catch {
          fail(`the property \\p{${name}}`);
        }
        return `\\${neg ? 'P' : 'p'}{${prop}}`;
      }
      case 'Q': {
        const end = p.indexOf('\\E', i);
        const text = end < 0 ? p.slice(i) : p.slice(i, end);
        i = end < 0 ? p.length : end + 2;
        return [...text].map(literal).join('');
      }
      case 'E':
        return '';
      default:
        break;
    }
    if (!inClass) {
      switch (c) {
        case 'B':
          return NOT_BOUNDARY;
        case 'A':
        case 'G':
          return '^'; // one search from offset 0: both are the subject's start
        case 'z':
          return '$';
        case 'Z':
          return END;
        case 'N':
          return DOT;
        case 'R':
          return `(?:\\r\\n|[${NL}])`;
        case 'k':
        case 'g':
          return backref(c);
        default:
          break;
      }
    }
    if (c >= '1' && c <= '9') {
      const digits = /^\d*/.exec(p.slice(i))?.[0] ?? '';
      const n = Number(c + digits);
      if (!inClass && (n < 10 || n <= groups)) {
        // PCRE: a group not yet set never matches; JavaScript's empty match would differ.
        if (n > groups) fail(`the reference \\${n} to a group not opened before it`);
        i += digits.length;
        maxRef = Math.max(maxRef, n);
        return `(?:\\${groupAt[n]})`;
      }
      fail(`the octal escape \\${c}${digits}`);
    }
    if (c === '0') {
      const oct = /^[0-7]{0,2}/.exec(p.slice(i))?.[0] ?? '';
      i += oct.length;
      return cp(parseInt(`0${oct}`, 8));
    }
    if (/[A-Za-z]/.test(c)) fail(`the escape \\${c}`);
    const whole = String.fromCodePoint(codeOf(p.slice(i - 1)));
    i += whole.length - 1;
    return literal(whole);
  }

  // \k<name> \k'name' \k{name} \g{name} \g{n} \gn \g{-n} (i after the letter).
  function backref(letter: string): string {
    const open = p[i];
    const close = open === '<' ? '>' : open === "'" ? "'" : open === '{' ? '}' : null;
    let ref: string;
    if (close) {
      const end = p.indexOf(close, i + 1);
      if (end < 0) fail(`a malformed \\${letter} reference`);
      ref = p.slice(i + 1, end);
      i = end + 1;
    } else if (letter === 'g' && /^-?\d/.test(p.slice(i))) {
      ref = /^-?\d+/.exec(p.slice(i))?.[0] as string;
      i += ref.length;
    } else return fail(`\\${letter} without a name or number`);
    if (/^-?\d+$/.test(ref)) {
      let n = Number(ref);
      if (n < 0) n = groups + 1 + n;
      if (n < 1 || n > groups) fail(`the reference \\${letter}${ref} to a group not opened before it`);
      maxRef = Math.max(maxRef, n);
      return `(?:\\${groupAt[n]})`;
    }
    if (!/^[A-Za-z_]\w*$/.test(ref)) fail(`the reference to '${ref}'`);
    return `\\k<${ref}>`;
  }

  function charClass(): string {
    let s = '[';
    if (p[i] === '^') {
      s += '^';
      i++;
    }
    if (p[i] === ']') {
      s += '\\]';
      i++;
    }
    for (;;) {
      const c = p[i];
      if (c === undefined) throw new PatternSyntaxError('missing terminating ] for character class');
      if (c === ']') {
        i++;
        return `${s}]`;
      }
      if (c === '[') {
        const posix = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(i));
        if (posix) {
          const entry = POSIX[posix[2]];
          if (!entry) fail(`the POSIX class [:${posix[2]}:]`);
          const item = posix[1] ? entry[1] : entry[0];
          if (item === null) fail(`the negated POSIX class [:^${posix[2]}:]`);
          s += item;
          i += posix[0].length;
          continue;
        }
        if (p[i + 1] === '.' || p[i + 1] === '=') fail('a POSIX collating element');
        s += '\\[';
        i++;
        continue;
      }
      if (c === '\\') {
        i++;
        s += escape(true);
        continue;
      }
      if (c === '-') {
        s += '-';
        i++;
        continue;
      }
      const ch = String.fromCodePoint(codeOf(p.slice(i)));
      i += ch.length;
      s += ch;
    }
  }

  // Appends a quantifier to the last atom: PCRE's lazy '?' is JavaScript's, and a possessive
  // `X*+` is the atomic `(?>X*)`, emulated as `(?=(X*))\k` with a group of its own (which
  // cannot renumber groups already opened only if X holds none).
  function quantify(q: string): void {
    if (p[i] === '+') {
      const a = lastAtom;
      if (a === null || a.captures) return fail(`the possessive quantifier ${q}+ on a group with captures`);
      i++;
      const h = ++jsGroups;
      out = `${out.slice(0, a.start)}(?:(?=(${out.slice(a.start)}${q}))\\${h})`;
      return;
    }
    const lazy = p[i] === '?';
    if (lazy) i++;
    out += q + (lazy !== scope().ungreedy ? '?' : '');
  }

  // Opens a group whose output starts now.
  function open(scope0: Scope, text: string, close?: string): void {
    scopes.push({ ...scope0, start: out.length, jsBefore: jsGroups, close });
    out += text;
  }

  // (?flags) or (?flags: at p[i] (after "(?"); false when it is not one.
  function optionGroup(atStart: boolean): boolean {
    const m = /^([imsxUJn]*)(?:-([imsxUJn]*))?([:)])/.exec(p.slice(i));
    if (!m) return false;
    const on = m[1];
    const off = m[2] ?? '';
    i += m[0].length;
    const target: Scope = { ...scope() };
    for (const [letters, value] of [
      [on, true],
      [off, false],
    ] as const) {
      for (const f of letters) {
        if (f === 'm') target.multiline = value;
        else if (f === 's') target.dotall = value;
        else if (f === 'x') target.extended = value;
        else if (f === 'U') target.ungreedy = value;
        else if (f === 'i') {
          if (!(atStart && value && m[3] === ')')) fail(`(?${m[1]}${m[2] !== undefined ? `-${m[2]}` : ''}${m[3]}: case-insensitivity for part of a pattern`);
          caseless = true;
        } else fail(`the option (?${f})`);
      }
    }
    if (m[3] === ')') {
      Object.assign(scope(), { multiline: target.multiline, dotall: target.dotall, extended: target.extended, ungreedy: target.ungreedy });
      return true;
    }
    open(target, '(?:');
    return true;
  }

  while (i < p.length) {
    const c = p[i];
    const sc = scope();
    const before = out.length;
    let atom: { start: number; captures: boolean } | null = null;
    if (sc.extended && /\s/.test(c)) {
      i++;
      continue;
    }
    if (sc.extended && c === '#') {
      const nl = p.slice(i).search(/[\n\r]/);
      i = nl < 0 ? p.length : i + nl + 1;
      continue;
    }
    switch (c) {
      case '\\':
        i++;
        out += escape(false);
        atom = { start: before, captures: false };
        break;
      case '[':
        i++;
        out += charClass();
        atom = { start: before, captures: false };
        break;
      case '(': {
        const atStart = out === '' && scopes.length === 1;
        i++;
        if (p[i] === '*') fail('a backtracking verb or start-of-pattern option (*...)');
        if (p[i] !== '?') {
          groups++;
          open(sc, '(');
          groupAt[groups] = ++jsGroups;
          break;
        }
        i++;
        const rest = p.slice(i);
        if (rest.startsWith('#')) {
          const end = p.indexOf(')', i);
          if (end < 0) throw new PatternSyntaxError('missing ) after comment');
          i = end + 1;
          atom = lastAtom; // a comment is not an atom
          break;
        }
        const named = /^(?:P?<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')/.exec(rest);
        if (named) {
          groups++;
          i += named[0].length;
          open(sc, `(?<${named[1] ?? named[2]}>`);
          groupAt[groups] = ++jsGroups;
          break;
        }
        const pref = /^P=([A-Za-z_]\w*)\)/.exec(rest);
        if (pref) {
          i += pref[0].length;
          out += `\\k<${pref[1]}>`;
          atom = { start: before, captures: false };
          break;
        }
        const look = /^(?::|=|!|<=|<!)/.exec(rest);
        if (look) {
          i += look[0].length;
          open(sc, `(?${look[0]}`);
          break;
        }
        if (rest.startsWith('>')) {
          // atomic: (?>X) is (?=(X))\h, what the lookahead matched taken whole, never retried
          i++;
          const h = ++jsGroups;
          open(sc, '(?:(?=(', `))\\${h})`);
          break;
        }
        if (rest.startsWith('|')) fail('the branch-reset group (?|...)');
        if (rest.startsWith('(')) fail('the conditional group (?(...)...)');
        if (/^(?:R|[+-]?\d|&|P>)/.test(rest)) fail('a recursive subpattern call');
        if (!optionGroup(atStart)) fail(`the group (?${rest.slice(0, 1)}`);
        atom = lastAtom; // (?i) and the like are not atoms; (?s:...) is one once closed
        break;
      }
      case ')':
        i++;
        if (scopes.length === 1) throw new PatternSyntaxError(') without opening (');
        {
          const closed = scopes.pop() as Scope;
          out += closed.close ?? ')';
          atom = { start: closed.start, captures: jsGroups > closed.jsBefore };
        }
        break;
      case '.':
        i++;
        out += sc.dotall ? ANY : DOT;
        atom = { start: before, captures: false };
        break;
      case '^':
        i++;
        out += sc.multiline ? `(?:^|(?<=[${NL}])(?!$))` : '^';
        break;
      case '$':
        i++;
        out += sc.multiline ? `(?=[${NL}]|$)` : END;
        break;
      case '*':
      case '+':
      case '?':
        i++;
        quantify(c);
        break;
      case '{': {
        const q = /^\{\d+(?:,\d*)?\}/.exec(p.slice(i));
        if (q) {
          i += q[0].length;
          quantify(q[0]);
        } else {
          i++;
          out += '\\{';
          atom = { start: before, captures: false };
        }
        break;
      }
      case '}':
      case ']':
        i++;
        out += `\\${c}`;
        atom = { start: before, captures: false };
        break;
      case '|':
        i++;
        out += '|';
        break;
      default: {
        const ch = String.fromCodePoint(codeOf(p.slice(i)));
        i += ch.length;
        out += ch;
        atom = { start: before, captures: false };
      }
    }
    lastAtom = atom;
  }
  if (scopes.length > 1) throw new PatternSyntaxError('missing terminating )');
  if (maxRef > groups) throw new PatternSyntaxError(`reference to non-existent subpattern ${maxRef}`);
  return { source: out, flags: caseless ? 'iu' : 'u', groupAt };
}

/** Refuses PCRE-only constructs a RegExp would silently misread, and gives `$` GRegex's line ends. */
export function withLibvirtLineEnds(re: RegExp): RegExp {
  const flags = re.flags.replace(/[gy]/g, '');
  const strict = /[uv]/.test(flags);
  const src = re.source;
  let out = '';
  let depth = 0; // class nesting (the `v` flag nests classes)
  for (let i = 0; i < src.length; i++) {
    const inClass = depth > 0;
    const c = src[i];
    if (c === '\\') {
      const n = src[i + 1];
      if (!strict && !inClass && /[AZzGhHRKXQENC]/.test(n)) {
        throw new PatternError(
          `\\${n} is a PCRE escape; in a JavaScript RegExp it is the letter '${n}' (give libvirt's pattern as a string to have it translated)`,
        );
      }
      out += c + n;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') depth--;
      else if (c === '[' && flags.includes('v')) depth++;
      else if (c === '[' && !strict && /^\[:\^?[a-z]+:\]/.test(src.slice(i))) {
        throw new PatternError(
          `${/^\[:\^?[a-z]+:\]/.exec(src.slice(i))?.[0]} is a POSIX class; in a JavaScript RegExp it is a set of characters (give libvirt's pattern as a string to have it translated)`,
        );
      }
      out += c;
      continue;
    }
    if (c === '[') depth = 1;
    out += c === '$' && !flags.includes('m') ? END : c;
  }
  return new RegExp(out, flags);
}
