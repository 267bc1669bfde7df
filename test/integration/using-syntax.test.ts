/**
 * What the README says of the `using` / `await using` syntax, on this Node:
 * - Node 20 itself refuses it in a plain file, `.mjs` (module) and `.js` (CommonJS), with
 *   `SyntaxError: Unexpected identifier`;
 * - `Symbol.dispose` and `Symbol.asyncDispose` exist, so `cmd.free()` / `await
 *   cmd[Symbol.asyncDispose]()` in a `finally` work there;
 * - TypeScript (the project's, 5.2 or later) lowers `await using` to code this Node runs: the
 *   block's end kills and reaps the running child.
 * Each runs a separate `node`, as a user's plain file would.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { buildUnderTestEnv, PACKAGE_ENTRY, TS_REGISTER } from '../helpers/node-child';
import { makeTmpDir } from '../helpers/tmp';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

function runNode(file: string, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...args, file], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin', VC_TEST_ENTRY: PACKAGE_ENTRY, ...buildUnderTestEnv() },
    timeout: 20000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('`using` and `await using` on this Node', () => {
  it('Node 20 refuses the syntax in a plain .mjs and .js file: SyntaxError: Unexpected identifier', (ctx) => {
    if (NODE_MAJOR !== 20) {
      console.warn(`[skip] the README's sentence is about Node 20; this is Node ${process.versions.node}`);
      ctx.skip();
    }
    const dir = makeTmpDir('vc-using-');
    const files: Record<string, string> = {
      'top-level.mjs': 'await using x = null;\n',
      'block.js': '{ using x = null; }\n',
      'async-function.js': 'async function f() { await using x = null; }\nf();\n',
    };
    for (const [name, code] of Object.entries(files)) {
      fs.writeFileSync(path.join(dir, name), code);
      const r = runNode(path.join(dir, name));
      expect(r.status, `${name}: ${r.stderr}`).not.toBe(0);
      expect(r.stderr, name).toMatch(/^SyntaxError: Unexpected identifier\b/m);
    }
  });

  it('Symbol.dispose and Symbol.asyncDispose exist in a plain node process', () => {
    const dir = makeTmpDir('vc-using-');
    const file = path.join(dir, 'symbols.js');
    fs.writeFileSync(file, 'process.stdout.write(typeof Symbol.dispose + " " + typeof Symbol.asyncDispose);\n');
    const r = runNode(file);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('symbol symbol');
  });

  it(`TypeScript ${ts.version} lowers \`await using\` to code this Node runs: the block's end kills and reaps the child`, () => {
    const [major, minor] = ts.version.split('.').map(Number);
    expect(major > 5 || (major === 5 && minor >= 2), `TypeScript ${ts.version}`).toBe(true);
    const source = `
const vc = require(process.env.VC_TEST_ENTRY);
async function main(): Promise<void> {
  let pid = 0;
  {
    await using cmd = new vc.Command('sleep', '30');
    pid = cmd.runAsync();
    process.kill(pid, 0); // running inside the block
  }
  let alive = true;
  try { process.kill(pid, 0); } catch { alive = false; }
  process.stdout.write(JSON.stringify({ pid, alive }));
}
main().catch((e) => { console.error(e); process.exit(1); });
`;
    const out = ts.transpileModule(source, {
      reportDiagnostics: true,
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, strict: true },
    });
    expect(out.diagnostics ?? []).toEqual([]);
    expect(out.outputText, 'lowered: no `using` left in the output').not.toMatch(/\busing\s+cmd\b/);
    const dir = makeTmpDir('vc-using-');
    const file = path.join(dir, 'compiled.js');
    fs.writeFileSync(file, out.outputText);
    const r = runNode(file, ['-r', TS_REGISTER]);
    expect(r.status, r.stderr).toBe(0);
    const { pid, alive } = JSON.parse(r.stdout) as { pid: number; alive: boolean };
    expect(pid).toBeGreaterThan(0);
    expect(alive, `pid ${pid} after the block`).toBe(false);
  });
});
