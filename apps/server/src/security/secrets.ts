// Hashing of passwords, device secrets and tokens. Operator passwords use argon2id with
// OWASP's parameters (Password Storage Cheat Sheet: m=19 MiB, t=2, p=1) through
// @node-rs/argon2; device secrets use scrypt (below). Both run off the event loop (argon2 on
// its own threads, scrypt on libuv's threadpool), so verifying never blocks it.
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { hash as argon2Hash, verify as argon2Verify } from "@node-rs/argon2";

/** @node-rs/argon2's Algorithm.Argon2id: a const enum, which verbatimModuleSyntax cannot import. */
const ARGON2ID = 2;

/** argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane); stored as a PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash). */
export const passwordCost = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2Hash(password, { algorithm: ARGON2ID, ...passwordCost });
}

/**
 * Whether a stored password hash is weaker than passwordCost: the older scrypt hashes (N=2^15)
 * and any argon2id hash with lower parameters. Such a hash is replaced at the next successful
 * sign-in, when the password is at hand (AuthService.login).
 */
export function needsRehash(stored: string): boolean {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
  if (!match) return true;
  const [memoryCost, timeCost, parallelism] = match.slice(1, 4).map(Number) as [number, number, number];
  return memoryCost < passwordCost.memoryCost || timeCost < passwordCost.timeCost || parallelism < passwordCost.parallelism;
}

/**
 * scrypt costs. Device secrets are 256-bit random strings we generate: no dictionary attack
 * applies, so a cheap scrypt (N=2^10) is as safe and lets a whole fleet reconnect after a
 * restart without queueing seconds of CPU per device on the threadpool. `legacyPassword` is
 * how operator passwords were hashed before argon2id (N=2^15, below OWASP's N=2^17): such
 * hashes still verify, and are upgraded at the next sign-in.
 */
export const scryptCost = {
  legacyPassword: { N: 32_768, r: 8, p: 1 },
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

/** False for a wrong secret and for a malformed or empty stored hash; never throws on input. Reads argon2id and scrypt hashes. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  if (stored.startsWith("$argon2id$")) {
    const match = /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,2}),p=(\d{1,2})\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(stored);
    // Bounds like scrypt's below: a stored hash must not make one verification take gigabytes.
    if (!match || Number(match[1]) > 262_144 || Number(match[2]) > 10 || Number(match[3]) > 16) return false;
    return argon2Verify(stored, secret).catch(() => false);
  }
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

let dummyPasswordHash: Promise<string> | undefined;

/** A hash to verify against when an account does not exist (same cost as a real one), so timing does not reveal which emails are registered. */
export function unknownAccountHash(): Promise<string> {
  dummyPasswordHash ??= hashPassword(randomToken());
  return dummyPasswordHash;
}
