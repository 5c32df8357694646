import { defineConfig } from 'vitest/config';

// Tests that run inside ../shared/tools/v2vm (a pure cgroup v2 VM), started by
// test/integration/cgroups-v2vm.test.ts; the host's `vitest run` never collects
// them (*.v2vm.ts). Everything in the VM is 15-40x slower: generous timeouts.
export default defineConfig({
  test: {
    include: ['test/v2vm/**/*.v2vm.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
