/**
 * vircommand: libvirt's virCommand API for Node.js. Public exports only.
 */
export { Command } from './command';
export { pidWait, pidAbort } from './pid';
export { setDryRun } from './dry-run';
export { CommandError, isCommandError } from './errors';
export type { CommandErrorDetails } from './errors';
export { PASS_FD_CLOSE_PARENT, EXIT_CANCELED, EXIT_CANNOT_INVOKE, EXIT_ENOENT } from './constants';
export { CAPABILITY_NAMES, capabilityName, capabilityNumber, lastCapability } from './capabilities';
export type {
  AbortOptions,
  BufferRef,
  CommandStage,
  DryRunAnswer,
  DryRunCall,
  DryRunOptions,
  FdRef,
  MemoryPolicyMode,
  NamespaceName,
  OutputEncoding,
  OutputTarget,
  PidWaitOptions,
  PreExecHook,
  RlimitName,
  RunAsyncOptions,
  RunOptions,
  RunResult,
  ToStringOptions,
  WaitOptions,
} from './types';
