import { defineConfig } from "@playwright/test";
import { chromiumLaunchOptions } from "./support/browser.ts";

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
    launchOptions: chromiumLaunchOptions,
  },
});
