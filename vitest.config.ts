import { defineConfig } from 'vitest/config';

// conformance/ is node-tap's (npm run conformance), not vitest's.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests spawn containers and stubs: bound them, never hang CI.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
