/** The C library's words for an errno, as the command line prints them. */
import * as util from 'node:util';

/** strerror() text of a positive or negative errno ('No such file or directory'); `fallback` when unknown. */
export function errnoText(errno: number, fallback: string): string {
  const text = util.getSystemErrorMap().get(-Math.abs(errno))?.[1];
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : fallback;
}
