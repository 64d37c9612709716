import { defineConfig } from 'vitest/config';

// Tests use real sockets and child processes; keep concurrency at the CI machine's two cores so that
// timing-sensitive integration tests (timeouts, keep-alives) are not starved.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
