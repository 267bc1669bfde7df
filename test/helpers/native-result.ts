/**
 * A NativeResult as the addon returns it for a child that exited 0 with nothing captured, for
 * tests that stand in for the addon's run (setNativeBinding) to see the plan TS hands it or the
 * policy TS applies to a result; `over` changes fields.
 */
import type { NativeResult } from '../../src/native';

export function nativeResult(over: Partial<NativeResult> = {}): NativeResult {
  return {
    pid: 1,
    status: 0,
    failure: null,
    stdout: null,
    stderr: null,
    timedOut: false,
    maxBufferExceeded: null,
    outputIncomplete: false,
    killedBy: 0,
    ...over,
  };
}
