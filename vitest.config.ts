import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'ui/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: real servers (PGlite, InfluxDB, the Kafka mock, Chromium) per file are heavy.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
