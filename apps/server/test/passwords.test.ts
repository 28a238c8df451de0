// Operator passwords: argon2id at OWASP's parameters for new hashes; a hash made the old way
// (scrypt N=2^15) keeps signing its user in, and is replaced by an argon2id one at that
// successful sign-in, never at a failed one.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, testAdmin, type TestServer } from "../../../test/support/fleetwatch.ts";
import { adminQuery } from "../../../test/support/postgres.ts";
import { call } from "../../../test/support/api.ts";
import { hashSecret, scryptCost } from "../src/security/secrets.ts";

let server: TestServer;
const storedHash = async (email: string) =>
  (await adminQuery(server.database.url, "SELECT password_hash FROM users WHERE email = $1", [email])).rows[0]?.password_hash as string;
const signIn = (email: string, password: string) => call(server.httpUrl, "POST", "/api/auth/login", { body: { email, password } });

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => server?.close());

describe("operator password hashes", () => {
  it("are argon2id with m=19 MiB, t=2, p=1 for a new account (the first admin)", async () => {
    expect(await storedHash(testAdmin.email)).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it("made the old way (scrypt N=2^15) still sign in, and are upgraded to argon2id at that sign-in only", async () => {
    const email = "legacy@test.local";
    const password = "an-old-password-1";
    const legacy = await hashSecret(password, scryptCost.legacyPassword);
    await adminQuery(
      server.database.url,
      "INSERT INTO users (id, email, password_hash, role, updated_at) VALUES (gen_random_uuid(), $1, $2, 'viewer', now())",
      [email, legacy],
    );

    expect((await signIn(email, "a-wrong-password")).status).toBe(401);
    expect(await storedHash(email)).toBe(legacy);

    expect((await signIn(email, password)).status).toBe(200);
    const upgraded = await storedHash(email);
    expect(upgraded).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

    // The new hash signs in; the old password is the same password, the old hash is gone.
    expect((await signIn(email, password)).status).toBe(200);
    expect(await storedHash(email)).toBe(upgraded);
    expect((await signIn(email, "a-wrong-password")).status).toBe(401);
  });
});
