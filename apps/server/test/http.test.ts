import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { adminQuery, quoteIdent } from "../../../test/support/postgres.ts";
import { inject } from "vitest";

describe("health, docs and dashboard routes", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it("answers /healthz while the process is alive", async () => {
    const response = await fetch(`${server.httpUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("reports ready when the database and broker are up", async () => {
    const response = await fetch(`${server.httpUrl}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: "ready",
      checks: { database: { ok: true }, broker: { ok: true }, ingest: { ok: true } },
    });
  });

  it("serves the OpenAPI document and its UI at /docs", async () => {
    const spec = (await (await fetch(`${server.httpUrl}/docs/json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(["/healthz", "/readyz"]));
    const ui = await fetch(`${server.httpUrl}/docs`, { redirect: "follow" });
    expect(ui.status).toBe(200);
    expect(ui.headers.get("content-type")).toMatch(/text\/html/);
  });

  it("declares the ApiError contract for every error status of every /api operation", async () => {
    type Responses = Record<string, { content?: Record<string, { schema?: { required?: string[] } }> }>;
    const spec = (await (await fetch(`${server.httpUrl}/docs/json`)).json()) as {
      paths: Record<string, Record<string, { responses: Responses }>>;
    };
    const undeclared: string[] = [];
    for (const [path, operations] of Object.entries(spec.paths).filter(([path]) => path.startsWith("/api/"))) {
      for (const [method, { responses }] of Object.entries(operations)) {
        for (const status of ["400", "401", "403", "404", "409", "413", "429", "500"]) {
          // ApiError's fields, or a schema that extends it (the import's errors name the rows).
          const required = responses[status]?.content?.["application/json"]?.schema?.required ?? [];
          if (!["statusCode", "error", "message"].every((field) => required.includes(field)))
            undeclared.push(`${method} ${path} ${status}`);
        }
      }
    }
    expect(undeclared).toEqual([]);
  });

  it("answers unknown API routes with a JSON 404, never the dashboard page", async () => {
    const response = await fetch(`${server.httpUrl}/api/nothing-here`, { headers: { accept: "text/html" } });
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ statusCode: 404, error: "Not Found" });
  });

  it("reports unavailable (503) naming the database when it goes away, and the process keeps serving", async () => {
    await adminQuery(inject("adminDatabaseUrl"), `DROP DATABASE ${quoteIdent(server.database.name)} WITH (FORCE)`);
    const response = await fetch(`${server.httpUrl}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      status: "unavailable",
      // Nothing waits to be stored, so ingest itself is not stuck.
      checks: { database: { ok: false, detail: "the database did not answer" }, broker: { ok: true }, ingest: { ok: true } },
    });
    expect((await fetch(`${server.httpUrl}/healthz`)).status).toBe(200);
  });
});
