import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: '.cache/vitest-results.json' }]],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/setup/global.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two cores: run integration files one at a time so fault tests do not starve each other.
          fileParallelism: false,
        },
      },
    ],
  },
});
