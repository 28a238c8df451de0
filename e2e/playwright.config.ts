import { existsSync } from "node:fs";
import { defineConfig } from "@playwright/test";

// Debian's Chromium where there is one (Playwright cannot download browsers on air-gapped
// machines); CHROMIUM_PATH overrides; else Playwright's own after `npx playwright install`.
const executablePath = process.env.CHROMIUM_PATH || (existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined);

export default defineConfig({
  testDir: "./specs",
  globalSetup: "./support/global-setup.ts",
  outputDir: "./artifacts/results",
  // One product instance serves the whole run, and the machine has two cores.
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  reporter: "list",
  use: {
    browserName: "chromium",
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      ...(executablePath ? { executablePath } : {}),
      // Without the background-networking flags Chromium keeps dialling Google services.
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    },
  },
});
