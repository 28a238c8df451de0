import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { hashPassword, hashSecret, needsRehash, passwordCost, randomToken, scryptCost, verifySecret } from "./secrets.ts";

describe("secret hashing", () => {
  it("verifies the secret it hashed and nothing else", async () => {
    const hash = await hashSecret("correct horse", scryptCost.deviceSecret);
    expect(hash).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await verifySecret("correct horse", hash)).toBe(true);
    expect(await verifySecret("correct horsE", hash)).toBe(false);
  });

  it("salts: the same secret hashes differently each time", async () => {
    expect(await hashSecret("x", scryptCost.deviceSecret)).not.toBe(await hashSecret("x", scryptCost.deviceSecret));
  });

  it("treats malformed or empty stored hashes as a mismatch instead of throwing", async () => {
    for (const stored of ["", "scrypt$", "bcrypt$1$2$3$4$5", "scrypt$99999999$8$1$AA$AA", "scrypt$1024$8$1$AA$short"]) {
      expect(await verifySecret("x", stored)).toBe(false);
    }
  });

  it("makes URL-safe tokens with the requested entropy", () => {
    expect(randomToken(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("hashes passwords with argon2id at OWASP's parameters (m=19 MiB, t=2, p=1), and verifies only the right one", async () => {
    const hash = await hashPassword("correct horse battery");
    expect(hash).toMatch(
      new RegExp(`^\\$argon2id\\$v=19\\$m=${passwordCost.memoryCost},t=${passwordCost.timeCost},p=${passwordCost.parallelism}\\$`),
    );
    expect(passwordCost.memoryCost).toBeGreaterThanOrEqual(19_456);
    expect(await verifySecret("correct horse battery", hash)).toBe(true);
    expect(await verifySecret("correct horse batterY", hash)).toBe(false);
    expect(needsRehash(hash)).toBe(false);
  });

  it("still verifies passwords hashed the old way (scrypt N=2^15), and marks them for an upgrade", async () => {
    const old = await hashSecret("old password", scryptCost.legacyPassword);
    expect(old).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(await verifySecret("old password", old)).toBe(true);
    expect(needsRehash(old)).toBe(true);
    expect(needsRehash("$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA")).toBe(true);
  });

  it("never throws on a stored hash, whatever it holds: a mismatch (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.string().map((tail) => `$argon2id$v=19$m=19456,t=2,p=1$${tail}`),
          fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.string()).map(([m, t, p, tail]) => `$argon2id$v=19$m=${m},t=${t},p=${p}$${tail}`),
        ),
        async (stored) => {
          expect(await verifySecret("x", stored)).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });
});
