/**
 * The shipped source maps: the package ships dist/ and not src/, so each map must
 * carry its sources (sourcesContent) or it points at files the package lacks. Compiles a file
 * with the options of tsconfig.build.json (as `npm run build:ts` does), in memory.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/build-helper';

function buildOptions(): ts.CompilerOptions {
  const host: ts.ParseConfigFileHost = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  };
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(REPO_ROOT, 'tsconfig.build.json'), {}, host);
  if (!parsed) throw new Error('tsconfig.build.json did not parse');
  return parsed.options;
}

describe('shipped source maps', () => {
  it('the package ships dist/ (maps included) and not src/', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[] };
    expect(pkg.files).toContain('dist');
    expect(pkg.files.filter((f) => f.startsWith('src') || f.includes('.map'))).toEqual([]);
  });

  it('tsconfig.build.json emits maps with their sources embedded', () => {
    const options = buildOptions();
    expect(options.sourceMap).toBe(true);
    expect(options.inlineSources).toBe(true);
    const file = path.join(REPO_ROOT, 'src', 'constants.ts');
    const out = new Map<string, string>();
    const program = ts.createProgram([file], { ...options, declaration: false, noEmitOnError: false });
    program.emit(undefined, (name, text) => out.set(path.basename(name), text));
    const map = JSON.parse(out.get('constants.js.map') ?? '{}') as { sources?: string[]; sourcesContent?: string[] };
    expect(map.sources).toEqual(['../src/constants.ts']);
    expect(map.sourcesContent).toEqual([fs.readFileSync(file, 'utf8')]);
    expect(out.get('constants.js')).toMatch(/\/\/# sourceMappingURL=constants\.js\.map\s*$/);
  });
});
