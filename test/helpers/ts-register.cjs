/*
 * Lets a plain `node` child process load the TypeScript sources directly
 * (node -r test/helpers/ts-register.cjs ...), so scripts run by the
 * integration tests exercise the same src/ that vitest tests, without a
 * build step. Each .ts file is transpiled on require with the repository's
 * own `typescript` (no type checking). An import of "./x.js" that only
 * exists as "./x.ts" is resolved to the .ts file.
 *
 * The output is cached on disk, keyed by a hash of the file's path and
 * source, typescript's version and this file: loading typescript and
 * transpiling src/ cost about 1 s of CPU per node process (the suite starts
 * a hundred or so), a cache hit about nothing. The cache is a directory of
 * this user's own (0700) under the temp dir; without it, nothing is cached.
 */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const Module = require('module');

let ts = null; // loaded on the first cache miss only
const SALT = `${require('typescript/package.json').version}\0${fs.readFileSync(__filename, 'utf8')}`;

function cacheDir() {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'u';
  const dir = path.join(os.tmpdir(), `vircommand-ts-cache-${uid}`);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if (e.code !== 'EEXIST') return null;
  }
  try {
    const st = fs.lstatSync(dir);
    // someone else's directory (or a symlink) under a shared /tmp: do not trust it
    return st.isDirectory() && st.uid === process.getuid() && (st.mode & 0o022) === 0 ? dir : null;
  } catch {
    return null;
  }
}
const CACHE = cacheDir();

function transpile(filename, source) {
  ts = ts || require('typescript');
  return ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      inlineSourceMap: true,
    },
  }).outputText;
}

require.extensions['.ts'] = function compileTs(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const key = crypto.createHash('sha256').update(`${SALT}\0${filename}\0${source}`).digest('hex');
  const cached = CACHE && path.join(CACHE, `${key}.js`);
  let code = null;
  if (cached) {
    try {
      code = fs.readFileSync(cached, 'utf8');
    } catch {}
  }
  if (code === null) {
    code = transpile(filename, source);
    if (cached) {
      // write-then-rename: concurrent test processes never read a half-written file
      const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
      try {
        fs.writeFileSync(tmp, code, { mode: 0o600 });
        fs.renameSync(tmp, cached);
      } catch {
        try {
          fs.unlinkSync(tmp);
        } catch {}
      }
    }
  }
  module._compile(code, filename);
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
