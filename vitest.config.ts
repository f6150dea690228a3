import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Probes the database servers once: a store whose server is down is skipped with one line.
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Stores on servers are shared by the files of a run: keep files apart.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
