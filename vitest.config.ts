import { defineConfig } from 'vitest/config';

/**
 * Runs alone, after every other file: the Kafka mock refuses a group follower's SyncGroup that
 * arrives after the leader's, which a second member slowed by other test files hits round after round.
 */
const ALONE = ['test/reliability/request-window.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: real servers (PGlite, InfluxDB, the Kafka mock, Chromium) per file are heavy.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'suite', include: ['test/**/*.test.ts', 'ui/**/*.test.ts'], exclude: ALONE, sequence: { groupOrder: 0 } } },
      { extends: true, test: { name: 'alone', include: ALONE, sequence: { groupOrder: 1 } } },
    ],
  },
});
