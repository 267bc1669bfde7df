/**
 * What a failure at stage 'pidfile' reports in its value, decoded: which component of the
 * path failed and why (layout and reasons: native/core/pidfile_report.h; keep in step).
 */

const OFFSET_SPAN = 2 ** 13;
const REASON_SPAN = 2 ** 5;
const VIA_LINK_AT = 2 ** 18;
const NUMBER_AT = 2 ** 19;

const NOT_ALLOWED = "not root's or the daemon user's";

/** The decoded report: the text for the message and the number left as the error's `value`. */
export interface PidfileProblem {
  /** e.g. 'directory /run is group-writable without the sticky bit (mode 0775)'; '' if none. */
  detail: string;
  /** The uid, link count or mode the reason names; null when none. */
  value: number | null;
}

const details = new WeakMap<object, string>();

/** Remembers the detail of an error built for a pidfile failure (the CLI prints it). */
export function rememberPidfileDetail(err: object, detail: string): void {
  if (detail !== '') details.set(err, detail);
}

/** The detail of a pidfile failure ('directory /run is group-writable ...'), or null. */
export function pidfileDetailOf(err: object): string | null {
  return details.get(err) ?? null;
}

const octal = (mode: number): string => `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;

/**
 * Decodes `value` of a pidfile failure with `code` on `pidFile` (absolute). EAGAIN's value
 * is the pid holding the lock, and stays as it is.
 */
export function decodePidfileFailure(pidFile: string, code: string | undefined, value: number): PidfileProblem {
  if (code === 'EAGAIN' || !Number.isSafeInteger(value) || value < 0) return { detail: '', value: value || null };
  const end = value % OFFSET_SPAN;
  const reason = Math.floor(value / OFFSET_SPAN) % REASON_SPAN;
  const viaLink = Math.floor(value / VIA_LINK_AT) % 2 === 1;
  const num = Math.floor(value / NUMBER_AT);
  const component = end === 0 ? '/' : pidFile.slice(0, end);
  const dir = viaLink ? `a directory reached through ${component}` : `directory ${component}`;
  switch (reason) {
    case 1:
      return { detail: `${dir} is world-writable without the sticky bit (mode ${octal(num)})`, value: num };
    case 2:
      return { detail: `${dir} is group-writable without the sticky bit (mode ${octal(num)})`, value: num };
    case 3:
      return { detail: `${dir} is owned by uid ${num}, ${NOT_ALLOWED}`, value: num };
    case 4:
      return { detail: `${viaLink ? `a symlink reached through ${component}` : `symlink ${component}`} is owned by uid ${num}, ${NOT_ALLOWED}`, value: num };
    case 5:
      return { detail: `the pidfile exists and is owned by uid ${num}, ${NOT_ALLOWED}`, value: num };
    case 6:
      return { detail: `the pidfile has ${num} hard links`, value: num };
    case 7:
      return { detail: 'the pidfile is not a regular file', value: null };
    default:
      // A plain errno: name the component when it is not the pidfile itself.
      if (end !== 0 && end >= pidFile.length) return { detail: '', value: null };
      return { detail: viaLink ? `resolving ${component}` : `at ${component}`, value: null };
  }
}
