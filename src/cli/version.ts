/** --version: the package's version. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The package's version, from the package.json above dist/ (this file is dist/cli/version.js). */
export function version(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
