/**
 * The command line's own failures: a CliError is reported as `vircommand: <stage>: <message>`
 * and exits 125 (124 for stage 'timeout'; describe-failure.ts).
 */

/** A failure of the command line itself (exit 125), reported as `vircommand: <stage>: <message>`. */
export class CliError extends Error {
  constructor(
    readonly stage: string,
    message: string,
  ) {
    super(message);
  }
}

/** A usage error about option `name`: its value is not what it takes. */
export function badValue(name: string, value: string, expected: string): CliError {
  return new CliError('usage', `${name}: expected ${expected}, got '${value}'`);
}
