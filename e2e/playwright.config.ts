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
    // A desktop screen on which the whole header is inline (below 1,440 px it folds behind Menu;
    // responsive.spec.ts covers the phone and the folded sizes).
    viewport: { width: 1440, height: 900 },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: chromiumLaunchOptions,
  },
});
