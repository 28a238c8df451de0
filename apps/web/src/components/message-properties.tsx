import type { MessageProperties } from "@fleetwatch/contracts";
import { propertyLines } from "../lib/message-properties.ts";

/** A message's MQTT 5 properties as a definition list; nothing for a message without any. */
export function MessagePropertiesList({ properties }: { properties: MessageProperties | undefined }) {
  const lines = propertyLines(properties);
  if (lines.length === 0) return null;
  return (
    <dl className="message-properties" aria-label="MQTT 5 properties">
      {lines.map((line, index) => (
        <div key={index} className="message-properties__line">
          <dt>{line.label}</dt>
          <dd>
            <code>{line.value}</code>
          </dd>
        </div>
      ))}
    </dl>
  );
}
