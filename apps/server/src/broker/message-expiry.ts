// MQTT 5 Message Expiry Interval of a retained message. aedes stamps a message's absolute
// expiry (`messageExpiry`, ms) when it routes it, and the persistence keeps that field with a
// queued or retained message; aedes then skips an expired one and forwards the remaining
// interval [MQTT-3.3.2-5, MQTT-3.3.2-6]. A client's retained message is stored before aedes
// routes it (the publish pipeline commits it before the ack), so it is stamped here the same way.
import type { PublishPacket } from "aedes";

export function retainedExpiry(properties: PublishPacket["properties"]): { properties?: object; messageExpiry?: number } {
  if (!properties) return {};
  const seconds = properties.messageExpiryInterval;
  return { properties, ...(seconds !== undefined && seconds > 0 ? { messageExpiry: Date.now() + seconds * 1000 } : {}) };
}
