// How a live MQTT payload is shown to people: JSON objects and arrays pretty-printed, other
// UTF-8 text as it is, and bytes that are not UTF-8 as the base64 the live channel carries.
import type { LiveMqttMessage } from "@fleetwatch/contracts";

export interface DisplayPayload {
  kind: "json" | "text" | "base64";
  text: string;
}

export function displayPayload({ payload, encoding }: Pick<LiveMqttMessage, "payload" | "encoding">): DisplayPayload {
  if (encoding === "base64") return { kind: "base64", text: payload };
  const trimmed = payload.trimStart();
  // Only documents: a bare number or string reads better as the text it is.
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return { kind: "json", text: JSON.stringify(JSON.parse(payload), null, 2) };
    } catch {
      // not JSON after all: show the text
    }
  }
  return { kind: "text", text: payload };
}
