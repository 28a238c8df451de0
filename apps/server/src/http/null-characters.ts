// PostgreSQL's text and jsonb cannot hold U+0000. A request that carries one anywhere (JSON
// body, query string, route parameters) gets a 400 naming where, before any handler runs,
// instead of a database error (500, and an error log line per request) deep inside: an
// unauthenticated sign-in attempt could otherwise produce them at will.
import type { FastifyRequest } from "fastify";
import { hasNullCharacter } from "@fleetwatch/contracts";
import { badRequest } from "./errors.ts";

/** Deeper nesting than any contract has is not searched (the schemas refuse it anyway). */
const MAX_DEPTH = 32;

/** A preValidation hook for every route. */
export async function refuseNullCharacters(request: Pick<FastifyRequest, "params" | "query" | "body">): Promise<void> {
  const where =
    findNullCharacter(request.params, "params") ??
    findNullCharacter(request.query, "querystring") ??
    findNullCharacter(request.body, "body");
  if (where) throw badRequest(`${where} contains U+0000, which cannot be stored`, "NULL_CHARACTER");
}

function findNullCharacter(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === "string") return hasNullCharacter(value) ? path : undefined;
  if (value === null || typeof value !== "object" || depth > MAX_DEPTH) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    if (hasNullCharacter(key)) return `${path} (a property name)`;
    const found = findNullCharacter(inner, `${path}.${key}`, depth + 1);
    if (found) return found;
  }
  return undefined;
}
