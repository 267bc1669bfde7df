/**
 * Command with every builder method: command.ts and the concern modules that add their
 * methods to it. The methods that run the command are added by src/run/methods.ts, which
 * loads this; the package entry (src/index.ts) takes Command from there.
 */
import './args-env';
import './stdio';
import './privileges';
import './pre-exec';
import './namespaces';
import './mounts';
import './sched-lsm';
import './container';

export { Command } from './command';
