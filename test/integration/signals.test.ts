/**
 * The child starts with every signal at its default disposition and none
 * blocked, whatever the parent has ignored or blocked; and the parent's own
 * signal state is left exactly as it was (useInvariants checks that for the
 * vitest worker; the node-child cases check it in the script).
 *
 * Node itself ignores SIGPIPE and SIGXFSZ. For blocked signals and other
 * ignored ones we need native help inside the parent: Node resets every
 * disposition and the signal mask at startup (measured: a launcher that
 * blocks SIGUSR1 or a `trap "" USR1` before exec'ing node both arrive as
 * SigBlk 0 / SigIgn 0x1001000), so a small test-only addon
 * (test/fixtures/sigtool.c, built by the globalSetup) does it from inside a
 * separate node process.
 */
import { describe, expect, it } from 'vitest';
import { Command } from '../../src/index';
import { HELPER, SIGTOOL } from '../helpers/helper';
import { useInvariants } from '../helpers/invariants';
import { expectChildOk, runNodeChild } from '../helpers/node-child';
import { sigState } from '../helpers/proc';
import { parseReport, readReport, sigBit } from '../helpers/report';
import { useTmpDir } from '../helpers/tmp';

useInvariants();
const tmp = useTmpDir('vc-sig-');

const SIGHUP = 1,
  SIGINT = 2,
  SIGQUIT = 3,
  SIGUSR1 = 10,
  SIGUSR2 = 12,
  SIGPIPE = 13;
const SIGALRM = 14,
  SIGTERM = 15,
  SIGTSTP = 20,
  SIGTTOU = 22,
  SIGXFSZ = 25,
  SIGWINCH = 28;

const BLOCKED = [SIGUSR1, SIGUSR2, SIGTERM, SIGALRM, SIGWINCH];
const IGNORED = [SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGTSTP, SIGTTOU];
const mask = (sigs: number[]) => sigs.reduce((m, s) => m | sigBit(s), 0n);

type Mode = 'run' | 'runSync' | 'runAsync+wait';

describe('signals in the vitest worker (Node ignores SIGPIPE and SIGXFSZ)', () => {
  it('precondition: this process ignores SIGPIPE and SIGXFSZ', () => {
    const s = sigState();
    expect(s.ign & mask([SIGPIPE, SIGXFSZ])).toBe(mask([SIGPIPE, SIGXFSZ]));
  });

  describe.each(['run', 'runSync', 'runAsync+wait'] as Mode[])('%s', (mode) => {
    it('the helper starts with nothing ignored or blocked', async () => {
      const log = `${tmp.path}/h.log`;
      const cmd = new Command(HELPER, '--log', log, '--no-stdio');
      if (mode === 'run') await cmd.run();
      else if (mode === 'runSync') cmd.runSync();
      else {
        cmd.runAsync();
        await cmd.wait();
      }
      const r = readReport(log);
      expect(r.sigIgn.toString(16).padStart(16, '0')).toBe('0000000000000000');
      expect(r.sigBlk.toString(16).padStart(16, '0')).toBe('0000000000000000');
    });
  });

  it('SIGPIPE really has its default action in the child (it dies of it)', async () => {
    const cmd = new Command(HELPER, '--no-stdio', '--signal', String(SIGPIPE));
    cmd.rawStatus();
    const r = await cmd.run({ status: true });
    expect(r.signal).toBe('SIGPIPE');
    expect(r.signalNumber).toBe(SIGPIPE);
    expect(r.status & 0x7f).toBe(SIGPIPE);
  });
});

/**
 * Runs in a separate node process: block BLOCKED and ignore IGNORED with the
 * test-only addon, check that took effect, run the helper in every mode,
 * then check the parent's own state is unchanged.
 */
const SCRIPT = `
  const sig = require(ARGS.sigtool);
  sig.block(ARGS.blocked);
  for (const s of ARGS.ignored) sig.ignore(s);
  const before = status();
  const reports = {};
  let seq = 0;
  const log = () => ARGS.dir + '/s' + (++seq) + '.log';
  const readLog = (l) => { const t = fs.readFileSync(l, 'utf8'); fs.unlinkSync(l); return t; };
  { const l = log(); await new vc.Command(HELPER, '--log', l, '--no-stdio').run(); reports.run = readLog(l); }
  { const l = log(); new vc.Command(HELPER, '--log', l, '--no-stdio').runSync(); reports.runSync = readLog(l); }
  { const l = log(); const c = new vc.Command(HELPER, '--log', l, '--no-stdio'); c.runAsync(); await c.wait(); reports.async = readLog(l); }
  { const l = log(); await new vc.Command(HELPER, '--log', l).setInputBuffer('in\\n').setOutputBuffer({}).run(); reports.buffers = readLog(l); }
  // SIGUSR1 is both blocked and ignored here; the child must die of it.
  const c = new vc.Command(HELPER, '--no-stdio', '--signal', String(ARGS.usr1));
  c.rawStatus();
  const killed = await c.run({ status: true });
  const after = status();
  emit({
    before: { ign: before.SigIgn, blk: before.SigBlk, cgt: before.SigCgt },
    after: { ign: after.SigIgn, blk: after.SigBlk, cgt: after.SigCgt },
    reports,
    killed: { signal: killed.signal, signalNumber: killed.signalNumber, status: killed.status },
  });
`;

interface ScriptResult {
  before: { ign: string; blk: string; cgt: string };
  after: { ign: string; blk: string; cgt: string };
  reports: Record<string, string>;
  killed: { signal: string | null; signalNumber: number | null; status: number };
}

describe('signals in a parent that blocks and ignores signals', () => {
  it('the helper starts clean; the parent keeps its mask and dispositions', () => {
    const res = expectChildOk(
      runNodeChild(SCRIPT, {
        args: { sigtool: SIGTOOL, blocked: BLOCKED, ignored: IGNORED, dir: tmp.path, usr1: SIGUSR1 },
      }),
    ) as ScriptResult;

    // precondition: the parent really is in that state
    const blk = BigInt(`0x${res.before.blk}`);
    const ign = BigInt(`0x${res.before.ign}`);
    expect(blk & mask(BLOCKED), `parent SigBlk ${res.before.blk}`).toBe(mask(BLOCKED));
    expect(ign & mask(IGNORED), `parent SigIgn ${res.before.ign}`).toBe(mask(IGNORED));

    for (const [k, text] of Object.entries(res.reports)) {
      const r = parseReport(text);
      expect(r.sigIgn.toString(16).padStart(16, '0'), `${k}: SIGIGN`).toBe('0000000000000000');
      expect(r.sigBlk.toString(16).padStart(16, '0'), `${k}: SIGBLK`).toBe('0000000000000000');
    }
    expect(Object.keys(res.reports).sort()).toEqual(['async', 'buffers', 'run', 'runSync']);

    expect(res.killed.signal).toBe('SIGUSR1');
    expect(res.killed.signalNumber).toBe(SIGUSR1);
    expect(res.killed.status & 0x7f).toBe(SIGUSR1);

    expect(res.after, 'parent signal state after the runs').toEqual(res.before);
  });
});
