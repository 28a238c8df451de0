// Which commands a device has acknowledged. A command is delivered when the device's PUBACK
// for it arrives [MQTT-4.3.2-2]; a PUBACK carries only the packet identifier, so this node
// remembers, per connection, which identifier it gave each command it wrote to a device.
// That state is about live sockets of this node only (a PUBACK arrives on the connection that
// received the PUBLISH) and goes with the connection; the command's status is in PostgreSQL.
//
// aedes has no "packet written" event. It numbers a QoS 1 PUBLISH in two places:
// - for a persistent session (live, or from its queue on reconnect), then calls the
//   persistence's outgoingUpdate with the numbered packet (lib/client.js, handlers/connect.js);
// - for a clean session, in QoSPacket's constructor, from client._nextId, on the packet that
//   authorizeForward returned, whose messageId it reads just before (lib/qos-packet.js).
// Both are observed here; the PUBACK reaches the persistence's outgoingClearMessageId
// (handlers/puback.js), which is observed too. aedes also clears a queued message that it
// drops instead of sending (expired [MQTT-3.3.2-5], a Clean Start's discarded queue, a
// refused forward: handlers/connect.js emptyQueueFilter) through that call, with the PUBLISH
// itself as the packet: only a PUBACK means the device has the command.
import type { Aedes, Client, PublishPacket } from "aedes";
import { parseCommandTopic } from "@fleetwatch/contracts";
import { principalOf } from "./identity.ts";

export type CommandDelivered = (deviceId: string, commandId: string) => void;

interface OutgoingPersistence {
  outgoingUpdate(client: object, packet: { cmd?: string; topic?: string; messageId?: number }): Promise<void>;
  outgoingClearMessageId(client: object, packet: { cmd?: string; messageId?: number } | null | undefined): Promise<unknown>;
}

type AuthorizeForward = (client: Client, packet: PublishPacket) => PublishPacket | null | undefined;

export function observeCommandDelivery(broker: Aedes, onDelivered: CommandDelivered): void {
  type Written = Map<number, { deviceId: string; commandId: string }>;
  const written = new WeakMap<object, Written>();

  /** The device's own command (never one merely routed to an operator who subscribed to it). */
  const commandFor = (client: object, topic: string | undefined) => {
    if (topic === undefined) return null;
    const command = parseCommandTopic(topic);
    const principal = principalOf(client as Client);
    if (!command || command.response || principal.kind !== "device" || principal.deviceId !== command.deviceId) return null;
    return command;
  };
  const remember = (client: object, messageId: number, command: { deviceId: string; commandId: string }) => {
    let ids = written.get(client);
    if (!ids) {
      ids = new Map() as Written;
      written.set(client, ids);
    }
    ids.set(messageId, { deviceId: command.deviceId, commandId: command.commandId });
  };

  const persistence = (broker as unknown as { persistence: OutgoingPersistence }).persistence;
  const outgoingUpdate = persistence.outgoingUpdate.bind(persistence);
  persistence.outgoingUpdate = async (client, packet) => {
    const command = packet.cmd === "publish" ? commandFor(client, packet.topic) : null;
    if (command && packet.messageId) remember(client, packet.messageId, command);
    return outgoingUpdate(client, packet);
  };
  const outgoingClearMessageId = persistence.outgoingClearMessageId.bind(persistence);
  persistence.outgoingClearMessageId = async (client, packet) => {
    const result = await outgoingClearMessageId(client, packet);
    const messageId = packet?.messageId;
    const ids = messageId === undefined ? undefined : written.get(client);
    const command = messageId === undefined ? undefined : ids?.get(messageId);
    if (command && messageId !== undefined) {
      ids?.delete(messageId);
      if (packet?.cmd === "puback") onDelivered(command.deviceId, command.commandId);
    }
    return result;
  };

  const target = broker as unknown as { authorizeForward: AuthorizeForward };
  const authorizeForward = target.authorizeForward.bind(broker);
  target.authorizeForward = (client, packet) => {
    const forwarded = authorizeForward(client, packet);
    if (!forwarded || !client.clean || forwarded.qos === 0) return forwarded;
    const command = commandFor(client, forwarded.topic);
    if (!command) return forwarded;
    // A copy whose messageId QoSPacket reads once, right before it takes client._nextId.
    const copy = { ...forwarded } as PublishPacket;
    Object.defineProperty(copy, "messageId", {
      enumerable: true,
      get() {
        remember(client, (client as unknown as { _nextId: number })._nextId, command);
        return undefined;
      },
    });
    return copy;
  };
}
