import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Separate processes, not worker threads: the tests chdir, replace the
    // environment, inspect /proc/self and count children.
    pool: 'forks',
    // maxWorkers stays vitest's default (cores - 1): one file at a time on 2 cores. Two at once
    // took the quick suite from 338 s to 224 s there (load average 15), but the files are not
    // independent: the pid-reuse test (adversarial/reaping) sets ns_last_pid, which gives its chosen pid to
    // whichever process on the machine forks next, and a README example running beside it died
    // of a signal; the soak's 20 ms timeouts also misclassify under the added load.
    globalSetup: ['test/helpers/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 30000,
    hookTimeout: 30000,
  },
});
