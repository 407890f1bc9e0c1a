import { defineConfig } from 'vitest/config';

// Three kinds of test, ranked by cost (see tests/README.md):
// unit tests sit beside their code; integration boots real guests; e2e drives the app in Chromium.
export default defineConfig({
  test: {
    // A project with no test files yet is not a failure (each kind fills in as its issue lands).
    passWithNoTests: true,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 600_000,
          hookTimeout: 120_000,
          // Guests are CPU-heavy and the CI machine has 2 cores: run files one at a time.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 600_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
