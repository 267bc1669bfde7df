/**
 * The child zone's errno table (native/child/child_errno.cc), used by exec()'s failure line,
 * says what the TypeScript side says: the names of errnoName() (src/errno-names.ts) and the
 * texts of errnoText() (src/errno-text.ts), for every Linux errno 1..133; and its RLIMIT_ names match
 * src/constants.ts. The table is C++ source, so it is read here as text.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RLIMIT_NUMBERS } from '../../src/constants';
import { ERRNO_TEXT } from '../../src/errno-text';
import { errnoName, errnoText } from '../../src/errors';

const SOURCE = fs.readFileSync(path.join(__dirname, '..', '..', 'native', 'child', 'child_errno.cc'), 'utf8');

describe('native/child/child_errno.cc', () => {
  it('has a name and text for errno 1..133 that match errnoName() and errnoText()', () => {
    const rows = [...SOURCE.matchAll(/^\s*\{(nullptr|"(E[A-Z0-9]+)"), "([^"]*)"\},\s*\/\/ (\d+)$/gm)];
    expect(rows.length).toBe(ERRNO_TEXT.length - 1);
    for (const [, , name, text, num] of rows) {
      const errno = Number(num);
      expect(text, `text of ${errno}`).toBe(errnoText(errno));
      if (name !== undefined) expect(name, `name of ${errno}`).toBe(errnoName(errno));
      else expect(errnoText(errno), `${errno} has no name`).toBe(`Unknown error ${errno}`);
    }
    expect(rows.map((r) => Number(r[4]))).toEqual(Array.from({ length: 133 }, (_, i) => i + 1));
  });

  it('names the resources in RLIMIT_NUMBERS order', () => {
    const block = SOURCE.slice(SOURCE.indexOf('kRlimitNames[] = {'), SOURCE.indexOf('};', SOURCE.indexOf('kRlimitNames[] = {')));
    const names = [...block.matchAll(/"RLIMIT_([A-Z]+)"/g)].map((m) => m[1]);
    expect(names).toEqual(Object.keys(RLIMIT_NUMBERS).sort((a, b) => RLIMIT_NUMBERS[a] - RLIMIT_NUMBERS[b]));
  });
});
