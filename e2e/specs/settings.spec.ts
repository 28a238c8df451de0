// Settings as the admin: users and roles, and the operator's own API tokens.
import type { Page } from "@playwright/test";
import { admin, csrfToken, signInAs } from "../support/accounts.ts";
import { artifact } from "../support/page.ts";
import { expect, test } from "../support/test.ts";

const usersSection = (page: Page) => page.getByRole("region", { name: "Users and roles" });
const tokensSection = (page: Page) => page.getByRole("region", { name: "Your API tokens" });
const addUser = (page: Page) => usersSection(page).getByRole("region", { name: "Add a user" });

test.beforeEach(async ({ page }) => signInAs(page, admin));

test("an admin adds a user with a role, is told why a weak password or a taken email is refused, changes the role and deletes the user", async ({
  page,
}) => {
  const email = `operator-${Date.now().toString(36)}@e2e.test`;
  await page.goto("/settings");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Settings");
  const me = usersSection(page).getByRole("row").filter({ hasText: admin.email });
  await expect(me).toContainText("you");
  // Your own account is changed by another admin: no way to lock yourself out from here.
  await expect(me.getByRole("button", { name: "Delete" })).toHaveCount(0);

  await addUser(page).getByLabel("Email").fill(email);
  await addUser(page).getByLabel("Password").fill("short");
  await addUser(page).getByLabel("Role").selectOption("viewer");
  await addUser(page).getByRole("button", { name: "Add user" }).click();
  await expect(addUser(page).getByRole("alert")).toHaveText("The password is too weak: use 8 to 200 characters.");

  await addUser(page).getByLabel("Password").fill("a-long-enough-password");
  await addUser(page).getByRole("button", { name: "Add user" }).click();
  await expect(addUser(page).getByRole("status")).toHaveText(`Added ${email}.`);
  const row = usersSection(page).getByRole("row").filter({ hasText: email });
  await expect(row.getByLabel(`Role of ${email}`)).toHaveValue("viewer");

  await addUser(page).getByLabel("Email").fill(email.toUpperCase());
  await addUser(page).getByLabel("Password").fill("another-long-password");
  await addUser(page).getByRole("button", { name: "Add user" }).click();
  await expect(addUser(page).getByRole("alert")).toHaveText(`A user with email ${email} exists already`);

  await row.getByLabel(`Role of ${email}`).selectOption("admin");
  await expect(row.getByLabel(`Role of ${email}`)).toHaveValue("admin");
  await expect(row.getByLabel(`Role of ${email}`)).toBeEnabled();
  const listed = (await (await page.request.get("/api/users")).json()) as { items: { email: string; role: string }[] };
  expect(listed.items.find((user) => user.email === email)?.role).toBe("admin");

  await page.screenshot({ path: artifact("settings.png"), fullPage: true });

  await row.getByRole("button", { name: "Delete" }).click();
  const dialog = page.getByRole("dialog", { name: `Delete ${email}?` });
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(row).toHaveCount(1);
  await row.getByRole("button", { name: "Delete" }).click();
  await dialog.getByRole("button", { name: "Delete user" }).click();
  await expect(row).toHaveCount(0);
});

test("one password form serves both ways: an admin sets another user's password (signing them out), and that user changes their own with the current one", async ({
  page,
  browser,
  product,
}) => {
  const account = { email: `password-${Date.now().toString(36)}@e2e.test`, password: "first-password-1" };
  const created = await page.request.post("/api/users", {
    data: { ...account, role: "viewer" },
    headers: { "x-csrf-token": await csrfToken(page.request) },
  });
  expect(created.status()).toBe(201);
  const user = await browser.newContext({ baseURL: product.baseUrl });
  try {
    const userPage = await user.newPage();
    await signInAs(userPage, account);

    // The admin's compact form in the user's row: a too short one is explained beside the field.
    await page.goto("/settings");
    const row = usersSection(page).getByRole("row").filter({ hasText: account.email });
    await row.getByRole("button", { name: "Set password" }).click();
    const adminField = row.getByLabel(`New password for ${account.email}`);
    await adminField.fill("short");
    await row.getByRole("button", { name: "Save" }).click();
    await expect(adminField).toHaveAttribute("aria-invalid", "true");
    await expect(adminField).toHaveAccessibleDescription(/at least 8 characters/);
    await adminField.fill("second-password-2");
    await row.getByRole("button", { name: "Save" }).click();
    await expect(row.getByRole("button", { name: "Set password" })).toBeVisible();
    // That user is signed out everywhere; the new password signs in, the old one no longer does.
    expect((await userPage.request.get("/api/auth/me")).status()).toBe(401);
    expect((await userPage.request.post("/api/auth/login", { data: account })).status()).toBe(401);
    await signInAs(userPage, { ...account, password: "second-password-2" });

    // The user's own form: the current password proves it is them.
    await userPage.goto("/settings");
    const own = userPage.getByRole("region", { name: "Your password" });
    await own.getByLabel("Current password").fill("not-my-password");
    await own.getByLabel("New password").fill("third-password-3");
    await own.getByRole("button", { name: "Change password" }).click();
    await expect(own.getByRole("alert")).toContainText("current password is wrong");
    await own.getByLabel("Current password").fill("second-password-2");
    await own.getByRole("button", { name: "Change password" }).click();
    await expect(own.getByRole("status")).toHaveText("Password changed.");
    // This session stays; the new password is the one that signs in.
    expect((await userPage.request.get("/api/auth/me")).status()).toBe(200);
    const fresh = await browser.newContext({ baseURL: product.baseUrl });
    try {
      expect((await fresh.request.post("/api/auth/login", { data: { ...account, password: "third-password-3" } })).status()).toBe(200);
    } finally {
      await fresh.close();
    }
  } finally {
    await user.close();
  }
});

test("an API token is shown once with a copy button, works as a Bearer token, and stops working when revoked", async ({
  page,
  context,
  baseURL,
}) => {
  const name = `script-${Date.now().toString(36)}`;
  await page.goto("/settings");
  await tokensSection(page).getByLabel("Token name").fill(name);
  await tokensSection(page).getByRole("button", { name: "Create token" }).click();

  const secret = tokensSection(page).getByLabel("New API token");
  await expect(secret).toBeVisible();
  const token = await secret.inputValue();
  expect(token.length).toBeGreaterThan(20);
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  await tokensSection(page).getByRole("button", { name: "Copy the API token" }).click();
  await expect(tokensSection(page).getByRole("button", { name: "Copy the API token" })).toHaveText("Copied");
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);

  // With an Authorization header the server ignores the session cookie: this is the token alone.
  const bearer = { headers: { authorization: `Bearer ${token}` } };
  expect((await page.request.get("/api/auth/me", bearer)).status()).toBe(200);

  await tokensSection(page).getByRole("button", { name: "Done, I have copied it" }).click();
  await expect(secret).toHaveCount(0);
  const row = tokensSection(page).getByRole("row").filter({ hasText: name });
  await expect(row).toHaveCount(1);

  await row.getByRole("button", { name: "Revoke" }).click();
  await page
    .getByRole("dialog", { name: `Revoke “${name}”?` })
    .getByRole("button", { name: "Revoke token" })
    .click();
  await expect(row).toHaveCount(0);
  expect((await page.request.get("/api/auth/me", bearer)).status()).toBe(401);
});
