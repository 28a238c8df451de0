// Page helpers every spec shares: where screenshots are kept, and proof that a flow ran in
// one document (no reload).
import { fileURLToPath } from "node:url";
import type { Page } from "@playwright/test";
import { expect } from "@playwright/test";

/** Where a spec's screenshot named `name` is kept (e2e/artifacts/, kept as test artefacts). */
export const artifact = (name: string): string => fileURLToPath(new URL(`../artifacts/${name}`, import.meta.url));

/** Sets a marker on the page's window: a full page load would wipe it. */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => Object.assign(window, { __e2eSameDocument: true }));
}

/** The marker set by markDocument survived, so everything since happened without a reload. */
export async function expectSameDocument(page: Page): Promise<void> {
  expect(await page.evaluate(() => (window as unknown as { __e2eSameDocument?: boolean }).__e2eSameDocument)).toBe(true);
}
