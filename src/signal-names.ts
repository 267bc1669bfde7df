/**
 * The Linux signal names, as Node's os.constants.signals lists them (aliases SIGIOT and
 * SIGPOLL included), and the types built on them. test/unit/name-tables.test.ts checks the
 * table against os.constants.signals.
 */
export const SIGNAL_NAMES = [
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGILL',
  'SIGTRAP',
  'SIGABRT',
  'SIGIOT',
  'SIGBUS',
  'SIGFPE',
  'SIGKILL',
  'SIGUSR1',
  'SIGSEGV',
  'SIGUSR2',
  'SIGPIPE',
  'SIGALRM',
  'SIGTERM',
  'SIGCHLD',
  'SIGSTKFLT',
  'SIGCONT',
  'SIGSTOP',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGURG',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGVTALRM',
  'SIGPROF',
  'SIGWINCH',
  'SIGIO',
  'SIGPOLL',
  'SIGPWR',
  'SIGSYS',
] as const;

/** A named Linux signal: 'SIGTERM', 'SIGKILL', ... */
export type StandardSignalName = (typeof SIGNAL_NAMES)[number];

/**
 * The name of a signal that ended a child (RunResult.signal, CommandError.signal): a named
 * signal, a realtime one as 'SIGRTMIN+n', or 'SIG<n>' for a number without a name.
 */
export type SignalName = StandardSignalName | `SIGRTMIN+${number}` | `SIG${number}`;

/** A signal given by name: 'SIGTERM' or 'TERM'. */
export type SignalInput = StandardSignalName | (StandardSignalName extends `SIG${infer Short}` ? Short : never);
