// The embedded MQTT broker. aedes does the protocol; this module configures it and turns
// its error events into log lines, so that no misbehaving client can take the process down.
import { Aedes, type AedesOptions, type Client, type PublishPacket } from "aedes";
import type { Logger } from "../logger.ts";

export type Broker = Aedes;

/**
 * One step of authorizePublish. Resolving lets the publish through; rejecting refuses it,
 * and aedes then closes the client's connection without acknowledging the message
 * (lib/handlers/publish.js runs authorizePublish before PUBACK/PUBREC and forwarding).
 * `client` is null for the Last Will of a client that was connected to a broker node that died.
 */
export type PublishStep = (client: Client | null, packet: PublishPacket) => Promise<void>;

export interface BrokerHooks {
  /** Run in order for every PUBLISH and Last Will, before any ack or forwarding. */
  publishSteps?: PublishStep[];
  /**
   * A QoS 2 flow's PUBREL arrived. PUBCOMP is sent once this resolves; when it rejects, the
   * connection is closed instead, so the client sends PUBREL again after reconnecting
   * [MQTT-4.3.3-2, MQTT-4.4.0-1].
   */
  onPubrel?: (client: Client, messageId: number) => Promise<void>;
  /** A clean session starts or ends: its inbound QoS 2 state is discarded [MQTT-3.1.2-6]. Must not block. */
  onCleanSession?: (client: Client) => void;
}

export async function createBroker(logger: Logger, options: AedesOptions = {}, hooks: BrokerHooks = {}): Promise<Broker> {
  const log = logger.child({ component: "broker" });
  const steps = hooks.publishSteps ?? [];
  const broker = await Aedes.createBroker({
    ...options,
    authorizePublish: (client, packet, callback) => {
      runSteps(steps, client, packet)
        .then(() => callback(null), (error: Error) => callback(error))
        .catch((error: unknown) => log.error({ err: error }, "authorizePublish callback failed"));
    },
  });
  observeIncomingFlows(broker, hooks, log);

  // A client that sends a malformed packet or drops mid-write surfaces here; aedes closes
  // that client and keeps serving everyone else.
  broker.on("clientError", (client, error) => log.warn({ clientId: client.id, err: error.message }, "client error"));
  broker.on("connectionError", (client, error) => log.warn({ clientId: client.id, err: error.message }, "connection error before CONNECT completed"));
  // 'error' is not in aedes' typings but EventEmitter throws an unhandled 'error' event;
  // listening for it keeps the broker (and the process) alive.
  (broker as unknown as NodeJS.EventEmitter).on("error", (error: Error) => log.error({ err: error }, "broker error"));
  broker.on("client", (client) => log.debug({ clientId: client.id }, "client connected"));
  broker.on("clientDisconnect", (client) => log.debug({ clientId: client.id }, "client disconnected"));
  return broker;
}

async function runSteps(steps: PublishStep[], client: Client | null, packet: PublishPacket): Promise<void> {
  for (const step of steps) await step(client, packet);
}

interface IncomingPersistence {
  incomingGetPacket(client: Client, packet: { cmd?: string; messageId?: number }): Promise<unknown>;
  cleanIncoming?(client: Client): Promise<void>;
}

/**
 * aedes has no PUBREL or session events, but it reaches its persistence at both moments,
 * whatever the persistence is: its PUBREL handler looks the flow up with
 * incomingGetPacket before it deletes it and sends PUBCOMP (lib/handlers/pubrel.js; the QoS 2
 * PUBLISH path calls it too, with the PUBLISH packet), and a clean session's CONNECT and
 * close call cleanIncoming (lib/handlers/connect.js, lib/client.js). Wrapping those two
 * methods observes both.
 */
function observeIncomingFlows(broker: Broker, hooks: BrokerHooks, log: Logger): void {
  const persistence = (broker as unknown as { persistence: IncomingPersistence }).persistence;
  const { onPubrel, onCleanSession } = hooks;
  if (onPubrel) {
    const incomingGetPacket = persistence.incomingGetPacket.bind(persistence);
    persistence.incomingGetPacket = async (client, packet) => {
      if (packet.cmd === "pubrel" && packet.messageId !== undefined) {
        try {
          await onPubrel(client, packet.messageId);
        } catch (error) {
          log.warn({ clientId: client.id, err: (error as Error).message }, "PUBREL not completed; closing the connection so the client repeats it");
          client.close();
        }
      }
      return incomingGetPacket(client, packet);
    };
  }
  if (onCleanSession) {
    const cleanIncoming = persistence.cleanIncoming?.bind(persistence);
    persistence.cleanIncoming = async (client) => {
      onCleanSession(client);
      await cleanIncoming?.(client);
    };
  }
}

export function closeBroker(broker: Broker): Promise<void> {
  return new Promise((resolve) => broker.close(() => resolve()));
}
