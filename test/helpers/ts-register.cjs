/*
 * Lets a plain `node` child process load the TypeScript sources directly
 * (node -r test/helpers/ts-register.cjs ...), so scripts run by the
 * integration tests exercise the same src/ that vitest tests, without a
 * build step. Each .ts file is transpiled on require with the repository's
 * own `typescript` (no type checking). An import of "./x.js" that only
 * exists as "./x.ts" is resolved to the .ts file.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const Module = require('module');
const ts = require('typescript');

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const out = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      inlineSourceMap: true,
    },
  });
  module._compile(out.outputText, filename);
};

const resolve = Module._resolveFilename;
Module._resolveFilename = function resolveTs(request, parent, ...rest) {
  try {
    return resolve.call(this, request, parent, ...rest);
  } catch (e) {
    if (parent && parent.filename && /^\.\.?\//.test(request) && /\.[cm]?js$/.test(request)) {
      const candidate = path.resolve(path.dirname(parent.filename), request.replace(/\.[cm]?js$/, '.ts'));
      if (fs.existsSync(candidate)) return candidate;
    }
    throw e;
  }
};
