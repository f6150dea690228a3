import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Stores on servers are shared by the files of a run: keep files apart.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
