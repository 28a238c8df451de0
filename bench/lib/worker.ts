// A load-generator worker: owns a slice of the simulated devices, each a lean MQTT 3.1.1
// client on its own TCP socket (mqtt-packet for the wire format, no client library state
// machine), so that one process drives thousands of connections without becoming the
// bottleneck. Counts and latency histograms go back to the coordinator over IPC.
import { connect, type Socket } from "node:net";
import mqttPacket from "mqtt-packet";
import { deviceTopic } from "@fleetwatch/contracts";
import { TelemetryModel, telemetryPayload } from "@fleetwatch/simulator";
import { Histogram } from "./histogram.ts";
import type { ConnectReport, FromWorker, LoadMode, ToWorker, WorkerClient, WorkerReport, WorkerSpec } from "./protocol.ts";

interface Client {
  spec: WorkerClient;
  topic: string;
  socket?: Socket;
  connected: boolean;
  /** messageId → send time (performance.now()) */
  inflight: Map<number, number>;
  nextId: number;
  model: TelemetryModel;
  lastTs: number;
  credit: number;
  lastWriteAt: number;
  /** Per PINGREQ not yet answered, the QoS 0 messages it confirms (0 for a keepalive ping). */
  pings: number[];
}

/**
 * QoS 0 has no acknowledgement, so at full speed a client could write far more than the
 * broker reads: the excess waits in socket buffers, "messages written" counts it as
 * delivered, and a broker that stores what it reads is judged on messages it never saw.
 * Instead each client sends a burst, then a PINGREQ; brokers handle a connection's packets
 * in order, so the PINGRESP says the burst was read, and only then does the next go out.
 */
const QOS0_BURST = 20;

const send = (message: FromWorker) => process.send?.(message);

let spec: WorkerSpec;
let clients: Client[] = [];
let mode: LoadMode = { kind: "idle" };
let running = false;
let stopping = false;
const latency = new Histogram();
const counters = { sent: 0, acked: 0, errors: 0, skipped: 0, disconnects: 0 };
let firstError: string | undefined;

function fail(message: string) {
  counters.errors++;
  firstError ??= message;
}

function report(): WorkerReport {
  return {
    ...counters,
    connected: clients.filter((c) => c.connected).length,
    latency: latency.toJSON(),
    ...(firstError ? { firstError } : {}),
  };
}

function write(client: Client, packet: mqttPacket.Packet): boolean {
  client.lastWriteAt = performance.now();
  return client.socket!.write(mqttPacket.generate(packet));
}

function publish(client: Client): boolean {
  // Strictly increasing timestamps per device: each message is distinct readings.
  client.lastTs = Math.max(Date.now(), client.lastTs + 1);
  const payload = telemetryPayload(client.model.next(client.lastTs), client.lastTs);
  counters.sent++;
  if (spec.qos === 0) return write(client, { cmd: "publish", topic: client.topic, payload, qos: 0, retain: false, dup: false });
  const messageId = client.nextId;
  client.nextId = client.nextId === 65535 ? 1 : client.nextId + 1;
  client.inflight.set(messageId, performance.now());
  return write(client, { cmd: "publish", topic: client.topic, payload, qos: 1, messageId, retain: false, dup: false });
}

function onPingresp(client: Client) {
  const confirmed = client.pings.shift() ?? 0;
  if (confirmed === 0) return;
  counters.acked += confirmed;
  if (running && mode.kind === "max" && client.connected) publishBurst(client);
}

function publishBurst(client: Client) {
  for (let i = 0; i < QOS0_BURST; i++) publish(client);
  client.pings.push(QOS0_BURST);
  write(client, { cmd: "pingreq" });
}

function onPuback(client: Client, messageId: number) {
  const sentAt = client.inflight.get(messageId);
  if (sentAt === undefined) return;
  client.inflight.delete(messageId);
  latency.record(performance.now() - sentAt);
  counters.acked++;
  // Closed loop: the next message goes out when one is acknowledged.
  if (running && mode.kind === "max" && client.connected) publish(client);
}

function connectClient(client: Client, connack: Histogram): Promise<void> {
  return new Promise((resolve) => {
    const started = performance.now();
    let settled = false;
    const settle = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error) {
        fail(`${client.spec.clientId}: ${error}`);
        client.socket?.destroy();
      }
      resolve();
    };
    const timer = setTimeout(() => settle("no CONNACK within 30 s"), 30_000);
    const socket = connect({
      host: spec.host,
      port: spec.port,
      noDelay: true,
      ...(client.spec.localAddress ? { localAddress: client.spec.localAddress } : {}),
    });
    client.socket = socket;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on("packet", (packet) => {
      if (packet.cmd === "puback") onPuback(client, packet.messageId!);
      else if (packet.cmd === "pingresp") onPingresp(client);
      else if (packet.cmd === "connack") {
        if (packet.returnCode === 0) {
          client.connected = true;
          connack.record(performance.now() - started);
          settle();
        } else settle(`CONNACK refused with return code ${packet.returnCode}`);
      }
    });
    parser.on("error", (error: Error) => fail(`${client.spec.clientId}: bad packet from the broker: ${error.message}`));
    socket.on("data", (chunk) => parser.parse(chunk));
    socket.on("connect", () => {
      write(client, {
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 4,
        clean: true,
        clientId: client.spec.clientId,
        keepalive: spec.keepaliveSeconds,
        ...(client.spec.username !== undefined ? { username: client.spec.username } : {}),
        ...(client.spec.password !== undefined ? { password: Buffer.from(client.spec.password) } : {}),
      });
    });
    socket.on("error", (error) => {
      if (!settled) settle(error.message);
      else if (!stopping) firstError ??= `${client.spec.clientId}: ${error.message}`;
    });
    socket.on("close", () => {
      if (client.connected && !stopping) counters.disconnects++;
      client.connected = false;
      client.inflight.clear();
      client.pings.length = 0;
      settle("connection closed before CONNACK");
    });
  });
}

async function connectAll(): Promise<ConnectReport> {
  const connack = new Histogram();
  const queue = [...clients];
  const next = async () => {
    for (let client = queue.shift(); client; client = queue.shift()) await connectClient(client, connack);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(spec.connectConcurrency, queue.length)) }, next));
  // Keepalive: a PINGREQ when a client has been silent for half its keepalive [MQTT-3.1.2-23].
  setInterval(() => {
    const due = performance.now() - (spec.keepaliveSeconds * 1000) / 2;
    for (const client of clients) {
      if (!client.connected || client.lastWriteAt >= due) continue;
      client.pings.push(0);
      write(client, { cmd: "pingreq" });
    }
  }, 1_000).unref();
  const connected = clients.filter((c) => c.connected).length;
  return {
    connected,
    failed: clients.length - connected,
    connack: connack.toJSON(),
    lastConnackAt: Date.now(),
    ...(firstError ? { firstError } : {}),
  };
}

let rateTimer: NodeJS.Timeout | undefined;

function run(next: LoadMode) {
  mode = next;
  running = true;
  if (mode.kind === "max" && spec.qos === 1) {
    for (const client of clients) for (let i = 0; i < mode.inflight && client.connected; i++) publish(client);
  } else if (mode.kind === "max") {
    for (const client of clients) for (let i = 0; i < mode.inflight && client.connected; i++) publishBurst(client);
  } else if (mode.kind === "rate") {
    const perClient = mode.perClientPerSecond;
    let last = performance.now();
    rateTimer = setInterval(() => {
      const now = performance.now();
      const credit = (perClient * (now - last)) / 1000;
      last = now;
      for (const client of clients) {
        if (!client.connected) continue;
        client.credit += credit;
        while (client.credit >= 1) {
          client.credit -= 1;
          // A broker this far behind is not keeping up: skip rather than queue without bound.
          if (client.inflight.size >= 1_000 || client.socket!.writableNeedDrain) counters.skipped++;
          else publish(client);
        }
      }
    }, 10);
  }
}

async function stop(): Promise<WorkerReport> {
  running = false;
  clearInterval(rateTimer);
  // Give outstanding acknowledgements a moment, so that they are not counted as lost.
  const deadline = performance.now() + 5_000;
  while (clients.some((c) => c.connected && c.inflight.size > 0) && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  const final = report();
  stopping = true;
  for (const client of clients) {
    if (client.connected) write(client, { cmd: "disconnect" });
    client.socket?.end();
  }
  return final;
}

process.on("message", (message: ToWorker) => {
  void (async () => {
    switch (message.type) {
      case "init":
        spec = message.spec;
        clients = spec.clients.map((c) => ({
          spec: c,
          topic: deviceTopic.telemetry(c.deviceId),
          connected: false,
          inflight: new Map(),
          nextId: 1,
          model: new TelemetryModel(c.deviceId, spec.seed, Date.now()),
          lastTs: 0,
          credit: 0,
          lastWriteAt: 0,
          pings: [],
        }));
        send({ type: "ok", requestId: message.requestId });
        break;
      case "connect":
        send({ type: "connected", requestId: message.requestId, report: await connectAll() });
        break;
      case "run":
        run(message.mode);
        send({ type: "ok", requestId: message.requestId });
        break;
      case "window":
        for (const key of Object.keys(counters) as (keyof typeof counters)[]) counters[key] = 0;
        latency.reset();
        send({ type: "ok", requestId: message.requestId });
        break;
      case "report":
        send({ type: "report", requestId: message.requestId, report: report() });
        break;
      case "stop":
        send({ type: "report", requestId: message.requestId, report: await stop() });
        setTimeout(() => process.exit(0), 200);
        break;
    }
  })().catch((error: unknown) => send({ type: "fatal", message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
});

// The coordinator gone means the run is over.
process.on("disconnect", () => process.exit(0));
