/**
 * Argument checks shared by the Command builder files.
 */
import { checkString } from '../validate';

export const NOT_NUMBER_OR_NAME = 'a number or a name';

/** Each element of `args` as a string argument, labelled `label[i]` in errors. */
export function checkArgs(method: string, args: readonly unknown[], label: string): string[] {
  return args.map((a, i) => checkString(method, `${label}[${i}]`, a));
}
