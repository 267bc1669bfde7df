import { defineConfig } from 'vitest/config';

// Files that must not share the machine with another test file:
// - adversarial/reaping: the pid-reuse case writes ns_last_pid, which hands its chosen pid to
//   whichever process on the machine forks next (a README example beside it once died of the
//   signal meant for that pid);
// - soak-faults: its 20 ms timeouts are classified by what the child had time to do;
// - adversarial/pipes and adversarial/scale: bounds on event-loop stalls and spawn storms
//   beside busy Workers;
// - adversarial/errors-stages: as a non-root user its EAGAIN case sets RLIMIT_NPROC to the
//   count of the user's processes, which another file's children of the same user change.
// They run after the others, one at a time.
const ALONE = [
  'test/adversarial/reaping.test.ts',
  'test/integration/soak-faults.test.ts',
  'test/adversarial/pipes.test.ts',
  'test/adversarial/scale.test.ts',
  'test/adversarial/errors-stages.test.ts',
];

// Test files at once for the rest: 2 (the quick suite took 116 s one at a time on 2 cores, 85 s
// two at a time); VC_TEST_WORKERS=1 runs everything one file at a time (test:all and the ASan
// pass do).
const WORKERS = Number(process.env.VC_TEST_WORKERS ?? 2);
if (!Number.isInteger(WORKERS) || WORKERS < 1) throw new Error(`VC_TEST_WORKERS=${process.env.VC_TEST_WORKERS}: expected a whole number >= 1`);

export default defineConfig({
  test: {
    // Separate processes, not worker threads: the tests chdir, replace the
    // environment, inspect /proc/self and count children.
    pool: 'forks',
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30000,
    hookTimeout: 30000,
    projects: [
      {
        extends: true,
        test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: ALONE, sequence: { groupOrder: 0 }, maxWorkers: WORKERS },
      },
      { extends: true, test: { name: 'alone', include: ALONE, sequence: { groupOrder: 1 }, maxWorkers: 1 } },
    ],
  },
});
