// Notifications with real parts: alerts raised by real telemetry over MQTT and by a device
// whose connection dies (its Last Will published [MQTT-3.1.2-8]), delivered to a real HTTP
// receiver that checks the signature, to a real SMTP server (smtp-server), and to a Slack-
// shaped webhook; retries, permanent failures, routing, the rate limit's digest and the
// delivery log, through the API. Each block routes its channels to devices of its own tag.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import mqtt, { type MqttClient } from "mqtt";
import fc from "fast-check";
import { SMTPServer } from "smtp-server";
import { simpleParser, type ParsedMail } from "mailparser";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { CreatedNotificationChannel, DeliveryAttempt, NotificationChannel, NotificationTestResult } from "@fleetwatch/contracts";
import { startTestServer, testAdmin, type TestServer } from "../../../test/support/fleetwatch.ts";
import { apiToken, call } from "../../../test/support/api.ts";
import { deviceConnectOptions, registerDevice } from "../../../test/support/devices.ts";
import { startWebhookReceiver, type WebhookReceiver } from "../../../test/support/webhook-receiver.ts";
import { waitFor } from "../../../test/support/wait.ts";
import { NotificationsRepository } from "../src/modules/notifications/notifications.repository.ts";

let server: TestServer;
let token: string;
let smtp: SMTPServer;
const mails: { from: string; to: string[]; mail: ParsedMail }[] = [];
/** RCPT TO answers for the next mails: a code to refuse with (4xx temporary, 5xx permanent). */
const smtpRefusals: number[] = [];
const receivers: WebhookReceiver[] = [];
const clients: MqttClient[] = [];

const api = <T = any>(method: string, path: string, body?: unknown, as = token) =>
  call<T>(server.httpUrl, method, path, { token: as, ...(body !== undefined ? { body } : {}) });

async function receiver(secret = ""): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver(secret);
  receivers.push(started);
  return started;
}

async function createChannel(body: object): Promise<CreatedNotificationChannel> {
  const reply = await api<CreatedNotificationChannel>("POST", "/api/notification-channels", body);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body;
}

async function device(id: string, tags: string[]): Promise<MqttClient> {
  await registerDevice(server.database.url, id, `Device ${id}`);
  await server.fleetwatch.database.pool.query("UPDATE devices SET tags = $2 WHERE id = $1", [id, tags]);
  const client = await mqtt.connectAsync(server.mqttUrl, deviceConnectOptions(id));
  clients.push(client);
  return client;
}

/** A rule on every device with `tag`: temp > 50 raises a critical alert at once. */
async function hotRule(tag: string, severity = "critical") {
  const reply = await api("POST", "/api/alert-rules", {
    name: `Hot ${tag}`,
    tag,
    metric: "temp",
    comparison: ">",
    threshold: 50,
    severity,
  });
  expect(reply.status).toBe(201);
  return reply.body as { id: number };
}

const publish = (client: MqttClient, id: string, temp: number) =>
  client.publishAsync(`devices/${id}/telemetry`, JSON.stringify({ temp }), { qos: 1 });

const deliveries = async (channelId: string) =>
  (await api<{ items: DeliveryAttempt[] }>("GET", `/api/notification-channels/${channelId}/deliveries`)).body.items;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onRcptTo(_address, _session, callback) {
      const refusal = smtpRefusals.shift();
      if (refusal === undefined) return callback();
      callback(Object.assign(new Error(refusal < 500 ? "Mailbox busy, try later" : "No such user"), { responseCode: refusal }));
    },
    onData(stream, session, callback) {
      void simpleParser(stream).then((mail) => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          mail,
        });
        callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  server = await startTestServer({
    ALERT_SWEEP_MS: "100",
    ALERT_OFFLINE_GRACE_MS: "300",
    NOTIFY_POLL_MS: "100",
    NOTIFY_RETRY_BASE_MS: "50",
    NOTIFY_RETRY_MAX_MS: "200",
    NOTIFY_TIMEOUT_MS: "1500",
    NOTIFY_RATE_LIMIT: "3",
    NOTIFY_RATE_WINDOW_S: "5",
    PUBLIC_URL: "https://fleet.example.com",
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    SMTP_FROM: "Fleetwatch <alerts@fleet.example.com>",
  });
  token = await apiToken(server.httpUrl);
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true)));
  await server?.close();
  await Promise.all(receivers.map((r) => r.close()));
  await new Promise<void>((resolve) => (smtp ? smtp.close(() => resolve()) : resolve()));
});

describe("the channel API", () => {
  it("creates a webhook with a generated secret shown once, and never returns a secret again", async () => {
    const created = await createChannel({ name: "  Ops hook ", type: "webhook", url: "https://hooks.example.com/fleet" });
    expect(created).toMatchObject({ name: "Ops hook", type: "webhook", hasSecret: true, enabled: true, severities: null });
    expect(created.secret).toMatch(/^[0-9a-f]{64}$/);
    const listed = (await api<{ items: NotificationChannel[] }>("GET", "/api/notification-channels")).body.items;
    const again = listed.find((c) => c.id === created.id);
    expect(again).toMatchObject({ hasSecret: true });
    expect(JSON.stringify(listed)).not.toContain(created.secret);
    const patched = await api("PATCH", `/api/notification-channels/${created.id}`, { secret: "a-new-secret-of-16+", enabled: false });
    expect(patched.status).toBe(200);
    expect(JSON.stringify(patched.body)).not.toContain("a-new-secret-of-16+");
    expect(patched.body).toMatchObject({ enabled: false, hasSecret: true });
    expect((await api("DELETE", `/api/notification-channels/${created.id}`)).status).toBe(204);
    expect((await api("GET", `/api/notification-channels/${created.id}`)).status).toBe(404);
  });

  it("lets anyone signed in read channels, a webhook URL only as its origin, and only admins see it whole or change them", async () => {
    const created = await createChannel({ name: "Readable", type: "slack", url: "https://chat.example.com/hooks/x" });
    for (const [email, role] of [
      ["viewer@test.local", "viewer"],
      ["operator@test.local", "operator"],
    ] as const) {
      const user = await api("POST", "/api/users", { email, password: "password-for-tests-1", role });
      expect(user.status).toBe(201);
      const theirs = await apiToken(server.httpUrl, email, "password-for-tests-1");
      const listed = await api<{ items: NotificationChannel[] }>("GET", "/api/notification-channels", undefined, theirs);
      expect(listed.status).toBe(200);
      // The URL is the webhook's credential: they see where it points, not the URL itself.
      expect(listed.body.items.find((c) => c.id === created.id)?.url).toBe("https://chat.example.com/…");
      expect(JSON.stringify(listed.body)).not.toContain("/hooks/x");
      expect((await api("GET", `/api/notification-channels/${created.id}`, undefined, theirs)).body.url).toBe("https://chat.example.com/…");
      expect((await api("GET", `/api/notification-channels/${created.id}/deliveries`, undefined, theirs)).status).toBe(200);
      const refused = await api("POST", "/api/notification-channels", { name: "x", type: "slack", url: "https://a.example" }, theirs);
      expect(refused.status).toBe(403);
      expect((await api("PATCH", `/api/notification-channels/${created.id}`, { enabled: false }, theirs)).status).toBe(403);
      expect((await api("POST", `/api/notification-channels/${created.id}/test`, undefined, theirs)).status).toBe(403);
      expect((await api("DELETE", `/api/notification-channels/${created.id}`, undefined, theirs)).status).toBe(403);
    }
    expect((await api("GET", `/api/notification-channels/${created.id}`)).body.url).toBe("https://chat.example.com/hooks/x");
    await api("DELETE", `/api/notification-channels/${created.id}`);
  });

  it("refuses what a channel cannot use, saying why", async () => {
    const cases: [object, RegExp][] = [
      [{ name: "x", type: "webhook" }, /needs a url/],
      [{ name: "x", type: "webhook", url: "ftp://example.com/" }, /http:\/\/ or https:\/\//],
      [{ name: "x", type: "webhook", url: "not a url" }, /not a valid URL/],
      [{ name: "x", type: "webhook", url: "https://user:pw@example.com/" }, /user name or password/],
      [{ name: "x", type: "email" }, /at least one address/],
      [{ name: "x", type: "email", recipients: ["not-an-address"] }, /not an email address/],
      [{ name: "x", type: "email", recipients: ["a@example.com\r\nBcc: b@example.com"] }, /not an email address/],
      [{ name: "x", type: "email", recipients: ["a@example.com"], url: "https://example.com" }, /not a url/],
      [{ name: "   ", type: "slack", url: "https://example.com" }, /name/],
      [{ name: "x", type: "pager", url: "https://example.com" }, /type/],
      [{ name: "x", type: "webhook", url: "https://example.com", secret: "short" }, /secret/],
      [{ name: "x", type: "webhook", url: "https://example.com", severities: ["urgent"] }, /severities/],
    ];
    for (const [body, message] of cases) {
      const reply = await api("POST", "/api/notification-channels", body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.message, JSON.stringify(body)).toMatch(message);
    }
  });

  it("answers any channel input with the channel or a 400 that says why, stores only usable URLs and addresses, and leaves other channels alone (fast-check)", async () => {
    const bystander = await createChannel({
      name: "Bystander",
      type: "webhook",
      url: "https://bystander.example.com/hook",
      deviceTags: ["none"],
    });
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: "binary", maxLength: 40 }));
    const url = fc.oneof(
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.webUrl().map((u) => u.replace("https://", "ftp://")),
      fc.webUrl().map((u) => u.replace("://", "://user:pw@")),
      fc.webUrl().map((u) => `${u}\r\nX-Injected: 1`),
      text,
    );
    const address = fc.oneof(
      fc.emailAddress(),
      fc.emailAddress().map((a) => `${a}\r\nBcc: x@example.com`),
      fc.emailAddress().map((a) => `${a},b@example.com`),
      text,
    );
    const body = fc.record(
      {
        name: fc.oneof(text, fc.constant("  "), fc.string({ minLength: 90, maxLength: 120 })),
        type: fc.oneof(fc.constantFrom("webhook", "email", "slack"), text),
        url,
        secret: fc.oneof(fc.string({ minLength: 16, maxLength: 40 }), text),
        recipients: fc.array(address, { maxLength: 4 }),
        enabled: fc.boolean(),
        severities: fc.option(fc.array(fc.constantFrom("info", "warning", "critical", "fatal"), { maxLength: 3 })),
        deviceTags: fc.option(fc.array(text, { maxLength: 3 })),
      },
      { requiredKeys: ["name", "type"] },
    );
    const created: string[] = [];
    await fc.assert(
      fc.asyncProperty(body, async (input) => {
        const reply = await server.fleetwatch.app.inject({
          method: "POST",
          url: "/api/notification-channels",
          headers: { authorization: `Bearer ${token}` },
          payload: input,
        });
        expect([201, 400], reply.body).toContain(reply.statusCode);
        const answer = reply.json<CreatedNotificationChannel & { message: string }>();
        if (reply.statusCode === 400) {
          expect(answer.message).toEqual(expect.any(String));
          return;
        }
        created.push(answer.id);
        if (answer.type === "email") {
          expect(answer.url).toBeNull();
          for (const recipient of answer.recipients) expect(recipient).toMatch(/^[^\s@,;<>]+@[^\s@,;<>]+\.[^\s@,;<>]+$/);
        } else {
          const parsed = new URL(answer.url as string);
          expect(["http:", "https:"]).toContain(parsed.protocol);
          expect(parsed.username + parsed.password).toBe("");
          expect(answer.url).not.toMatch(/[\r\n]/);
        }
        expect(answer.name.trim()).toBe(answer.name);
        expect(answer.name).not.toBe("");
      }),
      { numRuns: 150 },
    );
    for (const id of created) expect((await api("DELETE", `/api/notification-channels/${id}`)).status).toBe(204);
    const after = await api<NotificationChannel>("GET", `/api/notification-channels/${bystander.id}`);
    expect(after.body).toMatchObject({ name: "Bystander", url: "https://bystander.example.com/hook", hasSecret: true, enabled: true });
    await api("DELETE", `/api/notification-channels/${bystander.id}`);
  });

  it("is in the OpenAPI document", async () => {
    const doc = (await call(server.httpUrl, "GET", "/docs/json")).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/api/notification-channels",
        "/api/notification-channels/{id}",
        "/api/notification-channels/{id}/test",
        "/api/notification-channels/{id}/deliveries",
      ]),
    );
  });
});

describe("webhook delivery", () => {
  it("delivers alert.raised, alert.acknowledged (naming the operator) and alert.resolved, signed, with a dashboard link", async () => {
    const hook = await receiver("secret-of-the-ops-team");
    const channel = await createChannel({
      name: "Signed",
      type: "webhook",
      url: hook.url,
      secret: "secret-of-the-ops-team",
      deviceTags: ["signed"],
    });
    await hotRule("signed");
    const client = await device("wh-signed", ["signed", "boiler"]);
    await publish(client, "wh-signed", 80);

    const raised = await hook.next((r) => r.body.event === "alert.raised");
    expect(raised.signatureValid).toBe(true);
    expect(raised.headers["content-type"]).toBe("application/json");
    expect(raised.headers["x-fleetwatch-event"]).toBe("alert.raised");
    expect(raised.body).toMatchObject({
      event: "alert.raised",
      alert: { kind: "threshold", severity: "critical", state: "active", value: 80 },
      device: { id: "wh-signed", name: "Device wh-signed", tags: ["signed", "boiler"] },
    });
    const alertId = raised.body.alert.id as number;
    expect(raised.body.link).toBe(`https://fleet.example.com/alerts?alert=${alertId}`);
    expect(raised.body.alert.raisedAt).toMatch(/Z$/);

    expect((await api("POST", `/api/alerts/${alertId}/ack`, {})).status).toBe(200);
    const acknowledged = await hook.next((r) => r.body.event === "alert.acknowledged");
    expect(acknowledged.signatureValid).toBe(true);
    expect(acknowledged.body.alert).toMatchObject({ id: alertId, state: "acknowledged", acknowledgedBy: testAdmin.email });
    expect(acknowledged.body.text).toContain(`acknowledged by ${testAdmin.email}`);

    await publish(client, "wh-signed", 20);
    const resolved = await hook.next((r) => r.body.event === "alert.resolved");
    expect(resolved.signatureValid).toBe(true);
    expect(resolved.body.alert).toMatchObject({ id: alertId, state: "resolved" });

    // Each once, in order; the log shows each delivery.
    await waitFor(async () => (await deliveries(channel.id)).length === 3, "three logged deliveries");
    expect(hook.received.map((r) => r.body.event)).toEqual(["alert.raised", "alert.acknowledged", "alert.resolved"]);
    const log = await deliveries(channel.id);
    expect(log.map((a) => [a.event, a.outcome, a.responseCode, a.attempt])).toEqual([
      ["alert.resolved", "delivered", 200, 1],
      ["alert.acknowledged", "delivered", 200, 1],
      ["alert.raised", "delivered", 200, 1],
    ]);
  });

  it("a wrong secret fails the receiver's check (the signature covers the exact body)", async () => {
    const hook = await receiver("what-the-receiver-expects");
    const channel = await createChannel({
      name: "Mismatch",
      type: "webhook",
      url: hook.url,
      secret: "something-else-entirely",
      deviceTags: ["none"],
    });
    const result = await api<NotificationTestResult>("POST", `/api/notification-channels/${channel.id}/test`);
    expect(result.body).toMatchObject({ ok: true, responseCode: 200 });
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]?.signatureValid).toBe(false);
  });

  it("the README's five-line signature check accepts a real delivery and refuses a changed body or another secret", async () => {
    const readme = await readFile(new URL("../../../README.md", import.meta.url), "utf8");
    const code = /<!-- signature-check -->\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(code?.trim().split("\n")).toHaveLength(5);
    const dir = await mkdtemp(join(tmpdir(), "fw-readme-"));
    try {
      await writeFile(join(dir, "verify.mjs"), code as string);
      const { verify } = (await import(pathToFileURL(join(dir, "verify.mjs")).href)) as {
        verify: (secret: string, raw: string, header?: string) => boolean;
      };
      const hook = await receiver();
      const channel = await createChannel({
        name: "Readme",
        type: "webhook",
        url: hook.url,
        secret: "readme-secret-0123456",
        deviceTags: ["none"],
      });
      await api("POST", `/api/notification-channels/${channel.id}/test`);
      const [request] = hook.received;
      const header = request?.headers["x-fleetwatch-signature"] as string;
      expect(verify("readme-secret-0123456", request?.raw as string, header)).toBe(true);
      expect(verify("readme-secret-0123456", `${request?.raw} `, header)).toBe(false);
      expect(verify("another-secret-0123456", request?.raw as string, header)).toBe(false);
      expect(verify("readme-secret-0123456", request?.raw as string, undefined)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("retries a receiver that answers 500 three times, and delivers on the fourth try with all four attempts logged", async () => {
    const hook = await receiver("retry-secret-0123456");
    hook.respond((_request, index) => (index < 3 ? 500 : 200));
    const channel = await createChannel({
      name: "Flaky",
      type: "webhook",
      url: hook.url,
      secret: "retry-secret-0123456",
      deviceTags: ["flaky"],
    });
    await hotRule("flaky");
    const client = await device("wh-flaky", ["flaky"]);
    await publish(client, "wh-flaky", 99);

    await waitFor(async () => (await deliveries(channel.id)).some((a) => a.outcome === "delivered"), "the fourth try");
    const log = (await deliveries(channel.id)).reverse();
    expect(log.map((a) => [a.attempt, a.outcome, a.responseCode])).toEqual([
      [1, "retrying", 500],
      [2, "retrying", 500],
      [3, "retrying", 500],
      [4, "delivered", 200],
    ]);
    expect(log.every((a) => a.event === "alert.raised" && a.durationMs >= 0)).toBe(true);
    expect(hook.received).toHaveLength(4);
    // The same delivery each time: one id, one body, one valid signature.
    expect(new Set(hook.received.map((r) => r.raw)).size).toBe(1);
    expect(hook.received.every((r) => r.signatureValid)).toBe(true);
  });

  it("fails at once on a 4xx other than 408 and 429, and retries 408 and 429", async () => {
    const refusing = await receiver();
    refusing.respond(() => 404);
    const busy = await receiver();
    busy.respond((_request, index) => (index === 0 ? 429 : index === 1 ? 408 : 204));
    const gone = await createChannel({ name: "Gone", type: "webhook", url: refusing.url, deviceTags: ["four"] });
    const limited = await createChannel({ name: "Busy", type: "webhook", url: busy.url, deviceTags: ["four"] });
    await hotRule("four");
    const client = await device("wh-four", ["four"]);
    await publish(client, "wh-four", 77);

    await waitFor(async () => (await deliveries(limited.id)).some((a) => a.outcome === "delivered"), "the busy receiver's delivery");
    await waitFor(async () => (await deliveries(gone.id)).length > 0, "the refused delivery");
    expect((await deliveries(gone.id)).map((a) => [a.attempt, a.outcome, a.responseCode])).toEqual([[1, "failed", 404]]);
    expect((await deliveries(limited.id)).reverse().map((a) => [a.attempt, a.outcome, a.responseCode])).toEqual([
      [1, "retrying", 429],
      [2, "retrying", 408],
      [3, "delivered", 204],
    ]);
    const { rows } = await server.fleetwatch.database.pool.query("SELECT status FROM notification_outbox WHERE channel_id = $1", [gone.id]);
    expect(rows).toEqual([{ status: "failed" }]);
    expect(refusing.received).toHaveLength(1);
  });

  it("times out a receiver that never answers, while another channel gets the same event at once", async () => {
    const slow = await receiver();
    // Never answers: each try times out (NOTIFY_TIMEOUT_MS = 1.5 s).
    slow.respond(() => new Promise<number>(() => undefined));
    const fast = await receiver();
    const stalled = await createChannel({ name: "Stalled", type: "webhook", url: slow.url, deviceTags: ["slow"] });
    await createChannel({ name: "Prompt", type: "webhook", url: fast.url, deviceTags: ["slow"] });
    await hotRule("slow");
    const client = await device("wh-slow", ["slow"]);
    await publish(client, "wh-slow", 60);

    await slow.next(() => true);
    // The prompt channel's delivery is not queued behind the stalled one: it arrives while
    // the stalled try is still waiting for its answer (nothing logged for it yet).
    await fast.next((r) => r.body.event === "alert.raised");
    expect(await deliveries(stalled.id)).toEqual([]);
    const firstTry = await waitFor(async () => (await deliveries(stalled.id))[0], "the first timed-out try");
    expect(firstTry).toMatchObject({ attempt: 1, outcome: "retrying", responseCode: null, error: "timed out" });
    expect(firstTry.durationMs).toBeGreaterThanOrEqual(1_400);
  });

  it("marks a delivery failed after NOTIFY_MAX_ATTEMPTS tries (8 by default)", async () => {
    const down = await receiver();
    down.respond(() => 503);
    const channel = await createChannel({ name: "Down", type: "webhook", url: down.url, deviceTags: ["down"] });
    await hotRule("down");
    const client = await device("wh-down", ["down"]);
    await publish(client, "wh-down", 60);
    await waitFor(async () => (await deliveries(channel.id)).some((a) => a.outcome === "failed"), "the last try", 30_000);
    const log = (await deliveries(channel.id)).reverse();
    expect(log.map((a) => a.outcome)).toEqual([...Array<string>(7).fill("retrying"), "failed"]);
    expect(log.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const { rows } = await server.fleetwatch.database.pool.query("SELECT status, attempts FROM notification_outbox WHERE channel_id = $1", [
      channel.id,
    ]);
    expect(rows).toEqual([{ status: "failed", attempts: 8 }]);
  });
});

describe("email delivery", () => {
  it("sends a mail with a plain-text and an HTML part, the same facts and the link, to every recipient", async () => {
    const channel = await createChannel({
      name: "On-call mail",
      type: "email",
      recipients: ["oncall@example.com", "Lead@Example.com", "oncall@EXAMPLE.com"],
      deviceTags: ["mail"],
      eventTypes: ["alert.raised"],
    });
    expect(channel.recipients).toEqual(["oncall@example.com", "Lead@Example.com"]);
    await hotRule("mail", "warning");
    const client = await device("em-1", ["mail"]);
    await publish(client, "em-1", 66);

    const sent = await waitFor(() => mails.find((m) => m.to.includes("oncall@example.com")), "the mail");
    // (nodemailer writes domains in lower case: they are case-insensitive.)
    expect(sent.to).toEqual(["oncall@example.com", "Lead@example.com"]);
    expect(sent.from).toBe("alerts@fleet.example.com");
    expect(sent.mail.subject).toBe("[Fleetwatch] WARNING alert raised: Device em-1 (em-1)");
    expect(sent.mail.text).toContain("Hot mail: temp > 50 (value 66)");
    expect(sent.mail.text).toMatch(/https:\/\/fleet\.example\.com\/alerts\?alert=\d+/);
    expect(sent.mail.html).toContain("Hot mail: temp &gt; 50 (value 66)");
    expect(sent.mail.html).toMatch(/href="https:\/\/fleet\.example\.com\/alerts\?alert=\d+"/);
    const log = await waitFor(async () => (await deliveries(channel.id))[0], "the logged delivery");
    expect(log).toMatchObject({ outcome: "delivered", responseCode: 250 });
    // eventTypes: raised only, so resolving sends nothing more.
    await publish(client, "em-1", 10);
    await waitFor(async () => {
      const { rows } = await server.fleetwatch.database.pool.query(
        "SELECT count(*)::int AS n FROM alerts WHERE device_id = 'em-1' AND state = 'resolved'",
      );
      return rows[0].n === 1;
    }, "the alert resolved");
    const { rows } = await server.fleetwatch.database.pool.query("SELECT event FROM notification_outbox WHERE channel_id = $1", [
      channel.id,
    ]);
    expect(rows).toEqual([{ event: "alert.raised" }]);
  });

  it("retries an SMTP temporary error (451) and fails a permanent one (550) at once; a test send answers with the SMTP reply", async () => {
    const channel = await createChannel({ name: "Mail retry", type: "email", recipients: ["retry@example.com"], deviceTags: ["none"] });
    smtpRefusals.push(451);
    const temporary = await api<NotificationTestResult>("POST", `/api/notification-channels/${channel.id}/test`);
    expect(temporary.body).toMatchObject({ ok: false, responseCode: 451 });
    const ok = await api<NotificationTestResult>("POST", `/api/notification-channels/${channel.id}/test`);
    expect(ok.body).toMatchObject({ ok: true, responseCode: 250 });
    expect(ok.body.response).toMatch(/^250 /);
    expect(mails.some((m) => m.to.includes("retry@example.com") && m.mail.subject === "[Fleetwatch] Test notification")).toBe(true);

    const outage = await createChannel({
      name: "Mail outage",
      type: "email",
      recipients: ["later@example.com"],
      deviceTags: ["smtp-temp"],
    });
    await hotRule("smtp-temp");
    smtpRefusals.push(451);
    const client = await device("em-temp", ["smtp-temp"]);
    await publish(client, "em-temp", 70);
    await waitFor(async () => (await deliveries(outage.id)).some((a) => a.outcome === "delivered"), "the retried mail");
    expect((await deliveries(outage.id)).reverse().map((a) => [a.attempt, a.outcome, a.responseCode])).toEqual([
      [1, "retrying", 451],
      [2, "delivered", 250],
    ]);

    const rejected = await createChannel({
      name: "Mail rejected",
      type: "email",
      recipients: ["nobody@example.com"],
      deviceTags: ["smtp-perm"],
    });
    await hotRule("smtp-perm");
    smtpRefusals.push(550);
    const other = await device("em-perm", ["smtp-perm"]);
    await publish(other, "em-perm", 70);
    await waitFor(async () => (await deliveries(rejected.id)).length > 0, "the rejected mail");
    expect((await deliveries(rejected.id)).map((a) => [a.attempt, a.outcome, a.responseCode])).toEqual([[1, "failed", 550]]);
  });
});

describe("slack-compatible delivery and routing", () => {
  it('posts {"text"} to a Slack-shaped webhook, and routes by severity, kind, tag and event type', async () => {
    const slack = await receiver();
    const critical = await receiver();
    const infoOnly = await receiver();
    const offlineOnly = await receiver();
    await createChannel({ name: "Slack", type: "slack", url: slack.url, deviceTags: ["route"] });
    await createChannel({ name: "Critical", type: "webhook", url: critical.url, deviceTags: ["route"], severities: ["critical"] });
    await createChannel({ name: "Info", type: "webhook", url: infoOnly.url, deviceTags: ["route"], severities: ["info"] });
    await createChannel({ name: "Offline", type: "webhook", url: offlineOnly.url, deviceTags: ["route"], alertKinds: ["offline"] });
    await hotRule("route");
    const client = await device("sl-1", ["route"]);
    await publish(client, "sl-1", 90);

    const message = await slack.next(() => true);
    expect(Object.keys(message.body)).toEqual(["text"]);
    expect(message.body.text).toMatch(/^CRITICAL alert raised on Device sl-1 \(sl-1\): Hot route: temp > 50 \(value 90\)\./);
    expect(message.body.text).toContain("https://fleet.example.com/alerts?alert=");
    await critical.next((r) => r.body.event === "alert.raised");

    // The offline-only channel gets the device's offline alert, and nothing of the threshold one.
    client.stream.destroy();
    const offline = await offlineOnly.next((r) => r.body.event === "alert.raised");
    expect(offline.body.alert.kind).toBe("offline");
    expect(offlineOnly.received.every((r) => r.body.alert.kind === "offline")).toBe(true);
    expect(infoOnly.received).toHaveLength(0);
    expect(critical.received.every((r) => r.body.alert.severity === "critical")).toBe(true);
  });

  it("sends nothing to a disabled channel", async () => {
    const hook = await receiver();
    const channel = await createChannel({ name: "Off", type: "webhook", url: hook.url, deviceTags: ["disabled"], enabled: false });
    await hotRule("disabled");
    const client = await device("dis-1", ["disabled"]);
    await publish(client, "dis-1", 90);
    await waitFor(async () => {
      const { rows } = await server.fleetwatch.database.pool.query("SELECT 1 FROM alerts WHERE device_id = 'dis-1'");
      return rows.length === 1;
    }, "the alert");
    const { rows } = await server.fleetwatch.database.pool.query("SELECT 1 FROM notification_outbox WHERE channel_id = $1", [channel.id]);
    expect(rows).toHaveLength(0);
  });
});

describe("flap damping", () => {
  it("a device that drops and reconnects within the grace period raises no alert and notifies no one", async () => {
    const hook = await receiver();
    const channel = await createChannel({ name: "Flaps", type: "webhook", url: hook.url, deviceTags: ["flap"] });
    const first = await device("flap-1", ["flap"]);
    first.stream.destroy();
    const again = await mqtt.connectAsync(server.mqttUrl, deviceConnectOptions("flap-1"));
    clients.push(again);
    // Proven by a later event: a real drop afterwards is notified, and it is the only one.
    await new Promise((resolve) => setTimeout(resolve, 600));
    again.stream.destroy();
    const raised = await hook.next((r) => r.body.event === "alert.raised");
    expect(raised.body.device.id).toBe("flap-1");
    const { rows } = await server.fleetwatch.database.pool.query("SELECT event FROM notification_outbox WHERE channel_id = $1", [
      channel.id,
    ]);
    expect(rows).toEqual([{ event: "alert.raised" }]);
  });

  it("a channel over its rate limit gets a digest of the rest instead", async () => {
    const hook = await receiver();
    const channel = await createChannel({ name: "Flood", type: "webhook", url: hook.url, deviceTags: ["flood"] });
    await hotRule("flood");
    const flood: MqttClient[] = [];
    for (let i = 0; i < 7; i++) flood.push(await device(`flood-${i}`, ["flood"]));
    for (const [i, client] of flood.entries()) await publish(client, `flood-${i}`, 99);

    const digest = await hook.next((r) => r.body.event === "digest", 20_000);
    // NOTIFY_RATE_LIMIT = 3 per 5 s: 3 alerts, then one digest of the other 4.
    expect(digest.body.digest).toEqual({ suppressed: 4, windowMs: 5000 });
    expect(digest.body.text).toMatch(/^4 more alerts in the last 5 seconds/);
    expect(hook.received.filter((r) => r.body.event === "alert.raised")).toHaveLength(3);
    const log = await deliveries(channel.id);
    expect(log.filter((a) => a.outcome === "suppressed")).toHaveLength(4);
  });

  it("prunes the delivery history past RETENTION_DAYS: finished deliveries and attempts go, a pending one and recent history stay", async () => {
    const channel = await createChannel({
      name: "History",
      type: "webhook",
      url: "http://127.0.0.1:9/hook",
      deviceTags: ["history"],
      enabled: false,
    });
    const pool = server.fleetwatch.database.pool;
    const outbox = async (status: string, ageDays: number, finished: boolean) =>
      (
        await pool.query<{ id: string }>(
          `INSERT INTO notification_outbox (channel_id, event, payload, status, created_at, finished_at, next_attempt_at)
           VALUES ($1, 'alert.raised', '{}', $2, now() - make_interval(days => $3), CASE WHEN $4 THEN now() - make_interval(days => $3) END,
                   now() + interval '1 day')
           RETURNING id`,
          [channel.id, status, ageDays, finished],
        )
      ).rows[0]!.id;
    const attempt = (ageDays: number) =>
      pool.query(
        `INSERT INTO notification_attempts (channel_id, event, attempt, outcome, duration_ms, at)
         VALUES ($1, 'alert.raised', 1, 'delivered', 5, now() - make_interval(days => $2))`,
        [channel.id, ageDays],
      );
    const old = [await outbox("delivered", 31, true), await outbox("failed", 40, true), await outbox("digested", 31, true)];
    const kept = [
      await outbox("delivered", 29, true),
      // Work still ahead, however old: never pruned.
      await outbox("pending", 45, false),
    ];
    for (const age of [31, 31, 60, 1]) await attempt(age);

    // (Not due for a day: the dispatcher leaves the pending row alone meanwhile.) Batches of 2, so the loop over batches is exercised.
    const removed = await new NotificationsRepository(pool).pruneHistory(30, 2);
    expect(removed).toEqual({ outbox: 3, attempts: 3 });
    const left = await pool.query<{ id: string }>("SELECT id FROM notification_outbox WHERE channel_id = $1 ORDER BY id", [channel.id]);
    expect(left.rows.map((row) => row.id)).toEqual(kept);
    expect(old.some((id) => left.rows.some((row) => row.id === id))).toBe(false);
    const attempts = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM notification_attempts WHERE channel_id = $1", [
      channel.id,
    ]);
    expect(attempts.rows[0]?.n).toBe(1);
    expect(await new NotificationsRepository(pool).pruneHistory(30)).toEqual({ outbox: 0, attempts: 0 });
  });
});
