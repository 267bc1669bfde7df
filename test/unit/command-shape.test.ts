/**
 * Command is one class, not a chain: no superclass, and every public method and getter is an
 * own, non-enumerable property of Command.prototype, as a class body makes them, whichever
 * module (src/command/*.ts, src/run/methods.ts) adds it. The list of names is the one Command
 * had before its methods moved into those modules: generated once from the dist/ build of the
 * commit before (every name found along the old prototype chain), so that no method is lost
 * or added by the move.
 */
import { describe, expect, it } from 'vitest';
import { Command } from '../../src/index';

const METHODS_BEFORE = [
  'abort',
  'addArg',
  'addArgBuffer',
  'addArgFormat',
  'addArgList',
  'addArgPair',
  'addArgSet',
  'addDevMount',
  'addEnvFormat',
  'addEnvPair',
  'addEnvPass',
  'addEnvPassAll',
  'addEnvPassCommon',
  'addEnvString',
  'addEnvXDG',
  'addMount',
  'allowCap',
  'chroot',
  'clearCaps',
  'daemonize',
  'doAsyncIO',
  'exec',
  'free',
  'getArgList',
  'getBinaryPath',
  'getGID',
  'getUID',
  'getUser',
  'handshakeNotify',
  'handshakeWait',
  'joinCgroup',
  'joinNamespace',
  'kill',
  'lines',
  'nonblockingFDs',
  'passFD',
  'pivotRoot',
  'rawStatus',
  'remountProc',
  'requireHandshake',
  'run',
  'runAsync',
  'runNul',
  'runRegex',
  'runSync',
  'setAppArmorProfile',
  'setCpuAffinity',
  'setDomainname',
  'setErrorBuffer',
  'setErrorFD',
  'setGID',
  'setGidMappings',
  'setGroups',
  'setHostname',
  'setInputBuffer',
  'setInputFD',
  'setMaxCoreSize',
  'setMaxFiles',
  'setMaxMemLock',
  'setMaxProcesses',
  'setMemoryPolicy',
  'setMountPropagation',
  'setNice',
  'setNoNewPrivs',
  'setOutputBuffer',
  'setOutputFD',
  'setParentDeathSignal',
  'setPidFile',
  'setPreExecHook',
  'setRlimit',
  'setRunAlone',
  'setRunAmong',
  'setSELinuxLabel',
  'setSeccompFilter',
  'setSendBuffer',
  'setUID',
  'setUidMappings',
  'setUmask',
  'setUser',
  'setWorkingDirectory',
  'setpgid',
  'setsid',
  'spawn',
  'toString',
  'unshare',
  'wait',
  'writeArgLog',
];
const GETTERS_BEFORE = ['pid', 'stderr', 'stdin', 'stdout'];

describe('Command is one class', () => {
  it('has no superclass but Object', () => {
    expect(Object.getPrototypeOf(Command.prototype)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(Command)).toBe(Function.prototype);
  });

  it('keeps its name, its length and instanceof', () => {
    expect(Command.name).toBe('Command');
    expect(Command.length).toBe(1);
    expect(new Command('true')).toBeInstanceOf(Command);
    expect(Command.newArgs(['true'])).toBeInstanceOf(Command);
    expect(Object.getOwnPropertyNames(Command).sort()).toEqual(['length', 'name', 'newArgs', 'prototype']);
  });

  it('has the methods and getters it had before, no more, no fewer', () => {
    const proto = Command.prototype;
    const names = Object.getOwnPropertyNames(proto).filter((n) => n !== 'constructor');
    expect(names.sort()).toEqual([...METHODS_BEFORE, ...GETTERS_BEFORE].sort());
    expect(Object.getOwnPropertySymbols(proto)).toEqual(expect.arrayContaining([Symbol.dispose, Symbol.asyncDispose]));
    expect(Object.getOwnPropertySymbols(proto)).toHaveLength(2);
  });

  it('has every method as an own, non-enumerable, writable, configurable function, as a class body makes it', () => {
    const proto = Command.prototype;
    for (const key of [...METHODS_BEFORE, Symbol.dispose, Symbol.asyncDispose]) {
      const d = Object.getOwnPropertyDescriptor(proto, key);
      expect(d, String(key)).toMatchObject({ enumerable: false, writable: true, configurable: true });
      expect(typeof d?.value, String(key)).toBe('function');
      // A class method is no constructor: it has no own 'prototype'.
      expect(Object.hasOwn(d?.value as object, 'prototype'), String(key)).toBe(false);
    }
    expect(Object.keys(proto)).toEqual([]);
  });

  it('has pid and the streams as getters only, not enumerable', () => {
    for (const key of GETTERS_BEFORE) {
      const d = Object.getOwnPropertyDescriptor(Command.prototype, key);
      expect(d, key).toMatchObject({ enumerable: false, configurable: true, set: undefined });
      expect(typeof d?.get, key).toBe('function');
    }
  });

  it('refuses a method called on an object that is not a Command', () => {
    expect(() => Command.prototype.addArg.call({} as Command, 'x')).toThrow(TypeError);
    expect(() => Command.prototype.run.call({} as Command)).toThrow(TypeError);
  });
});
