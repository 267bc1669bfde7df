import { afterEach, describe, expect, it, vi } from 'vitest';
import { Command, setDryRun } from '../../src/index';
import { EnvBuilder } from '../../src/env';

// The environment libvirt's commandtest gives itself (mymain).
const LIBVIRT_ENV = {
  PATH: '/usr/bin:/bin',
  HOSTNAME: 'test',
  LANG: 'C',
  HOME: '/home/test',
  USER: 'test',
  LOGNAME: 'test',
  TMPDIR: '/tmp',
  DISPLAY: ':0.0',
};

const PASS_COMMON = ['LC_ALL=C', 'PATH=/usr/bin:/bin', 'HOME=/home/test', 'USER=test', 'LOGNAME=test', 'TMPDIR=/tmp'];

describe('EnvBuilder with an injected environment (libvirt test5-8)', () => {
  it('inherits when nothing was configured', () => {
    expect(new EnvBuilder(LIBVIRT_ENV).entries()).toBeNull();
  });

  it('test5: addEnvPassCommon sets LC_ALL=C and passes only the common variables', () => {
    const env = new EnvBuilder(LIBVIRT_ENV);
    env.addPassCommon();
    expect(env.entries()).toEqual(PASS_COMMON);
  });

  it('passes LD_PRELOAD and LD_LIBRARY_PATH first when set', () => {
    const env = new EnvBuilder({ ...LIBVIRT_ENV, LD_LIBRARY_PATH: '/opt/lib', LD_PRELOAD: 'x.so' });
    env.addPassCommon();
    expect(env.entries()).toEqual(['LC_ALL=C', 'LD_PRELOAD=x.so', 'LD_LIBRARY_PATH=/opt/lib', ...PASS_COMMON.slice(1)]);
  });

  it('test6: addEnvPass copies a set variable and skips an unset one', () => {
    const env = new EnvBuilder(LIBVIRT_ENV);
    env.addPass('DISPLAY');
    env.addPass('DOESNOTEXIST');
    expect(env.entries()).toEqual(['DISPLAY=:0.0']);
  });

  it('test7: addEnvPassCommon then addEnvPass', () => {
    const env = new EnvBuilder(LIBVIRT_ENV);
    env.addPassCommon();
    env.addPass('DISPLAY');
    env.addPass('DOESNOTEXIST');
    expect(env.entries()).toEqual([...PASS_COMMON, 'DISPLAY=:0.0']);
  });

  it('test8: later entries win, in place', () => {
    const env = new EnvBuilder(LIBVIRT_ENV);
    env.addString('USER=bogus');
    env.addString('LANG=C');
    env.addPair('USER', 'also bogus');
    env.addPair('USER', 'test');
    expect(env.entries()).toEqual(['USER=test', 'LANG=C']);
  });

  it('is clean after passing only an unset variable (unlike libvirt)', () => {
    const env = new EnvBuilder(LIBVIRT_ENV);
    env.addPass('DOESNOTEXIST');
    expect(env.entries()).toEqual([]);
  });

  it('reads the source at each call, like getenv', () => {
    const source: Record<string, string | undefined> = {};
    const env = new EnvBuilder(source);
    env.addPass('LATE');
    source.LATE = 'now';
    env.addPass('LATE');
    expect(env.entries()).toEqual(['LATE=now']);
  });

  it('matches names exactly: FOO does not replace FOOBAR', () => {
    const env = new EnvBuilder({});
    env.addPair('FOOBAR', '1');
    env.addPair('FOO', '2');
    env.addString('FOO=3');
    env.addPair('A', 'x=y');
    expect(env.entries()).toEqual(['FOOBAR=1', 'FOO=3', 'A=x=y']);
  });

  it('addEnvXDG sets the three XDG variables under the base', () => {
    const env = new EnvBuilder({});
    env.addXDG('/var/lib/app');
    expect(env.entries()).toEqual(['XDG_DATA_HOME=/var/lib/app/.local/share', 'XDG_CACHE_HOME=/var/lib/app/.cache', 'XDG_CONFIG_HOME=/var/lib/app/.config']);
  });
});

describe('Command environment rules', () => {
  const seen: (string[] | null)[] = [];
  const dryRun = (): void => setDryRun({ callback: ({ env }) => void seen.push(env) });

  afterEach(() => {
    setDryRun(null);
    seen.length = 0;
    vi.unstubAllEnvs();
  });

  it('gives the child a null env (inherit) without env calls, a clean one with any', () => {
    dryRun();
    new Command('true').runSync();
    new Command('true').addEnvPass('VIRCOMMAND_SURELY_UNSET').runSync();
    new Command('true').addEnvPair('A', 'B').runSync();
    expect(seen).toEqual([null, [], ['A=B']]);
  });

  it('reads process.env when addEnvPass is called', () => {
    vi.stubEnv('VIRCOMMAND_TEST_VAR', 'one');
    const cmd = new Command('true').addEnvPass('VIRCOMMAND_TEST_VAR');
    vi.stubEnv('VIRCOMMAND_TEST_VAR', 'two');
    expect(cmd.toString()).toBe('VIRCOMMAND_TEST_VAR=one true');
  });

  it('addEnvPass of an unset name that Object.prototype has passes nothing (found by test/property/env.test.ts)', () => {
    // process.env inherits toString, constructor, __proto__...: addEnvPass('toString') used to
    // pass "toString=function toString() { [native code] }".
    dryRun();
    const names = ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'];
    for (const n of names) expect(Object.hasOwn(process.env, n), `${n} is set in this environment`).toBe(false);
    const cmd = new Command('true');
    for (const n of names) cmd.addEnvPass(n);
    expect(cmd.toString()).toBe('true');
    cmd.runSync();
    expect(seen).toEqual([[]]);
    // set, they pass like any other variable
    vi.stubEnv('toString', 'set');
    expect(new Command('true').addEnvPass('toString').toString()).toBe('toString=set true');
    // an injected source too
    const env = new EnvBuilder({});
    env.addPass('toString');
    env.addPass('__proto__');
    expect(env.entries()).toEqual([]);
  });

  it('shows the env in toString with values quoted', () => {
    expect(new Command('true').addEnvString('X=a b').addEnvXDG('/h').toString()).toBe(
      "X='a b' XDG_DATA_HOME=/h/.local/share XDG_CACHE_HOME=/h/.cache XDG_CONFIG_HOME=/h/.config true",
    );
  });
});
