// The theme switch: light, dark or the system's, saved with the operator's account, so it
// survives a reload and follows the operator to another browser (a fresh context with no
// local storage), before and after the dashboard has asked the server.
import type { Browser, Page } from "@playwright/test";
import { admin, csrfToken, signInAs, type Account } from "../support/accounts.ts";
import { artifact } from "../support/page.ts";
import { expect, test } from "../support/test.ts";

/** The page's background as drawn: the theme's --bg. */
const background = (page: Page) => page.evaluate(() => getComputedStyle(document.body.parentElement!).backgroundColor);
const DARK_BG = "rgb(18, 22, 28)";
const LIGHT_BG = "rgb(245, 246, 248)";

async function freshBrowser(browser: Browser, baseURL: string, account: Account, colorScheme: "light" | "dark") {
  const context = await browser.newContext({ baseURL, colorScheme });
  const page = await context.newPage();
  await signInAs(page, account);
  return { context, page };
}

test("the theme switch applies at once, survives a reload and follows the operator to another browser", async ({
  browser,
  page,
  product,
}) => {
  // An operator of its own (a viewer may choose a theme too), so no other spec's screenshots change colour.
  const account = { email: `theme-${Date.now().toString(36)}@e2e.test`, password: "theme-viewer-password" };
  await signInAs(page, admin);
  const created = await page.request.post("/api/users", {
    data: { ...account, role: "viewer" },
    headers: { "x-csrf-token": await csrfToken(page.request) },
  });
  expect(created.status()).toBe(201);

  const laptop = await freshBrowser(browser, product.baseUrl, account, "light");
  try {
    await laptop.page.goto("/");
    const theme = laptop.page.getByLabel("Theme");
    await expect(theme).toHaveValue("system");
    expect(await background(laptop.page)).toBe(LIGHT_BG);

    await theme.selectOption("dark");
    await expect(laptop.page.locator("html")).toHaveAttribute("data-theme", "dark");
    expect(await background(laptop.page)).toBe(DARK_BG);
    // Saved with the account, not only in this browser.
    await expect.poll(async () => (await (await laptop.page.request.get("/api/preferences")).json()) as unknown).toEqual({ theme: "dark" });
    await laptop.page.screenshot({ path: artifact("theme-dark.png"), fullPage: true });

    // A reload paints dark before the account's answer arrives (public/theme.js): hold that answer back.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await laptop.page.route("**/api/preferences", async (route) => {
      await held;
      await route.continue();
    });
    await laptop.page.reload();
    await expect(laptop.page.getByLabel("Theme")).toBeDisabled();
    await expect(laptop.page.locator("html")).toHaveAttribute("data-theme", "dark");
    expect(await background(laptop.page)).toBe(DARK_BG);
    release();
    await expect(laptop.page.getByLabel("Theme")).toHaveValue("dark");
    await laptop.page.unroute("**/api/preferences");

    // Another browser, with nothing stored locally and a light system theme: the account's choice wins.
    const phone = await freshBrowser(browser, product.baseUrl, account, "light");
    try {
      await phone.page.goto("/alerts");
      await expect(phone.page.getByLabel("Theme")).toHaveValue("dark");
      await expect(phone.page.locator("html")).toHaveAttribute("data-theme", "dark");
      expect(await background(phone.page)).toBe(DARK_BG);

      // Back to the system's choice, from there: this browser follows its (light) system again…
      await phone.page.getByLabel("Theme").selectOption("system");
      await expect(phone.page.locator("html")).not.toHaveAttribute("data-theme", /.*/);
      expect(await background(phone.page)).toBe(LIGHT_BG);
    } finally {
      await phone.context.close();
    }
    // …and so does the first one once it loads again: it reads the account's choice.
    await laptop.page.emulateMedia({ colorScheme: "dark" });
    await laptop.page.reload();
    await expect(laptop.page.getByLabel("Theme")).toHaveValue("system");
    await expect(laptop.page.locator("html")).not.toHaveAttribute("data-theme", /.*/);
    expect(await background(laptop.page)).toBe(DARK_BG);
    await laptop.page.emulateMedia({ colorScheme: "light" });
    expect(await background(laptop.page)).toBe(LIGHT_BG);
  } finally {
    await laptop.context.close();
  }
});
