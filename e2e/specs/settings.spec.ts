// Settings as the admin: users and roles, and the operator's own API tokens.
import type { Page } from "@playwright/test";
import { admin, signInAs } from "../support/accounts.ts";
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
