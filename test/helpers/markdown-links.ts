/**
 * The links of a Markdown file and the anchors it defines, as GitHub renders them:
 * - markdownLinks(text): inline links and images `[t](target)`, reference definitions
 *   `[label]: target`, autolinks `<https://...>` and HTML `href`/`src` attributes, outside fenced
 *   code blocks and code spans, each with its line number;
 * - markdownAnchors(text): the ids GitHub gives the headings (githubSlug, with -1, -2, ... for
 *   repeats, counted in document order) plus explicit `<a id>`/`<a name>` anchors;
 * - githubSlug(heading): GitHub's rule (github-slugger): the heading's text as rendered, lower
 *   case, every character that is not a letter, mark, digit, connector punctuation ('_'), '-' or
 *   a space removed, each space turned into '-'.
 */

export interface MarkdownLink {
  line: number;
  target: string;
}

/** The text's lines with fenced code blocks blanked (line numbers kept); fences may be indented (list items). */
function withoutFences(text: string): string[] {
  const lines = text.split('\n');
  let fence: string | null = null;
  return lines.map((line) => {
    const open = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence === null) {
      if (open) {
        fence = open[1];
        return '';
      }
      return line;
    }
    if (open && open[1][0] === fence[0] && open[1].length >= fence.length && line.trim() === open[1]) fence = null;
    return '';
  });
}

/** A line with its code spans removed (`` `a](b)` `` is not a link). */
function withoutCodeSpans(line: string): string {
  return line.replace(/(`+)(?:(?!\1)[\s\S])*?\1/g, '');
}

/** The target of an inline link starting right after `](`: balanced parentheses, optional <...> and title. */
function inlineTarget(rest: string): string | null {
  if (rest.startsWith('<')) {
    const end = rest.indexOf('>');
    return end < 0 ? null : rest.slice(1, end);
  }
  let depth = 0;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) return rest.slice(0, i).trim().split(/\s+/)[0] ?? '';
      depth--;
    }
  }
  return null;
}

export function markdownLinks(text: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  withoutFences(text).forEach((raw, index) => {
    const line = withoutCodeSpans(raw);
    const lineNo = index + 1;
    const def = /^ {0,3}\[[^\]^][^\]]*\]:\s*<?([^\s>]*)>?/.exec(line); // not a footnote [^1]:
    if (def) links.push({ line: lineNo, target: def[1] });
    for (let at = line.indexOf(']('); at >= 0; at = line.indexOf('](', at + 2)) {
      if (line[at - 1] === '\\') continue; // \]( is text, not a link
      const target = inlineTarget(line.slice(at + 2));
      if (target !== null) links.push({ line: lineNo, target });
    }
    for (const m of line.matchAll(/<((?:https?|mailto):[^\s<>]*)>/g)) links.push({ line: lineNo, target: m[1] });
    for (const m of line.matchAll(/\s(?:href|src)\s*=\s*["']([^"']*)["']/g)) links.push({ line: lineNo, target: m[1] });
  });
  return links;
}

/** A heading's text as GitHub renders it: code spans, emphasis, links and HTML tags reduced to their text. */
function renderedHeading(source: string): string {
  return source
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/`+/g, '')
    .replace(/\*+|~~/g, '')
    .replace(/(^|[^\p{L}\p{N}])_+|_+(?=[^\p{L}\p{N}]|$)/gu, '$1')
    .replace(/\\([!-/:-@[-`{-~])/g, '$1')
    .trim();
}

export function githubSlug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

export function markdownAnchors(text: string): Set<string> {
  const anchors = new Set<string>();
  // github-slugger: a repeated slug gets the next free -1, -2, ... counted per base slug.
  const occurrences = new Map<string, number>();
  const add = (heading: string): void => {
    const base = githubSlug(renderedHeading(heading));
    let slug = base;
    while (occurrences.has(slug)) {
      const n = (occurrences.get(base) ?? 0) + 1;
      occurrences.set(base, n);
      slug = `${base}-${n}`;
    }
    occurrences.set(slug, 0);
    anchors.add(slug);
  };
  const lines = withoutFences(text);
  lines.forEach((line, i) => {
    const atx = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (atx) add(atx[1] ?? '');
    else if (/^ {0,3}(=+|-+)[ \t]*$/.test(line) && i > 0 && lines[i - 1].trim() !== '' && !/^ {0,3}([-*+]\s|#|>|\|)/.test(lines[i - 1])) {
      add(lines[i - 1].trim());
    }
    for (const m of withoutCodeSpans(line).matchAll(/<a\s[^>]*?\b(?:id|name)\s*=\s*["']([^"']+)["']/g)) anchors.add(m[1]);
  });
  return anchors;
}
