// The HTTP API as clients meet it: sign-in sessions, CSRF, roles, API tokens, the device
// registry's error paths (400/404/409/413/429), bulk import, and security headers.
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { pino } from "pino";
import { startTestServer, testAdmin, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken, call, login } from "../../../test/support/api.ts";
import { createTestDatabase } from "../../../test/support/database.ts";
import { adminQuery } from "../../../test/support/postgres.ts";
import { migrateDatabase } from "@fleetwatch/prisma";
import { loadConfig } from "../src/config.ts";
import { connectDatabase } from "../src/db/database.ts";
import { AuthRepository } from "../src/modules/auth/auth.repository.ts";
import { AuthService } from "../src/modules/auth/auth.service.ts";

let server: TestServer;
let token: string;
let viewerToken: string;
const base = () => server.httpUrl;
/**
 * Each test signs in from its own address: the test process is the trusted proxy (TRUST_PROXY
 * lists 127.0.0.1) and names the client in X-Forwarded-For, so the per-address limit is only
 * met where a test means to.
 */
let address = 1;
const fromNewAddress = () => ({ "x-forwarded-for": `10.0.0.${address++}` });

/** An HTTP request from another local address (127.0.0.0/8 is all loopback on Linux): a client that reaches the port directly. */
function requestFrom(localAddress: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
    const text = JSON.stringify(body);
    const request = httpRequest(
      `${base()}${path}`,
      {
        method: "POST",
        localAddress,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers },
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers }));
      },
    );
    request.on("error", reject);
    request.end(text);
  });
}

beforeAll(async () => {
  server = await startTestServer({
    TRUST_PROXY: "127.0.0.1",
    BODY_LIMIT_BYTES: "4096",
    LOGIN_MAX_FAILURES_PER_IP: "6",
    LOGIN_FAILURES_BEFORE_DELAY: "3",
    PUBLIC_HOST: "fleet.example.com",
  });
  token = await apiToken(base());
  expect(
    (await call(base(), "POST", "/api/users", { token, body: { email: "Viewer@Test.local", password: "viewer-password", role: "viewer" } }))
      .status,
  ).toBe(201);
  viewerToken = await apiToken(base(), "viewer@test.local", "viewer-password");
});
afterAll(() => server?.close());

describe("authentication", () => {
  it("protects the whole /api scope: no cookie and no token → 401", async () => {
    for (const [method, path] of [
      ["GET", "/api/devices"],
      ["POST", "/api/devices"],
      ["GET", "/api/auth/me"],
      ["GET", "/api/users"],
      ["GET", "/api/broker/stats"],
    ] as const) {
      expect((await call(base(), method, path)).status, `${method} ${path}`).toBe(401);
    }
    expect((await call(base(), "GET", "/api/devices", { token: "fwt_unknown" })).status).toBe(401);
    expect((await call(base(), "GET", "/healthz")).status).toBe(200);
  });

  it("signs in with a HttpOnly SameSite cookie, Secure behind TLS (X-Forwarded-Proto with TRUST_PROXY), and rotates the id on each sign-in", async () => {
    const headers = { ...fromNewAddress(), "x-forwarded-proto": "https" };
    const first = await call(base(), "POST", "/api/auth/login", {
      body: { email: testAdmin.email, password: testAdmin.password },
      headers,
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ user: { email: testAdmin.email, role: "admin" }, csrfToken: expect.any(String) });
    const cookie = first.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^fw_session=[^;]+;/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Secure/i);
    const plain = await call(base(), "POST", "/api/auth/login", {
      body: { email: testAdmin.email, password: testAdmin.password },
      headers: fromNewAddress(),
    });
    expect(plain.headers.get("set-cookie")).not.toMatch(/Secure/i);
    expect(plain.headers.get("set-cookie")?.split(";")[0]).not.toBe(cookie.split(";")[0]);
  });

  it("answers who is signed in, with the CSRF token for the cookie (none for Bearer tokens)", async () => {
    const { cookie, csrfToken } = await login(base());
    expect((await call(base(), "GET", "/api/auth/me", { headers: { cookie } })).body).toMatchObject({
      user: { email: testAdmin.email },
      csrfToken,
    });
    expect((await call(base(), "GET", "/api/auth/me", { token })).body).toMatchObject({
      user: { email: testAdmin.email },
      csrfToken: null,
    });
  });

  it("requires the CSRF token on changes made with the cookie, not with a Bearer token", async () => {
    const { cookie, csrfToken } = await login(base());
    const body = { name: "csrf probe" };
    expect((await call(base(), "POST", "/api/devices", { body, headers: { cookie } })).body).toMatchObject({
      statusCode: 403,
      code: "CSRF",
    });
    expect((await call(base(), "POST", "/api/devices", { body, headers: { cookie, "x-csrf-token": "forged" } })).status).toBe(403);
    expect((await call(base(), "POST", "/api/devices", { body, headers: { cookie, "x-csrf-token": csrfToken } })).status).toBe(201);
    expect((await call(base(), "POST", "/api/devices", { body, token })).status).toBe(201);
  });

  it("ends the session on the server at logout", async () => {
    const { cookie, csrfToken } = await login(base());
    expect((await call(base(), "POST", "/api/auth/logout", { headers: { cookie, "x-csrf-token": csrfToken } })).status).toBe(204);
    expect((await call(base(), "GET", "/api/auth/me", { headers: { cookie } })).status).toBe(401);
  });

  it("refuses a wrong password with 401, without telling which part was wrong", async () => {
    const wrong = await call(base(), "POST", "/api/auth/login", {
      body: { email: testAdmin.email, password: "nope-nope" },
      headers: fromNewAddress(),
    });
    const unknown = await call(base(), "POST", "/api/auth/login", {
      body: { email: "who@test.local", password: "nope-nope" },
      headers: fromNewAddress(),
    });
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
  });

  it("slows down one account-and-address pair with progressive delays (429 with Retry-After), never the owner elsewhere", async () => {
    expect(
      (
        await call(base(), "POST", "/api/users", {
          token,
          body: { email: "target@test.local", password: "target-password", role: "viewer" },
        })
      ).status,
    ).toBe(201);
    const attacker = fromNewAddress();
    const attempt = (password: string, headers = attacker) =>
      call(base(), "POST", "/api/auth/login", { body: { email: "target@test.local", password }, headers });
    // LOGIN_FAILURES_BEFORE_DELAY (3) failures; after the third, the pair waits 1 s.
    for (let i = 0; i < 3; i++) expect((await attempt("guess-guess")).status).toBe(401);
    const delayed = await attempt("target-password");
    expect(delayed.status).toBe(429);
    expect(delayed.body).toMatchObject({ statusCode: 429, error: "Too Many Requests", code: "TOO_MANY_REQUESTS" });
    expect(delayed.headers.get("retry-after")).toBe("1");

    // The owner, from anywhere else, signs in at once: nobody elsewhere can lock the account.
    expect((await attempt("target-password", fromNewAddress())).status).toBe(200);

    // Each further failure doubles the pair's wait (the stored failure time is moved back instead
    // of waiting). Five failures in all: under the address's limit of six.
    const elapse = (seconds: number) =>
      adminQuery(
        server.database.url,
        "UPDATE login_failures SET last_failure_at = last_failure_at - make_interval(secs => $2) WHERE account = 'target@test.local' AND address = $1",
        [attacker["x-forwarded-for"], seconds],
      );
    const retryAfter: (string | null)[] = [];
    for (const wait of [1, 2]) {
      await elapse(wait);
      expect((await attempt("guess-guess")).status).toBe(401);
      retryAfter.push((await attempt("target-password")).headers.get("retry-after"));
    }
    expect(retryAfter).toEqual(["2", "4"]);
    // Once the wait has passed, the right password gets in from there too, and the pair starts afresh.
    await elapse(4);
    expect((await attempt("target-password")).status).toBe(200);
    expect(
      (
        await adminQuery(server.database.url, "SELECT 1 FROM login_failures WHERE account = 'target@test.local' AND address = $1", [
          attacker["x-forwarded-for"],
        ])
      ).rows,
    ).toEqual([]);
  });

  it("limits failed sign-ins per address (429 for that address only), whatever the accounts; successful sign-ins do not count", async () => {
    const guesser = fromNewAddress();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push(
        (await call(base(), "POST", "/api/auth/login", { body: { email: `x${i}@test.local`, password: "whatever1" }, headers: guesser }))
          .status,
      );
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429]);
    // Another address is not affected, and signs in far more often than the failure limit allows.
    const owner = fromNewAddress();
    for (let i = 0; i < 10; i++) {
      const reply = await call(base(), "POST", "/api/auth/login", {
        body: { email: testAdmin.email, password: testAdmin.password },
        headers: owner,
      });
      expect(reply.status, `sign-in ${i + 1}`).toBe(200);
    }
  });

  it("believes X-Forwarded-For only from a listed proxy: a client reaching the port directly cannot rotate its way past the per-address limit", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const reply = await requestFrom(
        "127.0.0.5",
        "/api/auth/login",
        { email: `rotating${i}@test.local`, password: "whatever1" },
        {
          "x-forwarded-for": `198.51.100.${i}`,
        },
      );
      statuses.push(reply.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 401, 429]);
  });
});

describe("roles", () => {
  it("lets viewers read but not change (403)", async () => {
    expect((await call(base(), "GET", "/api/devices", { token: viewerToken })).status).toBe(200);
    expect((await call(base(), "POST", "/api/devices", { token: viewerToken, body: { name: "nope" } })).status).toBe(403);
    const created = await call(base(), "POST", "/api/devices", { token, body: { name: "Viewer target" } });
    const id = created.body.device.id;
    for (const [method, path] of [
      ["PATCH", `/api/devices/${id}`],
      ["DELETE", `/api/devices/${id}`],
      ["POST", `/api/devices/${id}/credentials`],
      ["POST", `/api/devices/${id}/disable`],
      ["POST", "/api/users"],
    ] as const) {
      const reply = await call(base(), method, path, {
        token: viewerToken,
        body:
          method === "PATCH"
            ? { name: "x" }
            : method === "POST" && path === "/api/users"
              ? { email: "a@b.c", password: "12345678", role: "admin" }
              : undefined,
      });
      expect(reply.status, `${method} ${path}`).toBe(403);
    }
    expect((await call(base(), "GET", "/api/users", { token: viewerToken })).status).toBe(403);
    expect((await call(base(), "GET", "/api/broker/stats", { token: viewerToken })).status).toBe(403);
  });

  it("lets operators act on the fleet (devices, alert rules, acknowledgements) but not on accounts or the broker (403)", async () => {
    expect(
      (
        await call(base(), "POST", "/api/users", {
          token,
          body: { email: "ops@role.test", password: "operator-password", role: "operator" },
        })
      ).body.role,
    ).toBe("operator");
    const operatorToken = await apiToken(base(), "ops@role.test", "operator-password");
    const created = await call(base(), "POST", "/api/devices", { token: operatorToken, body: { name: "Operator's device" } });
    expect(created.status).toBe(201);
    const id = created.body.device.id;
    expect((await call(base(), "PATCH", `/api/devices/${id}`, { token: operatorToken, body: { tags: ["ops"] } })).body.tags).toEqual([
      "ops",
    ]);
    expect((await call(base(), "POST", `/api/devices/${id}/credentials`, { token: operatorToken })).status).toBe(200);
    expect((await call(base(), "POST", `/api/devices/${id}/disable`, { token: operatorToken })).status).toBe(200);
    const rule = await call(base(), "POST", "/api/alert-rules", {
      token: operatorToken,
      body: { name: "Hot", tag: "ops", metric: "temp", comparison: ">", threshold: 30, severity: "warning" },
    });
    expect(rule.status).toBe(201);
    expect((await call(base(), "DELETE", `/api/alert-rules/${rule.body.id}`, { token: operatorToken })).status).toBe(204);
    expect((await call(base(), "DELETE", `/api/devices/${id}`, { token: operatorToken })).status).toBe(204);

    const refused = await call(base(), "POST", "/api/users", {
      token: operatorToken,
      body: { email: "x@role.test", password: "12345678", role: "viewer" },
    });
    expect(refused).toMatchObject({ status: 403, body: { message: "This needs the admin role" } });
    expect((await call(base(), "GET", "/api/users", { token: operatorToken })).status).toBe(403);
    expect((await call(base(), "GET", "/api/broker/stats", { token: operatorToken })).status).toBe(403);
  });
});

describe("API tokens", () => {
  it("creates a token shown once, lists it without the secret, and revokes it at once", async () => {
    const created = await call(base(), "POST", "/api/tokens", { token, body: { name: "script" } });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^fwt_/);
    const listed = await call(base(), "GET", "/api/tokens", { token });
    const entry = listed.body.items.find((t: { id: string }) => t.id === created.body.id);
    expect(entry).toEqual({ id: created.body.id, name: "script", createdAt: expect.any(String), lastUsedAt: null });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token);
    expect((await call(base(), "GET", "/api/devices", { token: created.body.token })).status).toBe(200);
    expect((await call(base(), "DELETE", `/api/tokens/${created.body.id}`, { token })).status).toBe(204);
    expect((await call(base(), "GET", "/api/devices", { token: created.body.token })).status).toBe(401);
  });

  it("lets viewers hold tokens but not revoke other users' ones (404)", async () => {
    const mine = await call(base(), "POST", "/api/tokens", { token, body: { name: "admin's" } });
    expect((await call(base(), "POST", "/api/tokens", { token: viewerToken, body: { name: "viewer's" } })).status).toBe(201);
    expect((await call(base(), "DELETE", `/api/tokens/${mine.body.id}`, { token: viewerToken })).status).toBe(404);
    expect((await call(base(), "DELETE", "/api/tokens/not-a-uuid", { token })).status).toBe(404);
  });
});

describe("devices API", () => {
  it("creates a device with one-time credentials and endpoints on PUBLIC_HOST", async () => {
    const reply = await call(base(), "POST", "/api/devices", {
      token,
      body: { name: "Boiler room", id: "boiler-1", description: "basement", tags: ["heat", "b1"] },
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toEqual({
      device: {
        id: "boiler-1",
        name: "Boiler room",
        description: "basement",
        tags: ["heat", "b1"],
        disabled: false,
        online: false,
        status: "never",
        lastSeenAt: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
      credentials: { clientId: "boiler-1", username: "boiler-1", password: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) },
      endpoints: {
        mqtt: `mqtt://fleet.example.com:${server.fleetwatch.ports.mqtt}`,
        ws: `ws://fleet.example.com:${server.fleetwatch.ports.http}/mqtt`,
      },
    });
    // Shown once: reading the device never returns a secret.
    const read = await call(base(), "GET", "/api/devices/boiler-1", { token });
    expect(read.body).toEqual(reply.body.device);
  });

  it("tells any operator where devices connect (GET /api/broker/endpoints), exactly as registration hands it out", async () => {
    const issued = await call(base(), "POST", "/api/devices", { token, body: { name: "Endpoints probe" } });
    expect(issued.status).toBe(201);
    const expected = {
      mqtt: `mqtt://fleet.example.com:${server.fleetwatch.ports.mqtt}`,
      ws: `ws://fleet.example.com:${server.fleetwatch.ports.http}/mqtt`,
    };
    expect(issued.body.endpoints).toEqual(expected);
    for (const operatorToken of [token, viewerToken]) {
      const reply = await call(base(), "GET", "/api/broker/endpoints", { token: operatorToken });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual(expected);
    }
    expect((await call(base(), "GET", "/api/broker/endpoints")).status).toBe(401);
  });

  it("derives a readable id from the name, unique even when the name repeats", async () => {
    const a = await call(base(), "POST", "/api/devices", { token, body: { name: "Garden Sensor" } });
    const b = await call(base(), "POST", "/api/devices", { token, body: { name: "Garden Sensor" } });
    expect(a.body.device.id).toBe("garden-sensor");
    expect(b.body.device.id).toMatch(/^garden-sensor-[a-z0-9-]+$/);
  });

  it("answers 400 naming the field, never a 500, for bad input", async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /body\.name/],
      [{ name: 42 }, /body\.name/],
      [{ name: "x", id: "Not A Slug" }, /body\.id/],
      [{ name: "x", tags: ["a b"] }, /body\.tags/],
      [{ name: "x", colour: "red" }, /body/],
    ];
    for (const [body, field] of cases) {
      const reply = await call(base(), "POST", "/api/devices", { token, body });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body).toMatchObject({ statusCode: 400, error: "Bad Request", message: expect.stringMatching(field) });
    }
    const badJson = await call(base(), "POST", "/api/devices", {
      token,
      raw: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(badJson.status).toBe(400);
    expect((await call(base(), "GET", "/api/devices?limit=0", { token })).body.message).toMatch(/querystring\.limit/);
    expect((await call(base(), "GET", "/api/devices?status=sleeping", { token })).status).toBe(400);
    expect((await call(base(), "PATCH", "/api/devices/boiler-1", { token, body: {} })).status).toBe(400);
  });

  it("answers 400 naming where, never a 500, for U+0000 anywhere in a request (PostgreSQL's text cannot hold it)", async () => {
    const nul = "\u0000";
    for (const [method, path, body, where] of [
      ["POST", "/api/devices", { name: `a${nul}b` }, "body.name"],
      ["POST", "/api/devices", { name: "ok", tags: [`t${nul}`] }, "body.tags.0"],
      ["POST", "/api/tokens", { name: `t${nul}` }, "body.name"],
      ["POST", "/api/users", { email: `u${nul}@test.local`, password: "password-1", role: "viewer" }, "body.email"],
      ["GET", `/api/devices?q=${encodeURIComponent(`a${nul}`)}`, undefined, "querystring.q"],
      ["GET", `/api/devices/${encodeURIComponent(`x${nul}`)}`, undefined, "params.id"],
      // Before anyone is signed in.
      ["POST", "/api/auth/login", { email: `a${nul}@test.local`, password: "whatever1" }, "body.email"],
    ] as const) {
      const reply = await call(base(), method, path, { token, ...(body ? { body } : {}), headers: fromNewAddress() });
      expect(reply.status, `${method} ${path}`).toBe(400);
      expect(reply.body).toMatchObject({
        statusCode: 400,
        code: "NULL_CHARACTER",
        message: `${where} contains U+0000, which cannot be stored`,
      });
    }
  });

  it("answers 404 for an unknown id on every route", async () => {
    for (const [method, path] of [
      ["GET", ""],
      ["PATCH", ""],
      ["DELETE", ""],
      ["POST", "/credentials"],
      ["POST", "/disable"],
      ["POST", "/enable"],
    ] as const) {
      const reply = await call(base(), method, `/api/devices/ghost${path}`, {
        token,
        body: method === "PATCH" ? { name: "x" } : undefined,
      });
      expect(reply.status, `${method} ${path}`).toBe(404);
      expect(reply.body).toMatchObject({ statusCode: 404, error: "Not Found" });
    }
  });

  it("refuses an id that cannot be a device id with 400 on every /devices/:id route, and an unknown one with 404", async () => {
    for (const path of ["", "/metrics", "/telemetry?metric=temp", "/telemetry.csv?metric=temp", "/state", "/presence"]) {
      const malformed = await call(base(), "GET", `/api/devices/Not_A_Slug${path}`, { token });
      expect([path, malformed.status, malformed.body.code]).toEqual([path, 400, "VALIDATION_FAILED"]);
      expect([path, (await call(base(), "GET", `/api/devices/no-such-device${path}`, { token })).status]).toEqual([path, 404]);
    }
  });

  it("answers 409 for a duplicate id", async () => {
    await call(base(), "POST", "/api/devices", { token, body: { name: "Twin", id: "twin" } });
    const again = await call(base(), "POST", "/api/devices", { token, body: { name: "Twin again", id: "twin" } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ statusCode: 409, error: "Conflict" });
  });

  it("answers 413 with the JSON error shape for a body over BODY_LIMIT_BYTES", async () => {
    const reply = await call(base(), "POST", "/api/devices", { token, body: { name: "big", description: "x".repeat(5_000) } });
    expect(reply.status).toBe(413);
    expect(reply.body).toMatchObject({ statusCode: 413, error: "Payload Too Large", message: expect.any(String) });
  });

  it("updates name, description and tags", async () => {
    await call(base(), "POST", "/api/devices", { token, body: { name: "Patch me", id: "patch-me" } });
    const reply = await call(base(), "PATCH", "/api/devices/patch-me", { token, body: { name: "Patched", tags: ["x", "x", "y"] } });
    expect(reply.body).toMatchObject({ id: "patch-me", name: "Patched", tags: ["x", "y"] });
  });

  it("lists with search, tag and status filters, pagination and a total", async () => {
    for (let i = 0; i < 5; i++)
      await call(base(), "POST", "/api/devices", {
        token,
        body: { name: `Meter ${i}`, id: `meter-${i}`, tags: i % 2 ? ["odd"] : ["even"] },
      });
    const page = await call(base(), "GET", "/api/devices?q=METER&limit=2&offset=1", { token });
    expect(page.body).toMatchObject({ total: 5, limit: 2, offset: 1 });
    expect(page.body.items.map((d: { id: string }) => d.id)).toEqual(["meter-1", "meter-2"]);
    const odd = await call(base(), "GET", "/api/devices?q=meter&tag=odd", { token });
    expect(odd.body.items.map((d: { id: string }) => d.id)).toEqual(["meter-1", "meter-3"]);
    expect((await call(base(), "GET", "/api/devices?q=meter&status=never", { token })).body.total).toBe(5);
    expect((await call(base(), "GET", "/api/devices?q=meter&status=online", { token })).body.total).toBe(0);
    // LIKE wildcards in the search are taken literally.
    expect((await call(base(), "GET", "/api/devices?q=%25", { token })).body.total).toBe(0);
  });
});

describe("bulk import", () => {
  it("previews an import with ?dryRun=true: each row as read and every row's errors, writing nothing", async () => {
    const csvHeaders = { "content-type": "text/csv" };
    const bad = "name,id,description,tags\nPre A,pre-a,first,x;y\n   ,pre-b,,\nPre C,pre-c,,\n";
    const preview = await call(base(), "POST", "/api/devices/import?dryRun=true", { token, raw: bad, headers: csvHeaders });
    expect(preview.status).toBe(200);
    expect(preview.body).toEqual({
      rows: [
        { row: 1, name: "Pre A", id: "pre-a", description: "first", tags: ["x", "y"] },
        { row: 2, name: "", id: "pre-b" },
        { row: 3, name: "Pre C", id: "pre-c" },
      ],
      errors: [{ row: 2, field: "name", message: expect.any(String) }],
      importable: false,
    });
    expect((await call(base(), "GET", "/api/devices/pre-a", { token })).status).toBe(404);
    const fixed = bad.replace("   ,pre-b", "Pre B,pre-b");
    const ready = await call(base(), "POST", "/api/devices/import?dryRun=true", { token, raw: fixed, headers: csvHeaders });
    expect(ready.body).toMatchObject({ errors: [], importable: true });
    expect((await call(base(), "GET", "/api/devices/pre-a", { token })).status).toBe(404);
    const imported = await call(base(), "POST", "/api/devices/import", { token, raw: fixed, headers: csvHeaders });
    expect(imported.status).toBe(201);
    expect(imported.body.created).toHaveLength(3);
  });

  it("imports JSON rows and returns each device's credentials", async () => {
    const reply = await call(base(), "POST", "/api/devices/import", {
      token,
      body: [
        { name: "Imp A", id: "imp-a" },
        { name: "Imp B", tags: ["bulk"] },
      ],
    });
    expect(reply.status).toBe(201);
    expect(reply.body.created.map((c: { device: { id: string } }) => c.device.id)).toEqual(["imp-a", "imp-b"]);
    expect(reply.body.created[1].credentials.password).toHaveLength(43);
    // Each row's password is that device's own: the broker accepts each device with it.
    for (const { device, credentials } of reply.body.created as { device: { id: string }; credentials: { password: string } }[]) {
      const client = await mqtt.connectAsync(server.mqttUrl, {
        clientId: device.id,
        username: device.id,
        password: credentials.password,
        reconnectPeriod: 0,
      });
      await client.endAsync();
    }
  });

  it("imports CSV", async () => {
    const csv = "name,id,tags\nCsv One,csv-1,a;b\nCsv Two,,\n";
    const reply = await call(base(), "POST", "/api/devices/import", { token, raw: csv, headers: { "content-type": "text/csv" } });
    expect(reply.status).toBe(201);
    expect(reply.body.created.map((c: { device: { id: string; tags: string[] } }) => [c.device.id, c.device.tags])).toEqual([
      ["csv-1", ["a", "b"]],
      ["csv-two", []],
    ]);
  });

  it("is all-or-nothing, reporting every bad row", async () => {
    const reply = await call(base(), "POST", "/api/devices/import", {
      token,
      body: {
        devices: [
          { name: "Fine", id: "fine-1" },
          { id: "no-name" },
          { name: "Dup", id: "dup-x" },
          { name: "Dup", id: "dup-x" },
          { name: "Bad", id: "BAD" },
        ],
      },
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([
      { row: 2, field: "name", message: expect.any(String) },
      { row: 4, field: "id", message: "id dup-x repeats row 3" },
      { row: 5, field: "id", message: expect.any(String) },
    ]);
    expect((await call(base(), "GET", "/api/devices/fine-1", { token })).status).toBe(404);
  });

  it("answers 409 with the rows whose ids exist already, creating nothing", async () => {
    const reply = await call(base(), "POST", "/api/devices/import", {
      token,
      body: [
        { name: "New", id: "brand-new" },
        { name: "Old", id: "imp-a" },
      ],
    });
    expect(reply.status).toBe(409);
    expect(reply.body.errors).toEqual([{ row: 2, field: "id", message: "a device with id imp-a exists already" }]);
    expect((await call(base(), "GET", "/api/devices/brand-new", { token })).status).toBe(404);
  });

  it("answers 400 for an unreadable CSV or body", async () => {
    expect(
      (await call(base(), "POST", "/api/devices/import", { token, raw: "colour\nred\n", headers: { "content-type": "text/csv" } })).status,
    ).toBe(400);
    expect((await call(base(), "POST", "/api/devices/import", { token, body: { rows: [] } })).status).toBe(400);
    expect((await call(base(), "POST", "/api/devices/import", { token, body: [] })).status).toBe(400);
  });
});

describe("users", () => {
  it("manages users: duplicate email 409, the last admin cannot go, roles change", async () => {
    const created = await call(base(), "POST", "/api/users", {
      token,
      body: { email: "ops@test.local", password: "ops-password", role: "viewer" },
    });
    expect(created.body).toEqual({ id: expect.any(String), email: "ops@test.local", role: "viewer", createdAt: expect.any(String) });
    expect(
      (await call(base(), "POST", "/api/users", { token, body: { email: "OPS@test.local", password: "ops-password", role: "viewer" } }))
        .status,
    ).toBe(409);
    expect(
      (await call(base(), "POST", "/api/users", { token, body: { email: "not-an-email", password: "ops-password", role: "viewer" } })).body
        .message,
    ).toMatch(/body\.email/);
    const admins = (await call(base(), "GET", "/api/users", { token })).body.items.filter((u: { role: string }) => u.role === "admin");
    expect(admins).toHaveLength(1);
    expect((await call(base(), "DELETE", `/api/users/${admins[0].id}`, { token })).status).toBe(409);
    expect((await call(base(), "PATCH", `/api/users/${admins[0].id}`, { token, body: { role: "viewer" } })).status).toBe(409);
    expect((await call(base(), "PATCH", `/api/users/${created.body.id}`, { token, body: { role: "admin" } })).body.role).toBe("admin");
    expect((await call(base(), "DELETE", `/api/users/${created.body.id}`, { token })).status).toBe(204);
    expect((await call(base(), "DELETE", `/api/users/${created.body.id}`, { token })).status).toBe(404);
  });
});

describe("blank device names", () => {
  /** Nothing but whitespace (what String.prototype.trim removes). */
  const blank = fc.string({ unit: fc.constantFrom(" ", "\t", "\n", "\u00a0", "\u3000"), minLength: 1, maxLength: 12 });

  it("refuses a name of nothing but spaces with 400 and a reason, on create, edit and import, and creates nothing (fast-check)", async () => {
    const before = (await call(base(), "GET", "/api/devices?limit=1", { token })).body.total;
    await call(base(), "POST", "/api/devices", { token, body: { name: "Named", id: "named-1" } });
    await fc.assert(
      fc.asyncProperty(blank, async (name) => {
        const created = await call(base(), "POST", "/api/devices", { token, body: { name } });
        expect(created.status).toBe(400);
        expect(created.body).toMatchObject({ code: "NAME_BLANK", message: expect.stringContaining("name is blank") });
        const edited = await call(base(), "PATCH", "/api/devices/named-1", { token, body: { name } });
        expect(edited.status).toBe(400);
        const imported = await call(base(), "POST", "/api/devices/import", { token, body: [{ name: "ok" }, { name }] });
        expect(imported.status).toBe(400);
        expect(imported.body.errors).toEqual([{ row: 2, field: "name", message: expect.stringContaining("name is blank") }]);
      }),
      { numRuns: 30 },
    );
    expect((await call(base(), "GET", "/api/devices?limit=1", { token })).body.total).toBe(before + 1);
    expect((await call(base(), "GET", "/api/devices/named-1", { token })).body.name).toBe("Named");
  });

  it("trims any name with something besides spaces, and keeps it (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(
        blank,
        fc.string({ minLength: 1, maxLength: 20 }).filter((text) => text.trim() !== "" && !text.includes("\u0000")),
        blank,
        async (left, core, right) => {
          const reply = await call(base(), "PATCH", "/api/devices/named-1", { token, body: { name: `${left}${core}${right}` } });
          expect(reply.status).toBe(200);
          expect(reply.body.name).toBe(`${left}${core}${right}`.trim());
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe("device tags", () => {
  it("lists the tags in use, most used first, for suggestions", async () => {
    await call(base(), "POST", "/api/devices", { token, body: { name: "Tagged 1", id: "tagged-1", tags: ["zz-roof", "zz-north"] } });
    await call(base(), "POST", "/api/devices", { token, body: { name: "Tagged 2", id: "tagged-2", tags: ["zz-roof"] } });
    const reply = await call(base(), "GET", "/api/devices/tags", { token: viewerToken });
    expect(reply.status).toBe(200);
    const ours = reply.body.items.filter((item: { tag: string }) => item.tag.startsWith("zz-"));
    expect(ours).toEqual([
      { tag: "zz-roof", devices: 2 },
      { tag: "zz-north", devices: 1 },
    ]);
  });
});

describe("passwords", () => {
  it("lets an operator change their own password with the current one: their other sessions end, the one they use stays", async () => {
    await call(base(), "POST", "/api/users", { token, body: { email: "pw@test.local", password: "first-password", role: "operator" } });
    const here = await login(base(), "pw@test.local", "first-password");
    const elsewhere = await login(base(), "pw@test.local", "first-password");
    const asHere = { cookie: here.cookie, "x-csrf-token": here.csrfToken };
    const change = (body: unknown) => call(base(), "POST", "/api/auth/password", { headers: asHere, body });

    const wrong = await change({ currentPassword: "not-it", newPassword: "second-password" });
    expect(wrong).toMatchObject({ status: 400, body: { code: "CURRENT_PASSWORD_WRONG" } });
    expect((await change({ currentPassword: "first-password", newPassword: "short" })).status).toBe(400);
    expect((await call(base(), "GET", "/api/auth/me", { headers: { cookie: elsewhere.cookie } })).status).toBe(200);

    expect((await change({ currentPassword: "first-password", newPassword: "second-password" })).status).toBe(204);
    expect((await call(base(), "GET", "/api/auth/me", { headers: { cookie: here.cookie } })).status).toBe(200);
    expect((await call(base(), "GET", "/api/auth/me", { headers: { cookie: elsewhere.cookie } })).status).toBe(401);
    await expect(login(base(), "pw@test.local", "first-password")).rejects.toThrow(/401/);
    await login(base(), "pw@test.local", "second-password");
  });

  it("lets an admin set another user's password, which signs that user out everywhere", async () => {
    const user = await call(base(), "POST", "/api/users", {
      token,
      body: { email: "reset@test.local", password: "old-password", role: "viewer" },
    });
    const sessions = [await login(base(), "reset@test.local", "old-password"), await login(base(), "reset@test.local", "old-password")];
    expect((await call(base(), "PATCH", `/api/users/${user.body.id}`, { token, body: { password: "new-password" } })).status).toBe(200);
    for (const session of sessions)
      expect((await call(base(), "GET", "/api/auth/me", { headers: { cookie: session.cookie } })).status).toBe(401);
    await login(base(), "reset@test.local", "new-password");
  });
});

describe("security headers", () => {
  it("sends a CSP and the other helmet headers on pages, /docs and the API", async () => {
    for (const path of ["/docs", "/healthz", "/api/devices"]) {
      const response = await fetch(`${base()}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.headers.get("content-security-policy"), path).toMatch(/script-src 'self'/);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      expect(response.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    }
  });

  it("sends HSTS only over HTTPS: behind a trusted proxy that says so, never over plain HTTP or on an untrusted client's word", async () => {
    for (const path of ["/", "/healthz", "/api/devices"]) {
      const plain = await fetch(`${base()}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(plain.headers.get("strict-transport-security"), path).toBeNull();
      const proxied = await fetch(`${base()}${path}`, { headers: { authorization: `Bearer ${token}`, "x-forwarded-proto": "https" } });
      expect(proxied.headers.get("strict-transport-security"), path).toBe("max-age=31536000; includeSubDomains");
    }
    const direct = await requestFrom(
      "127.0.0.6",
      "/api/auth/login",
      { email: "nobody@test.local", password: "whatever1" },
      {
        "x-forwarded-proto": "https",
      },
    );
    expect(direct.headers["strict-transport-security"]).toBeUndefined();
  });
});

describe("OpenAPI document", () => {
  it("documents the devices, auth, tokens, users and broker routes at /docs", async () => {
    const spec = (await (await fetch(`${base()}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        "/api/devices",
        "/api/devices/{id}",
        "/api/devices/{id}/credentials",
        "/api/devices/{id}/disable",
        "/api/devices/{id}/enable",
        "/api/devices/import",
        "/api/auth/login",
        "/api/auth/logout",
        "/api/auth/me",
        "/api/tokens",
        "/api/tokens/{id}",
        "/api/users",
        "/api/users/{id}",
        "/api/broker/stats",
      ]),
    );
  });
});

describe("first admin", () => {
  it("creates exactly one admin when two nodes start at once, printing a generated password once", async () => {
    const database = await createTestDatabase();
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const config = loadConfig({ DATABASE_URL: database.url });
    const pools = [connectDatabase(database.url, logger), connectDatabase(database.url, logger)];
    try {
      await migrateDatabase(database.url);
      await Promise.all(
        pools.map((pool) => new AuthService(new AuthRepository(pool.prisma), config, logger, async () => {}).ensureFirstAdmin()),
      );
      const { rows } = await pools[0]!.pool.query("SELECT email, role FROM users");
      expect(rows).toEqual([{ email: "admin@fleetwatch.local", role: "admin" }]);
      expect(lines.filter((line) => line.includes("created the first admin"))).toHaveLength(1);
      expect(lines.join("\n")).toMatch(/with password \S{20}/);
    } finally {
      await Promise.all(pools.map((pool) => pool.close()));
      await database.drop();
    }
  });
});
