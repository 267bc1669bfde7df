/**
 * What the options ask for (CliPlan), filled in by the option table (options.ts) while
 * parse-args.ts reads the command line, and read by everything that runs it.
 */
import type { Command } from '../index';
import type { ContainerCliPlan } from './container-options';

/** What the options ask for: builder steps in command-line order, and how to run. */
export interface CliPlan extends ContainerCliPlan {
  steps: ((cmd: Command) => void)[];
  stdin: string | null;
  stdout: string | null;
  stderr: string | null;
  timeoutMs: number;
  /** --signal: sent when --timeout expires (and by --stop); null: SIGTERM. */
  timeoutSignal: string | null;
  /** --kill-after: ms from that signal to SIGKILL; null: 100 ms (run()'s killGrace). */
  killAfterMs: number | null;
  /** --stop PIDFILE: stop the daemon of this pidfile instead of running a program. */
  stop: string | null;
  daemonize: boolean;
  pidFile: boolean;
  setsid: boolean;
  dryRun: boolean;
  help: boolean;
  version: boolean;
}

/** The plan of a command line without options. */
export function emptyPlan(): CliPlan {
  return {
    steps: [],
    needsParent: false,
    stdin: null,
    stdout: null,
    stderr: null,
    timeoutMs: 0,
    timeoutSignal: null,
    killAfterMs: null,
    stop: null,
    daemonize: false,
    pidFile: false,
    setsid: false,
    dryRun: false,
    help: false,
    version: false,
  };
}

/**
 * The option that added each builder step (set by parseArgs): a value the builder rejects is
 * reported as that option's usage error (build-command.ts), never under the API method's name.
 */
export const STEP_OPTION = new WeakMap<(cmd: Command) => void, string>();
