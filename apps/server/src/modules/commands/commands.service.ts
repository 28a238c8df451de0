// Commands to devices, tracked to completion. A command is published by the node that
// received the API call, on devices/{id}/commands/{commandId} at QoS 1; whichever node the
// device is connected to sees its PUBACK (delivered) and its answer on .../response
// (responded), and writes them to PostgreSQL, where every node reads them. The expiry is a
// conditional UPDATE that any node may run: it fires once (commands.repository.ts).
import { randomUUID } from "node:crypto";
import type { Client, PublishPacket } from "aedes";
import {
  COMMAND_TIMEOUT_DEFAULT_S,
  deviceTopic,
  hasNullCharacter,
  parseCommandTopic,
  type Command,
  type CommandAccepted,
  type CommandCreate,
  type CommandList,
  type CommandListQuery,
  type CommandPayload,
} from "@fleetwatch/contracts";
import type { Broker } from "../../broker/broker.ts";
import { principalOf } from "../../broker/identity.ts";
import type { PlatformEvents } from "../../broker/platform-events.ts";
import { conflict, notFound } from "../../http/errors.ts";
import { BackgroundWork } from "../../lib/background-work.ts";
import { payloadAsText } from "../../lib/payload-text.ts";
import type { Logger } from "../../logger.ts";
import type { DevicesRepository } from "../devices/devices.repository.ts";
import type { CommandsRepository, StoredResponse } from "./commands.repository.ts";

export interface CommandSender {
  userId: string;
  email: string;
}

interface SessionPersistence {
  subscriptionsByTopic(topic: string): Promise<{ clientId: string; qos: number }[]>;
}

export class CommandsService {
  readonly #background = new BackgroundWork((error, key) => this.logger.warn({ err: error, commandId: key }, "command tracking failed"));
  #sweeping: Promise<void> = Promise.resolve();

  constructor(
    private readonly repository: CommandsRepository,
    private readonly devices: DevicesRepository,
    private readonly broker: Broker,
    private readonly events: PlatformEvents,
    private readonly logger: Logger,
    private readonly options: { sweepMs: number },
  ) {}

  /** Expires overdue commands every sweepMs on this node (a command sent by a node that died expires too). */
  start(): void {
    this.#background.every(this.options.sweepMs, () => this.expireDue());
  }

  async stop(): Promise<void> {
    this.#background.stop();
    await this.#background.drained();
    await this.#sweeping;
  }

  async send(deviceId: string, input: CommandCreate, sender: CommandSender): Promise<CommandAccepted> {
    const device = await this.devices.find(deviceId);
    if (!device) throw notFound(`No device ${deviceId}`);
    const id = randomUUID();
    const topic = deviceTopic.command(deviceId, id);
    const local = (this.broker as unknown as { clients: Record<string, Client | undefined> }).clients[deviceId];
    // devices.online is written by the node the device is connected to, a moment after its
    // CONNACK; a device connected here is online whatever that write's progress.
    const online = (local !== undefined && !local.closed) || device.online;
    const persistence = (this.broker as unknown as { persistence: SessionPersistence }).persistence;
    // A persistent session's QoS 1 subscription makes the broker queue the message for it
    // while it is offline [MQTT-3.1.2-5], and deliver it when it reconnects.
    const session = (await persistence.subscriptionsByTopic(topic)).some((sub) => sub.clientId === deviceId && sub.qos > 0);
    const error = device.disabled
      ? `${deviceId} is disabled: it cannot connect to receive the command`
      : !online && !session
        ? `${deviceId} is offline and has no persistent session (it last connected with cleanSession=1, or never subscribed to its commands at QoS 1), so the command cannot wait for it`
        : null;
    const command = await this.repository.insert({
      id,
      deviceId,
      name: input.name.trim(),
      params: input.params ?? null,
      status: error ? "failed" : online ? "sent" : "queued",
      timeoutSeconds: input.timeoutSeconds ?? COMMAND_TIMEOUT_DEFAULT_S,
      sentByUserId: sender.userId,
      sentBy: sender.email,
      error,
    });
    this.#announce(command);
    if (error) throw conflict(`${error}. Nothing was sent (command ${id} is recorded as failed).`, "DEVICE_UNREACHABLE");

    const payload: CommandPayload = { name: command.name, params: command.params };
    try {
      await new Promise<void>((resolve, reject) =>
        this.broker.publish(
          {
            cmd: "publish",
            topic,
            payload: Buffer.from(JSON.stringify(payload)),
            qos: 1,
            retain: false,
            dup: false,
            // MQTT 5 request/response (section 4.10): a v5 device may answer by publishing to the
            // Response Topic with the Correlation Data, which is the .../response convention's
            // topic, so both ways end in recordResponse. An MQTT 3.1.1 device gets the same
            // PUBLISH without properties (its protocol has none).
            properties: {
              responseTopic: deviceTopic.commandResponse(deviceId, id),
              correlationData: Buffer.from(id, "utf8"),
              contentType: "application/json",
              payloadFormatIndicator: true,
              // A queued command that outlives its timeout must not reach the device when it
              // reconnects: the command is expired by then. The broker drops a queued message
              // past its expiry for every subscriber, whatever its protocol [MQTT-3.3.2-5].
              messageExpiryInterval: command.timeoutSeconds,
            },
          },
          (publishError) => (publishError ? reject(publishError) : resolve()),
        ),
      );
    } catch (publishError) {
      this.logger.warn({ err: publishError, deviceId, commandId: id }, "could not publish a command");
      const failed = await this.repository.failed(id, "the broker could not publish the command");
      if (failed) this.#announce(failed);
      return { id, status: "failed" };
    }
    this.logger.info({ deviceId, commandId: id, name: command.name, by: sender.email, status: command.status }, "command sent");
    // The sweep would expire it too; this timer makes the expiry prompt on the sending node.
    this.#background.after(command.timeoutSeconds * 1000 + 50, () => this.expireDue());
    return { id, status: command.status };
  }

  async list(deviceId: string, query: CommandListQuery): Promise<CommandList> {
    if (!(await this.devices.exists(deviceId))) throw notFound(`No device ${deviceId}`);
    const limit = query.limit ?? 20;
    const offset = query.offset ?? 0;
    return { ...(await this.repository.list(deviceId, limit, offset)), limit, offset };
  }

  async get(deviceId: string, commandId: string): Promise<Command> {
    const command = await this.repository.find(deviceId, commandId);
    if (!command) throw notFound(`No command ${commandId} for device ${deviceId}`);
    return command;
  }

  /** The device's PUBACK for a command arrived on this node (command-delivery.ts). */
  delivered(deviceId: string, commandId: string): void {
    this.#background.serialize(commandId, async () => {
      const command = await this.repository.delivered(deviceId, commandId);
      if (command) this.#announce(command);
    });
  }

  /**
   * A publish step: a device's answer to one of its commands is stored before the broker
   * acknowledges it, so an answer that could not be stored is sent again by the device
   * (its connection is closed, and QoS 1 redelivers [MQTT-4.4.0-1]).
   */
  async recordResponse(client: Client | null, packet: PublishPacket): Promise<void> {
    const command = parseCommandTopic(packet.topic);
    if (!command?.response || !client) return;
    const principal = principalOf(client);
    if (principal.kind !== "device" || principal.deviceId !== command.deviceId) return;
    const updated = await this.repository.responded(command.deviceId, command.commandId, storedResponse(packet.payload));
    if (updated) this.#announce(updated);
    else
      this.logger.info(
        { deviceId: command.deviceId, commandId: command.commandId },
        "ignored an answer to a command that is not waiting for one",
      );
  }

  expireDue(): Promise<void> {
    this.#sweeping = this.#sweeping.then(async () => {
      try {
        for (const command of await this.repository.expireDue()) this.#announce(command);
      } catch (error) {
        this.logger.warn({ err: error }, "command expiry sweep failed");
      }
    });
    return this.#sweeping;
  }

  #announce(command: Command): void {
    this.events.publish({ kind: "command.updated", command });
  }
}

function storedResponse(payload: Buffer | string): StoredResponse {
  const text = payloadAsText(payload);
  // PostgreSQL's text cannot hold U+0000: such a payload is kept as base64 like any binary one.
  if (text.encoding === "utf8" && hasNullCharacter(text.payload))
    return { payload: Buffer.from(text.payload, "utf8").toString("base64"), encoding: "base64", ok: null };
  let ok: boolean | null = null;
  if (text.encoding === "utf8") {
    try {
      const parsed: unknown = JSON.parse(text.payload);
      if (typeof parsed === "object" && parsed !== null && typeof (parsed as { ok?: unknown }).ok === "boolean")
        ok = (parsed as { ok: boolean }).ok;
    } catch {
      // any payload is an answer; only JSON objects with a boolean ok say whether it worked
    }
  }
  return { ...text, ok };
}
