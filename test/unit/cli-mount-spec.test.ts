/**
 * The value of the CLI's --mount option (src/cli/container-options.ts parseMountSpec), docker-style:
 * type=T,target=DIR[,source=SRC][,readonly][,options=DATA], options last and taking the rest.
 */
import { describe, expect, it } from 'vitest';
import { parseMountSpec } from '../../src/cli/container-options';

const usage = (message: string) => new Error(message);

describe('--mount values', () => {
  it('reads each key; options keeps its commas and equal signs', () => {
    expect(parseMountSpec('type=bind,source=/srv/data,target=/data,readonly', usage)).toEqual({
      type: 'bind',
      source: '/srv/data',
      target: '/data',
      readonly: true,
    });
    expect(parseMountSpec('type=tmpfs,target=/tmp,options=size=64m,mode=1777', usage)).toEqual({
      type: 'tmpfs',
      target: '/tmp',
      options: 'size=64m,mode=1777',
    });
    expect(parseMountSpec('target=/proc,type=proc,ro=false', usage)).toEqual({ type: 'proc', target: '/proc', readonly: false });
  });

  it('refuses unknown keys, empty values and a missing type or target', () => {
    expect(() => parseMountSpec('type=bind', usage)).toThrow(/--mount: type and target are required/);
    expect(() => parseMountSpec('type=bind,target=/x,size=1', usage)).toThrow(/unknown key 'size'/);
    expect(() => parseMountSpec('type=,target=/x', usage)).toThrow(/type needs a value/);
    expect(() => parseMountSpec('type=bind,target=/x,readonly=yes', usage)).toThrow(/readonly takes no value or true\/false/);
  });
});
