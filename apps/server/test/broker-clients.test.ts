// The broker clients view (GET /api/broker/clients, POST .../disconnect) on one node, with
// real MQTT clients (MQTT 3.1.1 and 3.1, TCP and WebSocket) and a real PostgreSQL. The
// two-node behaviour (listing and disconnecting across nodes) is in multi-node.test.ts; a node killed with SIGKILL is here, since it needs no Redis.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import pg from "pg";
import type { MqttClient } from "mqtt";
import type { BrokerClient, BrokerClientList, BrokerClientsQuery } from "@fleetwatch/contracts";
import { spawnServer, startTestServer, type ServerProcess, type TestServer } from "../../../test/support/fleetwatch.ts";
import { findFreePort } from "../../../test/support/network.ts";
import { apiToken, call, registerDevice } from "../../../test/support/api.ts";
import { closed, connectClient } from "../../../test/support/mqtt.ts";
import { waitFor } from "../../../test/support/wait.ts";
import { clientPageQuery } from "../src/modules/broker-clients/broker-clients.repository.ts";

let server: TestServer;
let pool: pg.Pool;
let token: string;
const clients: MqttClient[] = [];

const listClients = (query: Record<string, string | number> = {}, as = token) => {
  const search = new URLSearchParams(Object.entries(query).map(([name, value]): [string, string] => [name, String(value)])).toString();
  return call<BrokerClientList>(server.httpUrl, "GET", `/api/broker/clients?${search}`, { token: as });
};

async function listed(clientId: string, until: (client: BrokerClient) => boolean = () => true): Promise<BrokerClient> {
  return waitFor(async () => {
    const reply = await listClients({ search: clientId });
    const client = reply.body.items.find((item) => item.clientId === clientId);
    return client && until(client) ? client : undefined;
  }, `${clientId} in the clients list`);
}

async function userToken(role: "viewer" | "operator"): Promise<string> {
  const email = `clients-${role}@test.local`;
  const created = await call(server.httpUrl, "POST", "/api/users", { token, body: { email, password: `${role}-password`, role } });
  expect(created.status).toBe(201);
  return apiToken(server.httpUrl, email, `${role}-password`);
}

beforeAll(async () => {
  // Counters and subscriptions are flushed every PRESENCE_FLUSH_MS.
  server = await startTestServer({ PRESENCE_FLUSH_MS: "100" });
  pool = new pg.Pool({ connectionString: server.database.url, max: 2 });
  token = await apiToken(server.httpUrl);
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.endAsync(true)));
  await pool?.end();
  await server?.close();
});

describe("GET /api/broker/clients", () => {
  it("lists a device on MQTT 3.1.1 over TCP with its subscriptions and counters, and an operator on MQTT 3.1 over WebSocket", async () => {
    const { credentials } = await registerDevice(server.httpUrl, token, { name: "Listed", id: "bc-listed" });
    const device = await connectClient(
      server.mqttUrl,
      { clientId: "bc-listed", username: "bc-listed", password: credentials.password, protocolVersion: 4, keepalive: 42, clean: false },
      clients,
    );
    await device.subscribeAsync("devices/bc-listed/commands/#", { qos: 1 });
    await device.publishAsync("devices/bc-listed/telemetry", '{"t":1}', { qos: 1 });
    await device.publishAsync("devices/bc-listed/telemetry", '{"t":2}', { qos: 1 });

    // MQTT 3.1 ("MQIsdp", protocol level 3) over WebSocket, as an operator with an API token.
    const operator = await connectClient(
      server.wsUrl,
      { clientId: "ops-bc-watcher", username: "token", password: token, protocolVersion: 3, protocolId: "MQIsdp", keepalive: 0 },
      clients,
    );
    const received = new Promise<void>((resolve) => operator.once("message", () => resolve()));
    await operator.subscribeAsync("devices/+/telemetry", { qos: 0 });
    await device.publishAsync("devices/bc-listed/telemetry", '{"t":3}', { qos: 1 });
    await received;

    const listedDevice = await listed("bc-listed", (client) => client.messagesIn === 3 && client.subscriptions.length === 1);
    expect(listedDevice).toMatchObject({
      kind: "device",
      deviceId: "bc-listed",
      operatorUserId: null,
      transport: "tcp",
      protocolVersion: 4,
      keepalive: 42,
      cleanSession: false,
      remoteAddress: expect.stringMatching(/127\.0\.0\.1/),
      nodeId: server.fleetwatch.broker.id,
      subscriptions: [{ topic: "devices/bc-listed/commands/#", qos: 1 }],
    });
    const listedOperator = await listed("ops-bc-watcher", (client) => client.messagesOut >= 1);
    expect(listedOperator).toMatchObject({
      kind: "operator",
      deviceId: null,
      transport: "websocket",
      protocolVersion: 3,
      keepalive: 0,
      cleanSession: true,
      subscriptions: [{ topic: "devices/+/telemetry", qos: 0 }],
    });
    expect(listedOperator.operatorUserId).toEqual(expect.any(String));

    // Filters: each one narrows the list to the client it describes.
    const ids = async (query: Record<string, string | number>) =>
      (await listClients(query)).body.items.map((item) => item.clientId).filter((id) => id.startsWith("bc-") || id.startsWith("ops-bc-"));
    expect(await ids({ transport: "websocket" })).toEqual(["ops-bc-watcher"]);
    expect(await ids({ kind: "device" })).toEqual(["bc-listed"]);
    expect(await ids({ protocolVersion: 3 })).toEqual(["ops-bc-watcher"]);
    expect(await ids({ protocolVersion: 4, search: "bc-" })).toEqual(["bc-listed"]);
    expect(await ids({ nodeId: server.fleetwatch.broker.id, kind: "operator" })).toEqual(["ops-bc-watcher"]);
    expect(await ids({ nodeId: "no-such-node" })).toEqual([]);
    expect((await listClients()).body.nodes).toContain(server.fleetwatch.broker.id);

    // Gone from the list once it disconnects.
    await operator.endAsync();
    await waitFor(async () => (await listClients({ search: "ops-bc-watcher" })).body.total === 0, "the operator's row to go");
  });

  it("lets operators list and viewers not (403); only admins disconnect", async () => {
    const viewer = await userToken("viewer");
    const operator = await userToken("operator");
    expect((await listClients({}, viewer)).status).toBe(403);
    expect((await listClients({}, operator)).status).toBe(200);
    const refused = await call(server.httpUrl, "POST", "/api/broker/clients/anything/disconnect", {
      token: operator,
      body: { session: "keep" },
    });
    expect(refused.status).toBe(403);
  });

  it("answers 404 for a client that is not connected, and 400 for a session choice it does not know", async () => {
    const missing = await call(server.httpUrl, "POST", "/api/broker/clients/bc-nobody/disconnect", { token, body: { session: "keep" } });
    expect(missing.status).toBe(404);
    expect(missing.body.message).toContain("bc-nobody");
    const bad = await call(server.httpUrl, "POST", "/api/broker/clients/bc-nobody/disconnect", { token, body: { session: "forget" } });
    expect(bad.status).toBe(400);
  });

  it("disconnects a client over WebSocket on this node: the client sees its connection close, and its row goes", async () => {
    const { credentials } = await registerDevice(server.httpUrl, token, { name: "Kicked", id: "bc-kicked" });
    const device = await connectClient(
      server.wsUrl,
      { clientId: "bc-kicked", username: "bc-kicked", password: credentials.password },
      clients,
    );
    await listed("bc-kicked");
    const gone = closed(device);
    const reply = await call(server.httpUrl, "POST", "/api/broker/clients/bc-kicked/disconnect", { token, body: { session: "clear" } });
    expect(reply.status).toBe(202);
    expect(reply.body).toEqual({ clientId: "bc-kicked", nodeId: server.fleetwatch.broker.id, session: "clear" });
    await gone;
    await waitFor(async () => (await listClients({ search: "bc-kicked" })).body.total === 0, "the disconnected client's row to go");
  });

  it("tells an MQTT 5 client why: DISCONNECT 0x98 Administrative action before the close [MQTT-3.14.2-1]", async () => {
    const { credentials } = await registerDevice(server.httpUrl, token, { name: "Kicked v5", id: "bc-kicked-v5" });
    const device = await connectClient(
      server.mqttUrl,
      { clientId: "bc-kicked-v5", username: "bc-kicked-v5", password: credentials.password, protocolVersion: 5 },
      clients,
    );
    const listedV5 = await listed("bc-kicked-v5");
    expect(listedV5.protocolVersion).toBe(5);
    const told = new Promise<number | undefined>((resolve) => device.once("disconnect", (packet) => resolve(packet.reasonCode)));
    const gone = closed(device);
    const reply = await call(server.httpUrl, "POST", "/api/broker/clients/bc-kicked-v5/disconnect", { token, body: { session: "keep" } });
    expect(reply.status).toBe(202);
    expect(await told).toBe(0x98);
    await gone;
  });
});

describe("the listing at 10,000 clients", () => {
  const nodeId = () => server.fleetwatch.broker.id;
  const BULK = 10_000;

  beforeAll(async () => {
    // Rows of this node (its sweep keeps them: its heartbeat is live), as its registry writes them.
    await pool.query(
      `INSERT INTO broker_clients (client_id, connection_id, node_id, kind, device_id, transport, protocol_version, remote_address,
         keepalive, clean_session, connected_at)
       SELECT 'bulk-' || lpad(i::text, 5, '0'), 'c' || i, $1, CASE WHEN i % 10 = 0 THEN 'operator' ELSE 'device' END,
         CASE WHEN i % 10 = 0 THEN NULL ELSE 'bulk-' || lpad(i::text, 5, '0') END,
         (ARRAY['tcp', 'tls', 'websocket'])[1 + i % 3], CASE WHEN i % 7 = 0 THEN 3 ELSE 4 END, '10.0.0.1', 60, i % 2 = 0, now()
       FROM generate_series(1, $2) AS i`,
      [nodeId(), BULK],
    );
    await pool.query("ANALYZE broker_clients");
  });
  afterAll(async () => {
    await pool.query("DELETE FROM broker_clients WHERE client_id LIKE 'bulk-%'");
  });

  /** The plan's node types, depth first. */
  async function planNodes(query: BrokerClientsQuery, limit = 50, offset = 0): Promise<string[]> {
    const { text, values } = clientPageQuery(query, limit, offset);
    const { rows } = await pool.query<{ "QUERY PLAN": [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${text}`, values);
    const nodes: string[] = [];
    const walk = (node: PlanNode) => {
      nodes.push(`${node["Node Type"]}${node["Index Name"] ? `:${node["Index Name"]}` : ""}`);
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(rows[0]!["QUERY PLAN"][0].Plan);
    return nodes;
  }
  interface PlanNode {
    "Node Type": string;
    "Index Name"?: string;
    Plans?: PlanNode[];
  }

  it("reads a page, a prefix search and a node's clients from an index in client id order, never sorting every row", async () => {
    for (const query of [{}, { search: "bulk-09" }, { nodeId: nodeId() }, { transport: "tls" as const, protocolVersion: 3 as const }]) {
      const plan = await planNodes(query);
      expect(plan, JSON.stringify(query)).not.toContain("Sort");
      expect(plan, JSON.stringify(query)).not.toContain("Seq Scan");
      expect(
        plan.some((node) => node.startsWith("Index Scan:broker_clients_")),
        JSON.stringify(query),
      ).toBe(true);
    }
  });

  it("pages through 10,000 clients with totals, and finds by prefix", async () => {
    const first = await listClients({ search: "bulk-", limit: 200 });
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(BULK);
    expect(first.body.items).toHaveLength(200);
    expect(first.body.items[0]!.clientId).toBe("bulk-00001");
    const last = await listClients({ search: "bulk-", limit: 200, offset: BULK - 10 });
    expect(last.body.items.map((item) => item.clientId)).toEqual(
      Array.from({ length: 10 }, (_, index) => `bulk-${String(BULK - 9 + index).padStart(5, "0")}`),
    );
    const found = await listClients({ search: "bulk-0999" });
    expect(found.body.items.map((item) => item.clientId)).toEqual(Array.from({ length: 10 }, (_, index) => `bulk-0999${index}`));
    expect((await listClients({ search: "bulk-", transport: "tls", kind: "operator" })).body.total).toBe(
      Array.from({ length: BULK }, (_, index) => index + 1).filter((i) => i % 3 === 1 && i % 10 === 0).length,
    );
  });
});

describe("query parameters (fast-check)", () => {
  // Client ids with the characters a LIKE pattern treats specially, taken literally by the search.
  const odd = ["odd-%", "odd-%a", "odd-_", "odd-_b", "odd-\\", "odd-\\c", "odd-x", "odd-é", "odd-a%b_c\\d"];
  const rows = odd.map((clientId, index) => ({
    clientId,
    kind: (["device", "operator", "anonymous"] as const)[index % 3]!,
    transport: (["tcp", "tls", "websocket"] as const)[index % 3]!,
    protocolVersion: ([3, 4, 5] as const)[index % 3]!,
    nodeId: index % 2 === 0 ? "odd-node-a" : "odd-node-b",
  }));

  beforeAll(async () => {
    for (const node of ["odd-node-a", "odd-node-b"])
      await pool.query("INSERT INTO server_nodes (id) VALUES ($1) ON CONFLICT DO NOTHING", [node]);
    await pool.query(
      `INSERT INTO broker_clients (client_id, connection_id, node_id, kind, transport, protocol_version, keepalive, clean_session, connected_at)
       SELECT * , 0, true, now() FROM unnest($1::text[], $1::text[], $2::text[], $3::text[], $4::text[], $5::int2[])`,
      [
        rows.map((r) => r.clientId),
        rows.map((r) => r.nodeId),
        rows.map((r) => r.kind),
        rows.map((r) => r.transport),
        rows.map((r) => r.protocolVersion),
      ],
    );
  });
  afterAll(async () => {
    await pool.query("DELETE FROM broker_clients WHERE client_id LIKE 'odd-%'");
  });

  it("returns exactly the clients a query describes, its search taken literally (%, _ and \\ included)", async () => {
    // Kept fresh: the sweep drops rows of nodes whose heartbeat lapsed.
    const heartbeat = setInterval(() => void pool.query("UPDATE server_nodes SET heartbeat_at = now() WHERE id LIKE 'odd-node-%'"), 100);
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.record(
            {
              search: fc.oneof(
                fc.constantFrom("odd-", "odd-%", "odd-_", "odd-\\", "odd-a%", "odd-é", "odd-x"),
                // (U+0000 is refused before any query: null-characters.ts.)
                fc
                  .string({ minLength: 1, maxLength: 6 })
                  .filter((text) => !text.includes("\u0000"))
                  .map((text) => `odd-${text}`),
              ),
              kind: fc.constantFrom("device", "operator", "anonymous"),
              transport: fc.constantFrom("tcp", "tls", "websocket"),
              protocolVersion: fc.constantFrom(3, 4, 5),
              nodeId: fc.constantFrom("odd-node-a", "odd-node-b"),
            },
            { requiredKeys: ["search"] },
          ),
          async (query) => {
            const reply = await listClients(query);
            expect(reply.status).toBe(200);
            const expected = rows
              .filter(
                (row) =>
                  row.clientId.startsWith(query.search) &&
                  (query.kind === undefined || row.kind === query.kind) &&
                  (query.transport === undefined || row.transport === query.transport) &&
                  (query.protocolVersion === undefined || row.protocolVersion === query.protocolVersion) &&
                  (query.nodeId === undefined || row.nodeId === query.nodeId),
              )
              .map((row) => row.clientId)
              .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
            expect(reply.body.items.map((item) => item.clientId)).toEqual(expected);
            expect(reply.body.total).toBe(expected.length);
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      clearInterval(heartbeat);
    }
  });

  it("refuses malformed query parameters with 400 and a message naming the parameter", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({ limit: fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 201 }), fc.constant("ten")) }),
          fc.record({ offset: fc.oneof(fc.integer({ max: -1 }), fc.constant("x")) }),
          fc.record({ transport: fc.string().filter((text) => !["tcp", "tls", "websocket"].includes(text)) }),
          fc.record({ protocolVersion: fc.integer().filter((version) => ![3, 4, 5].includes(version)) }),
          fc.record({ kind: fc.string().filter((text) => !["device", "operator", "anonymous"].includes(text)) }),
          fc.record({ search: fc.string({ minLength: 201, maxLength: 300 }) }),
          fc.record({ unknownFilter: fc.string() }),
        ),
        async (query) => {
          const reply = await listClients(query);
          expect(reply.status).toBe(400);
          expect((reply.body as unknown as { message: string }).message).toContain(Object.keys(query)[0]);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("a node that dies", () => {
  let child: ServerProcess | undefined;
  afterAll(async () => {
    child?.child.kill("SIGKILL");
    await child?.exited;
  });

  it("leaves no rows behind when killed with SIGKILL: the live node's sweep removes its clients once its heartbeat is stale", async () => {
    const mqttPort = await findFreePort();
    // A second node of this deployment, in its own process, sharing this server's database.
    child = spawnServer({ DATABASE_URL: server.database.url, PORT: "0", MQTT_PORT: String(mqttPort), PRESENCE_FLUSH_MS: "100" });
    await child.waitForOutput(/Fleetwatch is running/);
    const { credentials } = await registerDevice(server.httpUrl, token, { name: "Orphan", id: "bc-orphan" });
    const device = await connectClient(
      `mqtt://127.0.0.1:${mqttPort}`,
      { clientId: "bc-orphan", username: "bc-orphan", password: credentials.password },
      clients,
    );
    const onChild = await listed("bc-orphan");
    expect(onChild.nodeId).not.toBe(server.fleetwatch.broker.id);

    const lost = closed(device);
    child.child.kill("SIGKILL");
    expect(await child.exited).toBe("SIGKILL");
    await lost;
    await waitFor(async () => (await listClients({ nodeId: onChild.nodeId })).body.total === 0, "the dead node's clients to be swept");
  });
});
