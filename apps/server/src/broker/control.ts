// Control messages between the nodes of one deployment, carried by the broker's mqemitter
// (mqemitter-redis carries them across nodes): "close this device's connection wherever it
// is" (disconnectDevice), and "this operator's credentials changed" (announceOperatorChange).
// Every node, this one included, acts on them.
import type { Client } from "aedes";
import { controlTopic } from "@fleetwatch/contracts";
import type { Logger } from "../logger.ts";
import type { Aedes as Broker } from "aedes";
import { principalOf } from "./identity.ts";

interface MqEmitter {
  on(topic: string, listener: (packet: { topic: string; payload: unknown }, done: () => void) => void, callback?: () => void): void;
  emit(packet: { topic: string; payload: unknown }, callback?: (error?: Error) => void): void;
  removeListener(
    topic: string,
    listener: (packet: { topic: string; payload: unknown }, done: () => void) => void,
    callback?: () => void,
  ): void;
}

const mqOf = (broker: Broker) => (broker as unknown as { mq: MqEmitter }).mq;
const localClients = (broker: Broker) => (broker as unknown as { clients: Record<string, Client | undefined> }).clients;
export const localClient = (broker: Broker, clientId: string) => localClients(broker)[clientId];

/**
 * Ends a connection for an administrative reason: an MQTT 5 client is told so with
 * DISCONNECT 0x98 Administrative action (section 3.14.2.1); aedes just closes a 3.1.1 one.
 */
const ADMINISTRATIVE_ACTION = 0x98;
export const disconnectForAdministrativeAction = (client: Client, done?: () => void) =>
  client.disconnect({ reasonCode: ADMINISTRATIVE_ACTION }, done);

/** Clients whose Last Will must not be published: their device was deleted. */
const forgotten = new WeakSet<Client>();
export const isForgotten = (client: Client): boolean => forgotten.has(client);

function payloadText(payload: unknown): string {
  return Buffer.isBuffer(payload) ? payload.toString("utf8") : String(payload);
}

/** Calls `handler` with the payload of every control message on `topic`, from any node; resolves to a stop function. */
export async function onControl(broker: Broker, topic: string, handler: (payload: string) => void): Promise<() => void> {
  const listener = (packet: { payload: unknown }, done: () => void) => {
    handler(payloadText(packet.payload));
    done();
  };
  const mq = mqOf(broker);
  await new Promise<void>((resolve) => mq.on(topic, listener, resolve));
  return () => mq.removeListener(topic, listener);
}

/** Sends a control message to every node, this one included. */
export function emitControl(broker: Broker, topic: string, payload: string): Promise<void> {
  return new Promise((resolve, reject) => mqOf(broker).emit({ topic, payload }, (error) => (error ? reject(error) : resolve())));
}

export async function listenForControl(
  broker: Broker,
  logger: Logger,
  { onDeviceRevoked }: { onDeviceRevoked?: (deviceId: string) => void } = {},
): Promise<void> {
  const closeDevice = (forget: boolean) => (deviceId: string) => {
    // Whether or not the device is connected here: first, so that its closing connection vouches for nothing.
    onDeviceRevoked?.(deviceId);
    const client = localClient(broker, deviceId);
    if (!client || client.closed) return;
    if (forget) forgotten.add(client);
    logger.info({ clientId: deviceId, reason: forget ? "deleted" : "disabled or credentials rotated" }, "closing a device's connection");
    disconnectForAdministrativeAction(client);
  };
  await Promise.all([
    onControl(broker, controlTopic.disconnect, closeDevice(false)),
    onControl(broker, controlTopic.forget, closeDevice(true)),
  ]);
  // An operator's MQTT connections authenticated with an API token that may now be revoked,
  // or with a role that may have changed. The token itself is not kept after CONNECT, so
  // all of that operator's connections close; a client whose token is still valid reconnects
  // and is checked afresh.
  await onOperatorChange(broker, (userId) => {
    for (const client of Object.values(localClients(broker))) {
      const principal = principalOf(client);
      if (!client || client.closed || principal.kind !== "operator" || principal.userId !== userId) continue;
      logger.info({ clientId: client.id, userId }, "closing an operator's MQTT connection: their credentials changed");
      disconnectForAdministrativeAction(client);
    }
  });
}

/** Tells every node that the operator's credentials changed (see controlTopic.operator). */
export function announceOperatorChange(broker: Broker, userId: string): Promise<void> {
  return emitControl(broker, controlTopic.operator, userId);
}

/** Calls `handler` with the user id of every operator change announced on any node; resolves to a stop function. */
export function onOperatorChange(broker: Broker, handler: (userId: string) => void): Promise<() => void> {
  return onControl(broker, controlTopic.operator, handler);
}

/**
 * Closes the device's live connection on every node. `forget`: also discard its Last Will
 * (for a deleted device, whose topics are being cleared).
 */
export function disconnectDevice(broker: Broker, deviceId: string, { forget = false } = {}): Promise<void> {
  return emitControl(broker, forget ? controlTopic.forget : controlTopic.disconnect, deviceId);
}
