import { describe, expect, it } from "vitest";
import { propertyLines } from "./message-properties.ts";

describe("propertyLines", () => {
  it("shows nothing for a message without MQTT 5 properties", () => {
    expect(propertyLines(undefined)).toEqual([]);
    expect(propertyLines({})).toEqual([]);
  });

  it("labels each property, correlation data as base64, and keeps repeated user properties in order", () => {
    expect(
      propertyLines({
        contentType: "application/json",
        payloadFormatIndicator: true,
        responseTopic: "devices/d1/replies",
        correlationData: "AAEC",
        messageExpiryInterval: 60,
        userProperties: [
          { name: "site", value: "north" },
          { name: "site", value: "south" },
        ],
      }),
    ).toEqual([
      { label: "Content type", value: "application/json" },
      { label: "Payload format", value: "UTF-8 text" },
      { label: "Response topic", value: "devices/d1/replies" },
      { label: "Correlation data (base64)", value: "AAEC" },
      { label: "Expires after", value: "60 s" },
      { label: "User property site", value: "north" },
      { label: "User property site", value: "south" },
    ]);
    expect(propertyLines({ payloadFormatIndicator: false })).toEqual([{ label: "Payload format", value: "unspecified bytes" }]);
  });
});
