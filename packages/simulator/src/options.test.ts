import { describe, expect, it } from "vitest";
import { deviceIds, parseDuration, parseOptions } from "./options.ts";

describe("simulator options", () => {
  it("has defaults for a small local fleet", () => {
    expect(parseOptions([])).toMatchObject({
      devices: 10,
      rate: 1,
      qos: 1,
      url: "http://localhost:8080",
      churn: 0,
      transport: "tcp",
      prefix: "sim",
      provider: "auto",
      seed: 1,
    });
    expect(parseOptions([]).duration).toBeUndefined();
  });

  it("reads every option", () => {
    const options = parseOptions([
      "--devices",
      "250",
      "--rate",
      "0.5",
      "--qos",
      "0",
      "--duration",
      "2m",
      "--url",
      "https://fleet.example.com/",
      "--mqtt-url",
      "wss://fleet.example.com/mqtt",
      "--transport",
      "ws",
      "--churn",
      "0.1",
      "--prefix",
      "plant-7",
      "--provider",
      "api",
      "--token",
      "tok",
      "--seed",
      "9",
      "--progress-interval",
      "2",
    ]);
    expect(options).toMatchObject({
      devices: 250,
      rate: 0.5,
      qos: 0,
      duration: 120,
      url: "https://fleet.example.com",
      mqttUrl: "wss://fleet.example.com/mqtt",
      transport: "ws",
      churn: 0.1,
      prefix: "plant-7",
      provider: "api",
      token: "tok",
      seed: 9,
      progressInterval: 2,
    });
  });

  it("takes the operator or token from the environment when not given as options", () => {
    expect(parseOptions([], { FLEETWATCH_TOKEN: "abc" }).token).toBe("abc");
    expect(parseOptions([], { FLEETWATCH_ADMIN_EMAIL: "a@b.c", FLEETWATCH_ADMIN_PASSWORD: "pw" })).toMatchObject({
      adminEmail: "a@b.c",
      adminPassword: "pw",
    });
  });

  it.each([
    [["--devices", "0"], /--devices must be a whole number from 1/],
    [["--devices", "ten"], /--devices must be a whole number.*"ten"/],
    [["--devices", "1.5"], /--devices must be a whole number/],
    [["--rate", "0"], /--rate must be a number above 0/],
    [["--rate=-1"], /--rate must be a number above 0 and at most 10000 \(got "-1"\)/],
    [["--qos", "3"], /--qos must be one of 0, 1, 2 \(got "3"\)/],
    [["--duration", "soon"], /--duration must be a positive time like 30, 30s, 5m or 1h/],
    [["--duration", "0"], /--duration must be a positive time/],
    [["--url", "ftp://x"], /--url must be an http:\/\/ or https:\/\/ URL/],
    [["--url", "not a url"], /--url must be an http/],
    [["--mqtt-url", "http://x"], /--mqtt-url must be an mqtt:\/\/, mqtts:\/\/, ws:\/\/ or wss:\/\/ URL/],
    [["--mqtt-url", "ws://x/mqtt"], /--mqtt-url ws:\/\/x\/mqtt does not match --transport tcp/],
    [["--churn", "2"], /--churn must be a number from 0 to 1/],
    [["--transport", "udp"], /--transport must be one of tcp, ws/],
    [["--prefix", "Bad_Prefix"], /--prefix must be lower-case letters/],
    [["--prefix", "x".repeat(60)], /--prefix must be .* within 64 characters/],
    [["--provider", "magic"], /--provider must be one of auto, api, anonymous/],
    [["--provider", "api"], /--provider api needs an operator/],
    [["--admin-email", "a@b.c"], /--admin-email and --admin-password go together/],
    [["--devcies", "3"], /Unknown option '--devcies'/],
    [["extra"], /Unexpected argument 'extra'/],
  ])("rejects %j with a clear message", (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(message);
  });

  it("parses durations in seconds, minutes and hours", () => {
    expect([parseDuration("45"), parseDuration("45s"), parseDuration("1.5m"), parseDuration("2h")]).toEqual([45, 45, 90, 7200]);
  });

  it("numbers device ids with at least four digits, wider for larger fleets", () => {
    expect(deviceIds("sim", 2)).toEqual(["sim-0001", "sim-0002"]);
    expect(deviceIds("sim", 12_000).at(-1)).toBe("sim-12000");
  });
});
