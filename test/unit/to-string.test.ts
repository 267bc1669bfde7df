import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { formatArgLog, formatCommand, shellEscape } from '../../src/to-string';

// libvirt commandtest test16 and test26.
function test16(): Command {
  return new Command('true').addEnvPair('A', 'B').addEnvPair('C', 'D  E').addArg('F').addArg('G  H');
}

const TEST26_ARGS = [
  '--foo',
  'bar',
  '--oooh',
  '-f',
  '--wizz',
  'eek eek',
  '--m-m-m-multiarg',
  'arg',
  'arg2',
  '-w',
  '-z',
  '-l',
  '--mmm',
  'flash',
  'bang',
  'wallop',
];

function test26(): Command {
  return new Command('true')
    .addEnvPair('A', 'B')
    .addEnvPair('C', 'D  E')
    .addArgList(...TEST26_ARGS);
}

function readBack(write: (fd: number) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vircommand-'));
  const file = path.join(dir, 'log');
  const fd = fs.openSync(file, 'w');
  try {
    write(fd);
  } finally {
    fs.closeSync(fd);
  }
  const text = fs.readFileSync(file, 'utf8');
  fs.rmSync(dir, { recursive: true });
  return text;
}

describe('shellEscape', () => {
  it('quotes like virBufferEscapeShell', () => {
    expect(shellEscape('')).toBe("''");
    expect(shellEscape('plain')).toBe('plain');
    expect(shellEscape('a=b,c-d.e/f:g@h%i+j')).toBe('a=b,c-d.e/f:g@h%i+j');
    expect(shellEscape("it's")).toBe("'it'\\''s'");
    expect(shellEscape('G  H')).toBe("'G  H'");
    for (const ch of ['\r', '\t', '\n', ' ', '!', '"', '#', '$', '&', "'", '(', ')', '*', ';', '<', '>', '?', '[', '\\', ']', '^', '`', '{', '|', '}', '~']) {
      expect(shellEscape(`a${ch}b`).startsWith("'"), JSON.stringify(ch)).toBe(true);
    }
  });
});

describe('toString', () => {
  it('reproduces libvirt test16 exactly', () => {
    expect(test16().toString()).toBe("A=B C='D  E' true F 'G  H'");
  });

  it('reproduces libvirt test26 (linebreaks) exactly', () => {
    const expected = [
      'A=B',
      "C='D  E'",
      'true',
      '--foo bar',
      '--oooh',
      '-f',
      "--wizz 'eek eek'",
      '--m-m-m-multiarg arg arg2',
      '-w',
      '-z',
      '-l',
      '--mmm flash',
      'bang',
      'wallop',
    ].join(' \\\n');
    expect(test26().toString({ linebreaks: true })).toBe(expected);
  });

  it('puts positional arguments before any option on their own lines', () => {
    expect(new Command('cmd', 'pos1', 'pos2', '--opt', 'v').toString({ linebreaks: true })).toBe('cmd \\\npos1 \\\npos2 \\\n--opt v');
  });

  it('strips the program path on request', () => {
    expect(new Command('/usr/bin/true', 'x y').toString({ stripPath: true })).toBe("true 'x y'");
    expect(new Command('/usr/bin/true').toString()).toBe('/usr/bin/true');
  });

  it('prints no env prefix when the child inherits, and quotes empty arguments', () => {
    expect(new Command('echo', '').toString()).toBe("echo ''");
    expect(formatCommand(['true'], null)).toBe('true');
    expect(formatCommand(['true'], [])).toBe('true');
  });
});

describe('writeArgLog', () => {
  it('writes libvirt test16.log', () => {
    expect(readBack((fd) => test16().writeArgLog(fd))).toBe('A=B C=D  E true F G  H\n');
  });

  it('writes libvirt test26.log', () => {
    expect(readBack((fd) => test26().writeArgLog(fd))).toBe(
      'A=B C=D  E true --foo bar --oooh -f --wizz eek eek --m-m-m-multiarg arg arg2 -w -z -l --mmm flash bang wallop\n',
    );
  });

  it('formats without quoting', () => {
    expect(formatArgLog(['a', "it's", ''], ['X=1 2'])).toBe("X=1 2 a it's \n");
  });
});
