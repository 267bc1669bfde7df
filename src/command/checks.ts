/**
 * Argument checks shared by the Command builder files.
 */
import { checkString } from '../validate';

export const NOT_NUMBER_OR_NAME = 'a number or a name';

/**
 * Each element of `args` as a string argument, labelled `label[first + i]` in errors. Every
 * index is checked: a hole of a sparse array is undefined here, not skipped (as map() would).
 */
export function checkArgs(method: string, args: readonly unknown[], label: string, first = 0): string[] {
  return Array.from(args, (a, i) => checkString(method, `${label}[${first + i}]`, a));
}
