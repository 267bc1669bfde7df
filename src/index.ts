/**
 * vircommand: libvirt's virCommand API for Node.js. Public exports only.
 */
export { Command } from './run/methods';
export { pidWait, pidAbort } from './pid';
export { readPidFile, killByPidFile } from './pidfile';
export type { KillByPidFileOptions, KillByPidFileOutcome, KillByPidFileResult, ReadPidFileOptions } from './pidfile';
export type { KillOptions } from './run/kill';
export { setDryRun } from './dry-run';
export { CommandError, isCommandError } from './errors';
export type { CommandErrorDetails } from './errors';
export type { IdMapping, MountPropagation } from './command/ns-setup';
export type { MountOptions, MountType } from './command/mount-setup';
export { PASS_FD_CLOSE_PARENT, PASS_FD_BLOCKING, EXIT_CANCELED, EXIT_CANNOT_INVOKE, EXIT_ENOENT } from './constants';
export { CAPABILITY_NAMES, capabilityName, capabilityNumber, lastCapability } from './capabilities';
export type { CapabilityInput, CapabilityName } from './capabilities';
export { COMMAND_STAGES } from './stages';
export { ERRNO_NAMES } from './errno-names';
export { SIGNAL_NAMES } from './signal-names';
export type {
  AbortOptions,
  BufferRef,
  CommandErrorCode,
  CommandStage,
  DryRunAnswer,
  DryRunCall,
  DryRunOptions,
  ErrnoCode,
  ErrnoName,
  FdRef,
  MemoryPolicyMode,
  NamespaceName,
  Output,
  OutputEncoding,
  OutputTarget,
  PidWaitOptions,
  PreExecHook,
  RlimitName,
  RlimitValue,
  RunAsyncOptions,
  RunOptions,
  RunResult,
  SignalInput,
  SignalName,
  StandardSignalName,
  StdioPipes,
  ToStringOptions,
  WaitOptions,
} from './types';
export type { LinesOptions, PipeOf, RunNulOptions, RunRegexOptions, Spawned } from './types-streams';
