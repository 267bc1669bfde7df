import { defineConfig } from 'vitest/config';

// Type tests only (`npm run test:types`): test/types/*.test-d.ts are compiled by tsc with
// test/tsconfig.json, never run.
export default defineConfig({
  test: {
    include: [],
    typecheck: {
      enabled: true,
      only: true,
      include: ['test/types/**/*.test-d.ts'],
      tsconfig: 'test/tsconfig.json',
    },
  },
});
