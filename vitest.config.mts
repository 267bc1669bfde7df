import os from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Separate processes, not worker threads: the tests chdir, replace the
    // environment, inspect /proc/self and count children (reliability.md §4.4).
    pool: 'forks',
    // vitest's default is (cores - 1): one file at a time on 2 cores. Much of the suite waits
    // on children, timers and grace periods, so two files at once finish sooner there (the
    // quick suite on 2 cores: 338 s with one, 224 s with two, same machine load); the test
    // files do not share names, uids' process counts or cgroups (helpers/tmp.ts).
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
    globalSetup: ['test/helpers/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 30000,
    hookTimeout: 30000,
  },
});
