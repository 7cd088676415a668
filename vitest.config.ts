import { defineConfig } from 'vitest/config';

// Two levels, told apart by file name (see README "Tests"):
//   *.test.ts      in-process: PGlite, the embedded Kafka broker, no outside services
//   *.int.test.ts  needs a server (PostgreSQL, Docker); each suite skips itself, in one line, when that is absent
export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/*.int.test.ts', 'node_modules/**', 'dist/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'int',
          include: ['**/*.int.test.ts'],
          exclude: ['node_modules/**', 'dist/**'],
        },
      },
    ],
    // Probes once for a container runtime and provides it to the testcontainers suites (REQUIRE_DOCKER=1: strict).
    globalSetup: ['./test/setup/containers.global.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
