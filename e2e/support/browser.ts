// How e2e runs launch Chromium: the specs (playwright.config.ts) and the budget script
// (budgets/measure.ts) use the same browser with the same flags.
import { existsSync } from "node:fs";
import type { LaunchOptions } from "@playwright/test";

// Debian's Chromium where there is one (Playwright cannot download browsers on air-gapped
// machines); CHROMIUM_PATH overrides; else Playwright's own after `npx playwright install`.
const executablePath = process.env.CHROMIUM_PATH || (existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined);

export const chromiumLaunchOptions: LaunchOptions = {
  ...(executablePath ? { executablePath } : {}),
  // Without the background-networking flags Chromium keeps dialling Google services.
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};
