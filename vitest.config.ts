import { defineConfig } from "vitest/config";
import { defaultServerConditions } from "vite";

// Workspace packages are compiled from source in tests (the "@fleetwatch/source" export condition).
const conditions = ["@fleetwatch/source", ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    // Two cores: server processes, PostgreSQL and the tests share them.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "apps/server/src/**/*.test.ts", "apps/web/src/**/*.test.ts", "bench/lib/**/*.test.ts"],
        },
      },
      {
        // Tests against a real PostgreSQL, real sockets and real server processes.
        extends: true,
        test: {
          name: "integration",
          include: [
            "prisma/test/**/*.test.ts",
            "apps/server/test/**/*.test.ts",
            "packages/simulator/test/**/*.test.ts",
            "apps/web/test/**/*.test.ts",
          ],
          globalSetup: ["test/support/global-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
