/**
 * scripts/soak-faults.js (`npm run soak:faults`, 100,000 spawns) with a small --count, so that
 * the suite keeps it working: every fault is injected and each of its ends classified, no end is
 * unexplained, the soak process has the same fds and children at its start and end, and none of
 * its processes (grandchildren, daemons, sleepers) is left behind.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { itIf, sanitizerSkip } from '../adversarial/support/common';
import { nobodyPackage } from '../adversarial/support/nobody';
import { REPO_ROOT } from '../helpers/build-helper';
import { useInvariants } from '../helpers/invariants';
import { scaled } from '../helpers/scale';
import { makeTmpDir } from '../helpers/tmp';

useInvariants();

/** 2,000 under test:all; 500 (the script's least) under npm test, every fault still injected. */
const COUNT = scaled(2000, 500);
const isRoot = process.getuid?.() === 0;

interface KindJson {
  name: string;
  fault: string | null;
  spawns: number;
  classes: { cls: string; failure: boolean; fault: string | null; count: number }[];
  unexplainedCount: number;
}
interface PhaseJson {
  phase: string;
  failed?: string;
  kinds: KindJson[];
  fdDiff: unknown[];
  start: { children: number };
  end: { children: number; zombies: number };
}
interface SoakJson {
  totalSpawns: number;
  kinds: KindJson[];
  phases: PhaseJson[];
  faults: Record<string, string>;
  notInjected: { fault: string; what: string; reason: string }[];
  verdict: { pass: boolean; reasons: string[]; unexplained: number };
  fds: { diff: unknown[]; startCount: number; endCount: number };
  children: { startCount: number; endCount: number; endZombies: number };
  strays: unknown[];
}

/**
 * The package the script loads: as root, the world-readable copy built from src/ with the
 * addon under test (the script runs part of itself as another uid); else this checkout's dist/.
 */
function packageRoot(): string {
  if (isRoot) {
    const pkg = nobodyPackage();
    if ('entry' in pkg) return path.dirname(path.dirname(pkg.entry));
  }
  return REPO_ROOT;
}

describe('scripts/soak-faults.js', () => {
  // Under ASan, libasan is preloaded into every process of the run, the soak's /bin/sh children
  // too: it catches their self-inflicted SIGSEGV/SIGBUS/SIGABRT, reports them as its own errors
  // and exits instead of dying by the signal, which the soak rightly calls unexplained.
  itIf(
    sanitizerSkip('a soak whose children kill themselves with SIGSEGV/SIGBUS (libasan preloaded into /bin/sh catches them)'),
    `${COUNT} spawns with every fault injected: all ends explained, fds and children as at the start`,
    () => {
      const dir = makeTmpDir('vc-soak-faults-');
      const json = path.join(dir, 'report.json');
      // An unused uid for the RLIMIT_NPROC faults, not nobody's: the soak's sleepers must not
      // change the count of nobody's processes on which another test file sets a limit.
      const nprocUid = 3000000000 + (process.pid % 1000000);
      const root = packageRoot();
      // The copy holds the addon under test at build/Release; PREBUILDS_ONLY (the prebuilt pass)
      // would make its loader refuse that place, so it is not handed on to a copy.
      const env = { ...process.env };
      if (root !== REPO_ROOT) delete env.PREBUILDS_ONLY;
      const r = spawnSync(
        process.execPath,
        [
          '--expose-gc',
          path.join(REPO_ROOT, 'scripts', 'soak-faults.js'),
          '--count',
          String(COUNT),
          '--json',
          json,
          '--package',
          root,
          '--nproc-uid',
          String(nprocUid),
        ],
        { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 110000, maxBuffer: 16 << 20 },
      );
      const text = `${r.stdout}\n${r.stderr}`;
      expect(r.error, text).toBeUndefined();
      expect(r.status, text).toBe(0);
      expect(r.stdout).toMatch(/^Verdict: PASS/m);
      const s = JSON.parse(fs.readFileSync(json, 'utf8')) as SoakJson;

      expect(s.totalSpawns).toBe(COUNT);
      expect(s.verdict, text).toMatchObject({ pass: true, reasons: [], unexplained: 0 });
      for (const p of s.phases) {
        expect(p.failed, `phase ${p.phase}`).toBeUndefined();
        expect(p.fdDiff, `phase ${p.phase}: fds`).toEqual([]);
        expect(p.end.children, `phase ${p.phase}: children`).toBe(p.start.children);
        expect(p.end.zombies, `phase ${p.phase}: zombies`).toBe(0);
      }
      expect(new Set(s.phases.map((p) => p.phase))).toEqual(new Set(['emfile', 'nproc']));

      // Each fault was injected and its ends classified under that fault.
      const kinds = [...s.kinds, ...s.phases.flatMap((p) => p.kinds)];
      for (const k of kinds) expect(k.unexplainedCount, k.name).toBe(0);
      const classified = (fault: string): string[] => kinds.flatMap((k) => k.classes.filter((c) => c.fault === fault && c.count > 0).map((c) => c.cls));
      expect(Object.keys(s.faults).sort()).toEqual(['emfile', 'grandchild', 'midwrite', 'nproc', 'signal']);
      for (const fault of Object.keys(s.faults)) expect(classified(fault), `ends classified as fault ${fault}`).not.toEqual([]);
      expect(classified('emfile')).toContain('stage pipe EMFILE');
      expect(classified('signal').some((c) => /signal SIG/.test(c))).toBe(true);
      expect(classified('grandchild')).toContain('resolved with outputIncomplete after the 200 ms drain');
      expect(classified('midwrite').some((c) => /SIGABRT/.test(c))).toBe(true);
      if (isRoot) {
        expect(s.notInjected, 'faults not injected as root').toEqual([]);
        expect(classified('nproc')).toContain('stage exec EAGAIN (RLIMIT_NPROC checked at execve)');
        expect(classified('nproc')).toContain('stage fork EAGAIN');
      } else {
        // Without root, what could not be injected is listed with its reason.
        for (const n of s.notInjected) expect(n.reason).toMatch(/not root/);
      }

      expect(s.fds.diff, 'fds of the soak process, start vs end').toEqual([]);
      expect(s.children.endCount).toBe(s.children.startCount);
      expect(s.children.endZombies).toBe(0);
      expect(s.strays, 'processes of the soak left behind').toEqual([]);
    },
    120000,
  );
});
