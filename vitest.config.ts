import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src-*/**/*.test.ts', 'bin/**/*.test.ts'],
    setupFiles: ['./src-main/test-support/node-version.setup.ts'],
    // Worker threads, child processes and real images: give slow machines room.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
