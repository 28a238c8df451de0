// The MQTT 5 PUBLISH properties that describe an application message (MQTT 5, section
// 3.3.2.3), as the message log stores them and the API and the live channel carry them.
// Transport-only properties (topic alias, subscription identifiers) are not part of the
// message and are left out. An MQTT 3.1.1 message has none of these: `properties` is absent.
import { Type, type Static } from "typebox";

export const UserProperty = Type.Object({ name: Type.String(), value: Type.String() });
export type UserProperty = Static<typeof UserProperty>;

export const MessageProperties = Type.Object(
  {
    payloadFormatIndicator: Type.Optional(
      Type.Boolean({ description: "true: the sender declares the payload UTF-8 text (MQTT 5 Payload Format Indicator 1)" }),
    ),
    contentType: Type.Optional(Type.String({ description: "The sender's MIME type for the payload (Content Type)" })),
    responseTopic: Type.Optional(Type.String({ description: "Where the sender expects an answer (Response Topic)" })),
    correlationData: Type.Optional(
      Type.String({
        description: "Correlation Data, which is binary: base64 of its bytes (standard alphabet, padded)",
        contentEncoding: "base64",
      }),
    ),
    messageExpiryInterval: Type.Optional(
      Type.Integer({
        minimum: 0,
        description: "Seconds the message had left to live when the broker received it (Message Expiry Interval)",
      }),
    ),
    userProperties: Type.Optional(
      Type.Array(UserProperty, {
        description: "User Properties as name/value pairs, in the order received; a name may repeat",
      }),
    ),
  },
  { description: "MQTT 5 PUBLISH properties of the message; absent for MQTT 3.1.1 messages" },
);
export type MessageProperties = Static<typeof MessageProperties>;
