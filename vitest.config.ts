import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The admin console's unit tests sit beside its code (DOM tests opt in with `// @vitest-environment jsdom`).
    include: ['packages/*/test/**/*.test.ts', 'packages/admin/src/**/*.test.{ts,tsx}', 'e2e/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: two test files at a time.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
