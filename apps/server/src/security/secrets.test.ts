import { describe, expect, it } from "vitest";
import { hashSecret, randomToken, scryptCost, verifySecret } from "./secrets.ts";

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
});
