/**
 * The table of docs/libvirt-mapping.md ("the API, by libvirt name") cannot lie: every function libvirt 11.x exports
 * from vircommand.h (and the test support of vircommandpriv.h) has a row, and every vircommand
 * name in the right column exists, on Command.prototype, as a static of Command, or as an export
 * of the package. A row that maps to nothing says "n/a:" and why.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as vircommand from '../../src/index';
import { REPO_ROOT } from '../helpers/build-helper';

// libvirt 11.3's vircommand.h and vircommandpriv.h, read from its source release, plus the process helpers of virprocess.h used with it.
const LIBVIRT_FUNCTIONS = [
  'virCommandNew',
  'virCommandNewArgs',
  'virCommandNewArgList',
  'virCommandNewVAList',
  'virCommandAddArg',
  'virCommandAddArgFormat',
  'virCommandAddArgPair',
  'virCommandAddArgSet',
  'virCommandAddArgList',
  'virCommandAddArgBuffer',
  'virCommandGetArgList',
  'virCommandGetBinaryPath',
  'virCommandAddEnvPair',
  'virCommandAddEnvString',
  'virCommandAddEnvFormat',
  'virCommandAddEnvPass',
  'virCommandAddEnvPassCommon',
  'virCommandAddEnvXDG',
  'virCommandAddEnvBuffer',
  'virCommandPassFD',
  'virCommandSetInputFD',
  'virCommandSetOutputFD',
  'virCommandSetErrorFD',
  'virCommandSetInputBuffer',
  'virCommandSetOutputBuffer',
  'virCommandSetErrorBuffer',
  'virCommandSetSendBuffer',
  'virCommandNonblockingFDs',
  'virCommandDoAsyncIO',
  'virCommandPeekSendBuffers',
  'virCommandSetUID',
  'virCommandSetGID',
  'virCommandGetUID',
  'virCommandGetGID',
  'virCommandClearCaps',
  'virCommandAllowCap',
  'virCommandSetMaxMemLock',
  'virCommandSetMaxProcesses',
  'virCommandSetMaxFiles',
  'virCommandSetMaxCoreSize',
  'virCommandSetUmask',
  'virCommandSetSELinuxLabel',
  'virCommandSetAppArmorProfile',
  'virCommandSetRunAlone',
  'virCommandSetRunAmong',
  'virCommandDaemonize',
  'virCommandSetPidFile',
  'virCommandSetWorkingDirectory',
  'virCommandSetPreExecHook',
  'virCommandRequireHandshake',
  'virCommandHandshakeWait',
  'virCommandHandshakeNotify',
  'virCommandWriteArgLog',
  'virCommandToString',
  'virCommandToStringFull',
  'virCommandToStringBuf',
  'virCommandRawStatus',
  'virCommandRun',
  'virCommandRunAsync',
  'virCommandWait',
  'virCommandAbort',
  'virCommandFree',
  'virCommandExec',
  'virCommandRunRegex',
  'virCommandRunNul',
  'virCommandSetDryRun',
  'virCommandDryRunTokenNew',
  'virCommandDryRunTokenFree',
  'virProcessWait',
  'virProcessAbort',
  'virFork',
];

interface Row {
  libvirt: string[];
  vircommand: string;
}

function apiTable(): Row[] {
  const page = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'libvirt-mapping.md'), 'utf8');
  const section = page.slice(page.indexOf('# libvirt mapping: the API, by libvirt name'));
  const lines = section.split('\n');
  const first = lines.findIndex((l) => l.startsWith('| libvirt | vircommand |'));
  const rows: Row[] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    // Cells are split on ' | ' (a '|' inside backticks, as in `a \| b`, is escaped in the page).
    const cells = line.slice(2, -2).split(' | ');
    expect(cells, `row: ${line}`).toHaveLength(2);
    const libvirt = [...cells[0].matchAll(/\bvir[A-Za-z]+/g)].map((m) => m[0]);
    rows.push({ libvirt, vircommand: cells[1] });
  }
  return rows;
}

// The names a right-hand cell maps to: each code span's leading call, `name(`, after an
// optional `await ` or `new `, with `Command.` for statics.
function namesIn(cell: string): string[] {
  const names: string[] = [];
  for (const [, code] of cell.matchAll(/`([^`]+)`/g)) {
    const m = code.match(/^(?:await |new )?((?:Command\.)?[A-Za-z_$][\w$]*)\(/);
    if (m) names.push(m[1]);
  }
  return names;
}

function exists(name: string): boolean {
  if (name.startsWith('Command.')) return typeof (vircommand.Command as unknown as Record<string, unknown>)[name.slice(8)] === 'function';
  if (typeof (vircommand.Command.prototype as unknown as Record<string, unknown>)[name] === 'function') return true;
  return typeof (vircommand as Record<string, unknown>)[name] === 'function';
}

describe('docs/libvirt-mapping.md: the API, by libvirt name', () => {
  const rows = apiTable();

  it('has a row for every function libvirt 11.x exports from vircommand.h, each once', () => {
    const listed = rows.flatMap((r) => r.libvirt);
    expect(LIBVIRT_FUNCTIONS.filter((f) => !listed.includes(f))).toEqual([]);
    expect(listed.filter((f, i) => listed.indexOf(f) !== i)).toEqual([]);
  });

  it('every vircommand name in it exists; a row without one says n/a and why', () => {
    const missing: string[] = [];
    for (const row of rows) {
      const names = namesIn(row.vircommand);
      if (names.length === 0) {
        expect(row.vircommand, `${row.libvirt.join(', ')}: no vircommand name and no "n/a: why"`).toMatch(/^n\/a: \S.{10,}/);
        continue;
      }
      for (const n of names) if (!exists(n)) missing.push(n);
    }
    expect(missing).toEqual([]);
  });

  it('the parser sees the table (a mangled table must not pass as empty)', () => {
    expect(rows.length).toBeGreaterThan(60);
    expect(namesIn('`await run(options?)` · `runSync(options?)`')).toEqual(['run', 'runSync']);
    expect(namesIn('`new Command(bin, ...args)`')).toEqual(['Command']);
    expect(exists('Command.newArgs') && exists('pidWait') && !exists('noSuchMethod')).toBe(true);
  });
});
