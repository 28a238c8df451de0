// Control messages between the nodes of one deployment, carried by the broker's mqemitter
// (mqemitter-redis carries them across nodes): "close this device's connection wherever it
// is". The API calls disconnectDevice; every node, this one included, acts on it.
import type { Client } from "aedes";
import { controlTopic } from "@fleetwatch/contracts";
import type { Logger } from "../logger.ts";
import type { Broker } from "./broker.ts";

interface MqEmitter {
  on(topic: string, listener: (packet: { topic: string; payload: unknown }, done: () => void) => void, callback?: () => void): void;
  emit(packet: { topic: string; payload: unknown }, callback?: (error?: Error) => void): void;
}

const mqOf = (broker: Broker) => (broker as unknown as { mq: MqEmitter }).mq;
const localClient = (broker: Broker, clientId: string) => (broker as unknown as { clients: Record<string, Client | undefined> }).clients[clientId];

/** Clients whose Last Will must not be published: their device was deleted. */
const forgotten = new WeakSet<Client>();
export const isForgotten = (client: Client): boolean => forgotten.has(client);

function payloadText(payload: unknown): string {
  return Buffer.isBuffer(payload) ? payload.toString("utf8") : String(payload);
}

export async function listenForControl(broker: Broker, logger: Logger): Promise<void> {
  const mq = mqOf(broker);
  const subscribe = (topic: string, forget: boolean) =>
    new Promise<void>((resolve) =>
      mq.on(
        topic,
        (packet, done) => {
          const deviceId = payloadText(packet.payload);
          const client = localClient(broker, deviceId);
          if (!client || client.closed) return done();
          if (forget) forgotten.add(client);
          logger.info({ clientId: deviceId, reason: forget ? "deleted" : "disabled or credentials rotated" }, "closing a device's connection");
          client.close();
          done();
        },
        resolve,
      ),
    );
  await Promise.all([subscribe(controlTopic.disconnect, false), subscribe(controlTopic.forget, true)]);
}

/**
 * Closes the device's live connection on every node. `forget`: also discard its Last Will
 * (for a deleted device, whose topics are being cleared).
 */
export function disconnectDevice(broker: Broker, deviceId: string, { forget = false } = {}): Promise<void> {
  return new Promise((resolve, reject) =>
    mqOf(broker).emit({ topic: forget ? controlTopic.forget : controlTopic.disconnect, payload: deviceId }, (error) => (error ? reject(error) : resolve())),
  );
}
