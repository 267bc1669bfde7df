import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Separate processes, not worker threads: the tests chdir, replace the
    // environment, inspect /proc/self and count children (reliability.md §4.4).
    pool: 'forks',
    globalSetup: ['test/helpers/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 30000,
    hookTimeout: 30000,
  },
});
