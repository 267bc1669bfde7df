/**
 * The plan's Command: Command.newArgs(program), then the builder steps in command-line order.
 * A value the builder rejects is a usage error of the option that gave it, in the command
 * line's words.
 */
import { Command } from '../index';
import { CliError } from './cli-error';
import { type CliPlan, STEP_OPTION } from './cli-plan';

// A builder's TypeError/RangeError text in the words of the command line: without the method
// ("Command.allowCap: ") and with argument 'cap' as plain cap.
function usageText(message: string): string {
  return message.replace(/^(?:new Command|Command(?:\.\w+)+|\w+): /, '').replace(/argument '([^']+)'/g, '$1');
}

/**
 * The Command of the plan. A value the builder rejects is a usage error of the option that
 * gave it, in the option's words (usageText()); the program itself is checked first.
 */
export function buildCommand(plan: CliPlan, program: readonly string[]): Command {
  let cmd: Command;
  try {
    cmd = Command.newArgs(program);
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw new CliError('usage', `PROGRAM: ${usageText(err.message)}`);
    throw err;
  }
  for (const s of plan.steps) {
    try {
      s(cmd);
    } catch (err) {
      if (err instanceof TypeError || err instanceof RangeError) throw new CliError('usage', `${STEP_OPTION.get(s) ?? 'options'}: ${usageText(err.message)}`);
      throw err;
    }
  }
  return cmd;
}
