// The one source of platform events (presence changes, alerts, rule changes): published on
// the broker under $fleetwatch/events/{kind} (topics.ts), so every server node sees every
// event (mqemitter-redis carries it across nodes), and the live browser channel can
// forward them. Devices never see them: `$` topics are not matched by wildcard filters
// [MQTT-4.7.2-1], and the broker does not let clients publish or subscribe there.
import { PLATFORM_EVENTS_FILTER, PlatformEvent, platformEventTopic } from "@fleetwatch/contracts";
import Value from "typebox/value";
import type { Broker } from "./broker.ts";
import type { Logger } from "../logger.ts";

export type PlatformEventHandler = (event: PlatformEvent) => void;

export interface PlatformEvents {
  /** Publishes an event to every node; never throws (a failed publish is logged). */
  publish(event: PlatformEvent): void;
  /** Calls `handler` for every event from any node, this one included. Returns an unsubscribe. */
  subscribe(handler: PlatformEventHandler): Promise<() => Promise<void>>;
}

export function platformEvents(broker: Broker, logger: Logger): PlatformEvents {
  const log = logger.child({ component: "platform-events" });
  return {
    publish(event) {
      if (broker.closed) return;
      broker.publish(
        {
          cmd: "publish",
          topic: platformEventTopic(event.kind),
          payload: Buffer.from(JSON.stringify(event)),
          qos: 0,
          retain: false,
          dup: false,
        },
        (error) => {
          if (error) log.warn({ err: error, kind: event.kind }, "could not publish a platform event");
        },
      );
    },
    async subscribe(handler) {
      const listener = (packet: { payload: Buffer | string }, done: () => void) => {
        try {
          const event: unknown = JSON.parse(packet.payload.toString());
          if (Value.Check(PlatformEvent, event)) handler(event);
          else log.warn("ignored a malformed platform event");
        } catch (error) {
          log.warn({ err: error }, "a platform event handler failed");
        }
        done();
      };
      await new Promise<void>((resolve) => broker.subscribe(PLATFORM_EVENTS_FILTER, listener, () => resolve()));
      return () => new Promise<void>((resolve) => broker.unsubscribe(PLATFORM_EVENTS_FILTER, listener, () => resolve()));
    },
  };
}
