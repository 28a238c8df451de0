import { admin, signInAs } from "../support/accounts.ts";
import { artifact, markDocument, expectSameDocument } from "../support/page.ts";
import { expect, test } from "../support/test.ts";

test("signing in with a wrong password says so, the right one opens the page that was asked for, and signing out ends the session", async ({
  page,
}) => {
  await page.goto("/alerts");
  await expect(page).toHaveTitle("Sign in · Fleetwatch");
  await expect(page.getByRole("navigation", { name: "Main" })).toHaveCount(0);

  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("alert")).toHaveText("Wrong email or password.");
  await page.screenshot({ path: artifact("sign-in-error.png"), fullPage: true });

  await page.getByLabel("Password").fill(admin.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL("/alerts");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Alerts");
  await expect(page.getByRole("banner")).toContainText(admin.email);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sign in to Fleetwatch");
  // The session is gone on the server too, not only in this tab.
  expect((await page.request.get("/api/auth/me")).status()).toBe(401);
});

test("signing out in one tab ends the live dashboard in another tab of the same browser, without a reload", async ({ page, context }) => {
  await signInAs(page, admin);
  const other = await context.newPage();
  await other.goto("/");
  await expect(other.getByRole("banner").getByRole("status").filter({ hasText: "Live" })).toBeVisible();
  await markDocument(other);

  await page.goto("/settings");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Sign in to Fleetwatch");

  // The server closes the other tab's live channel (its session is gone); the tab asks who is
  // signed in and shows the form.
  await expect(other.getByRole("heading", { level: 1 })).toHaveText("Sign in to Fleetwatch");
  await expectSameDocument(other);
});
