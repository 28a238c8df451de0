// An operator's dashboard preferences (the theme) are kept with the account: set in one
// browser session, they are what every other session of the same operator reads, and no
// one else's. Over HTTP against a real server and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Preferences } from "@fleetwatch/contracts";
import { startTestServer, type TestServer } from "../../../test/support/fleetwatch.ts";
import { call, login } from "../../../test/support/api.ts";

let server: TestServer;
const viewer = { email: "viewer@test.local", password: "viewer-password" };

beforeAll(async () => {
  server = await startTestServer();
  const admin = await login(server.httpUrl);
  const created = await call(server.httpUrl, "POST", "/api/users", {
    body: { ...viewer, role: "viewer" },
    headers: { cookie: admin.cookie, "x-csrf-token": admin.csrfToken },
  });
  expect(created.status).toBe(201);
});
afterAll(() => server.close());

/** A browser session: its cookie and CSRF token. */
type Session = Awaited<ReturnType<typeof login>>;
const read = (session: Session) => call<Preferences>(server.httpUrl, "GET", "/api/preferences", { headers: { cookie: session.cookie } });
const change = (session: Session, body: unknown, csrf = session.csrfToken) =>
  call<Preferences>(server.httpUrl, "PATCH", "/api/preferences", { body, headers: { cookie: session.cookie, "x-csrf-token": csrf } });

describe("/api/preferences", () => {
  it("starts at the system theme, and a change made in one browser is what the operator's other browsers read", async () => {
    const laptop = await login(server.httpUrl);
    const phone = await login(server.httpUrl);
    expect((await read(laptop)).body).toEqual({ theme: "system" });

    const changed = await change(laptop, { theme: "dark" });
    expect(changed).toMatchObject({ status: 200, body: { theme: "dark" } });
    expect((await read(phone)).body).toEqual({ theme: "dark" });
    // A fresh sign-in, as from a new browser, too.
    expect((await read(await login(server.httpUrl))).body).toEqual({ theme: "dark" });
  });

  it("belongs to each operator: a viewer may set their own, which leaves the admin's alone", async () => {
    const admin = await login(server.httpUrl);
    await change(admin, { theme: "light" });
    const mine = await login(server.httpUrl, viewer.email, viewer.password);
    expect((await change(mine, { theme: "dark" })).body).toEqual({ theme: "dark" });
    expect((await read(admin)).body).toEqual({ theme: "light" });
    expect((await read(mine)).body).toEqual({ theme: "dark" });
  });

  it("refuses a change without the session's CSRF token, and any request without a session", async () => {
    const session = await login(server.httpUrl);
    const before = (await read(session)).body;
    const forged = await change(session, { theme: before.theme === "dark" ? "light" : "dark" }, "not-the-token");
    expect(forged).toMatchObject({ status: 403, body: { code: "CSRF" } });
    expect((await read(session)).body).toEqual(before);
    expect((await call(server.httpUrl, "GET", "/api/preferences")).status).toBe(401);
    expect((await call(server.httpUrl, "PATCH", "/api/preferences", { body: { theme: "dark" } })).status).toBe(401);
  });

  it("answers 400 naming the field for anything but a known theme, and changes nothing", async () => {
    const session = await login(server.httpUrl);
    const before = (await read(session)).body;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ theme: fc.string().filter((t) => !["system", "light", "dark"].includes(t)) }),
          fc.record({ theme: fc.oneof(fc.integer(), fc.constant(null), fc.boolean()) }),
          fc.constant({}),
          fc.record({ colour: fc.constantFrom("dark", "light") }),
        ),
        async (body) => {
          const reply = await change(session, body);
          expect(reply.status).toBe(400);
          expect(reply.body).toMatchObject({ statusCode: 400, message: expect.stringMatching(/^body/) });
        },
      ),
      { numRuns: 40 },
    );
    const raw = await call(server.httpUrl, "PATCH", "/api/preferences", {
      raw: "{theme:",
      headers: { cookie: session.cookie, "x-csrf-token": session.csrfToken, "content-type": "application/json" },
    });
    expect(raw.status).toBe(400);
    expect((await read(session)).body).toEqual(before);
  });
});
