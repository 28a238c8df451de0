// Hashing of passwords, device secrets and tokens. scrypt runs on libuv's threadpool
// (node:crypto's async API), so verifying never blocks the event loop.
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/**
 * Cost per kind of secret. Operator passwords are chosen by people and need a slow hash
 * (N=2^15, 32 MiB). Device secrets are 256-bit random strings we generate: no dictionary
 * attack applies, so a cheap scrypt (N=2^10) is as safe and lets a whole fleet reconnect
 * after a restart without queueing seconds of CPU per device on the threadpool.
 */
export const scryptCost = {
  password: { N: 32_768, r: 8, p: 1 },
  deviceSecret: { N: 1_024, r: 8, p: 1 },
} as const satisfies Record<string, { N: number; r: number; p: number }>;

const KEY_LENGTH = 32;

function scryptAsync(secret: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEY_LENGTH, { ...options, maxmem: 256 * options.N! * options.r! }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$salt$hash` (base64url): self-describing, so costs can change without breaking stored hashes. */
export async function hashSecret(secret: string, cost: { N: number; r: number; p: number }): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(secret, salt, cost);
  return ["scrypt", cost.N, cost.r, cost.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** False for a wrong secret and for a malformed or empty stored hash; never throws on input. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 1_048_576 || r > 32 || p > 16) return false;
  const expected = Buffer.from(parts[5] as string, "base64url");
  if (expected.length !== KEY_LENGTH) return false;
  const key = await scryptAsync(secret, Buffer.from(parts[4] as string, "base64url"), { N, r, p });
  return timingSafeEqual(key, expected);
}

/** A URL-safe random string carrying `bytes` bytes of entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** For high-entropy tokens only (session ids, API tokens): a fast hash is right when guessing is hopeless. */
export function sha256(value: string | Buffer): string {
  return createHash("sha256").update(value).digest("hex");
}

/** A dummy hash to verify against when an account does not exist, so timing does not reveal which emails are registered. */
export const unknownAccountHash = `scrypt$${scryptCost.password.N}$8$1$${Buffer.alloc(16).toString("base64url")}$${Buffer.alloc(32).toString("base64url")}`;
