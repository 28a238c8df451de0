// The OpenAPI document (/docs/json) describes Fleetwatch as a client needs it: its own title,
// version and description; how to authenticate (session cookie + CSRF header, or Bearer
// token) and which role each operation needs; a summary and the error responses of every
// operation; and the live channel's messages, which OpenAPI cannot express as an operation.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";

interface Operation {
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  responses?: Record<string, unknown>;
  "x-fleetwatch-access"?: string;
}
interface Document {
  openapi: string;
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components?: {
    securitySchemes?: Record<string, { type: string; in?: string; name?: string; scheme?: string }>;
    schemas?: Record<string, unknown>;
  };
}

let server: TestServer;
let spec: Document;
const METHODS = ["get", "post", "put", "patch", "delete"];

beforeAll(async () => {
  server = await startTestServer();
  spec = (await (await fetch(`${server.httpUrl}/docs/json`)).json()) as Document;
});
afterAll(async () => server?.close());

const operations = () =>
  Object.entries(spec.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, path, operation })),
  );

describe("the OpenAPI document", () => {
  it("is Fleetwatch's: its title, the package's version and a description, with no Fastify branding", async () => {
    const { version } = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    expect(spec.info.title).toBe("Fleetwatch API");
    expect(spec.info.version).toBe(version);
    expect(spec.info.description).toMatch(/Fleetwatch/);
    expect(JSON.stringify(spec.info)).not.toMatch(/fastify/i);
  });

  it("declares the session cookie, the CSRF header and Bearer tokens as security schemes", () => {
    expect(spec.components?.securitySchemes).toMatchObject({
      session: { type: "apiKey", in: "cookie", name: "fw_session" },
      csrf: { type: "apiKey", in: "header", name: "x-csrf-token" },
      bearer: { type: "http", scheme: "bearer" },
    });
  });

  it("gives every operation a summary and, for every /api and /metrics operation, its security, role and error responses", () => {
    const missing: string[] = [];
    for (const { name, path, operation } of operations()) {
      if (!operation.summary?.trim()) missing.push(`${name}: no summary`);
      if (!path.startsWith("/api/") && path !== "/metrics") continue;
      const errors = Object.keys(operation.responses ?? {}).filter((status) => /^[45]\d\d$/.test(status));
      if (errors.length === 0) missing.push(`${name}: no error responses`);
      if (path === "/metrics") {
        if (!operation.security?.length) missing.push(`${name}: no security requirement`);
        continue;
      }
      const access = operation["x-fleetwatch-access"];
      if (!access) missing.push(`${name}: no x-fleetwatch-access`);
      if (access && access !== "public" && !operation.security?.length) missing.push(`${name}: no security requirement`);
      if (access && access !== "public" && !errors.includes("401")) missing.push(`${name}: no 401`);
    }
    expect(missing).toEqual([]);
  });

  it("states the role each operation needs, as apiScope enforces it: reading needs a sign-in, changes need admin unless the route says otherwise", () => {
    const byName = Object.fromEntries(operations().map(({ name, operation }) => [name, operation]));
    expect(byName["GET /api/devices"]?.["x-fleetwatch-access"]).toBe("signed-in");
    expect(byName["POST /api/devices"]?.["x-fleetwatch-access"]).toBe("operator");
    expect(byName["POST /api/users"]?.["x-fleetwatch-access"]).toBe("admin");
    expect(byName["POST /api/auth/login"]?.["x-fleetwatch-access"]).toBe("public");
    expect(byName["POST /api/auth/login"]?.security).toEqual([]);
    expect(byName["GET /api/broker/stats"]?.["x-fleetwatch-access"]).toBe("admin");
    expect(byName["GET /metrics"]?.security).toEqual([{ bearer: [] }, {}]);
    // A cookie-authenticated change needs the CSRF header too; a Bearer token does not.
    expect(byName["GET /api/devices"]?.security).toEqual([{ session: [] }, { bearer: [] }]);
    expect(byName["POST /api/devices"]?.security).toEqual([{ session: [], csrf: [] }, { bearer: [] }]);
  });

  it("documents the live channel's messages, both ways, as described schemas", () => {
    const operation = spec.paths["/api/live"]?.get;
    expect(operation?.summary).toMatch(/WebSocket/);
    const schemas = spec.components?.schemas ?? {};
    for (const name of ["LiveClientMessage", "LiveServerMessage"]) {
      expect(schemas[name], name).toBeDefined();
      expect(JSON.stringify(schemas[name])).toMatch(/"description"/);
    }
    expect(JSON.stringify(operation?.["x-fleetwatch-messages" as keyof Operation])).toBe(
      JSON.stringify({
        client: { $ref: "#/components/schemas/LiveClientMessage" },
        server: { $ref: "#/components/schemas/LiveServerMessage" },
      }),
    );
  });
});
