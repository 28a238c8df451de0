import { describe, expect, it } from "vitest";
import { deviceOfFilter, deviceTopic, isValidDeviceId, isValidTopicFilter, parseDeviceTopic, topicMatches } from "./topics.ts";

describe("device topics", () => {
  it("builds and parses the conventional channels", () => {
    expect(parseDeviceTopic(deviceTopic.telemetry("pump-1"))).toEqual({ deviceId: "pump-1", channel: "telemetry", subtopic: "telemetry" });
    expect(parseDeviceTopic(deviceTopic.status("pump-1"))?.channel).toBe("status");
    expect(parseDeviceTopic(deviceTopic.state("pump-1"))?.channel).toBe("state");
    expect(parseDeviceTopic(deviceTopic.commands("pump-1", "reboot"))).toEqual({
      deviceId: "pump-1",
      channel: "commands",
      subtopic: "commands/reboot",
    });
    expect(parseDeviceTopic("devices/pump-1/telemetry/extra")?.channel).toBe("other");
  });

  it("rejects topics outside a device namespace", () => {
    expect(parseDeviceTopic("devices/pump-1")).toBeNull();
    expect(parseDeviceTopic("devices/pump-1/")).toBeNull();
    expect(parseDeviceTopic("other/pump-1/telemetry")).toBeNull();
    expect(parseDeviceTopic("devices/Bad_Id/telemetry")).toBeNull();
    expect(parseDeviceTopic("devices/pump-1/+")).toBeNull();
  });

  it("accepts only slug device ids", () => {
    expect(isValidDeviceId("sensor-42")).toBe(true);
    for (const bad of ["", "-a", "a-", "A", "a/b", "a+b", "a#", "x".repeat(65)]) expect(isValidDeviceId(bad)).toBe(false);
  });
});

describe("topic filters", () => {
  it("matches + as one level and # as any remainder", () => {
    expect(topicMatches("devices/+/telemetry", "devices/a/telemetry")).toBe(true);
    expect(topicMatches("devices/+/telemetry", "devices/a/b/telemetry")).toBe(false);
    expect(topicMatches("devices/#", "devices")).toBe(true); // [MQTT-4.7.1-2] # includes the parent level
    expect(topicMatches("devices/#", "devices/a/b/c")).toBe(true);
    expect(topicMatches("devices/a", "devices/a/b")).toBe(false);
  });

  it("keeps $-topics out of wildcard-leading filters [MQTT-4.7.2-1]", () => {
    expect(topicMatches("#", "$SYS/broker/uptime")).toBe(false);
    expect(topicMatches("+/broker/uptime", "$SYS/broker/uptime")).toBe(false);
    expect(topicMatches("$SYS/#", "$SYS/broker/uptime")).toBe(true);
  });

  it("validates wildcard placement", () => {
    for (const good of ["#", "+", "a/+/b", "a/#", "+/+"]) expect(isValidTopicFilter(good)).toBe(true);
    for (const bad of ["", "a/#/b", "a#", "a/b+", "#/a"]) expect(isValidTopicFilter(bad)).toBe(false);
  });

  it("refuses U+0000 anywhere in a filter [MQTT-1.5.3-2]", () => {
    for (const bad of ["\u0000", "a/\u0000", "devices/pump-1/\u0000/#"]) expect(isValidTopicFilter(bad)).toBe(false);
    expect(deviceOfFilter("devices/pump-1/x\u0000")).toBeNull();
  });
});

describe("device namespaces for subscriptions", () => {
  it("names the device only when the filter stays inside its namespace", () => {
    expect(deviceOfFilter("devices/pump-1/#")).toBe("pump-1");
    expect(deviceOfFilter("devices/pump-1/commands/+")).toBe("pump-1");
    expect(deviceOfFilter("devices/pump-1/telemetry")).toBe("pump-1");
    for (const outside of [
      "#",
      "+/pump-1/#",
      "devices/#",
      "devices/+/telemetry",
      "devices/pump-1",
      "devices/pump-1/",
      "$SYS/#",
      "devices/Pump/#",
      "devices/pump-1/#/x",
    ]) {
      expect(deviceOfFilter(outside)).toBeNull();
    }
  });
});
