import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.ts";

function errorsFor(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.lines;
    throw error;
  }
  return [];
}

describe("configuration", () => {
  it("has working defaults: embedded database, standard ports", () => {
    const config = loadConfig({});
    expect(config.http.port).toBe(8080);
    expect(config.mqtt.port).toBe(1883);
    expect(config.mqtt.tls).toBeUndefined();
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toMatch(/data$/);
    expect(config.log.level).toBe("info");
  });

  it("reads and converts every variable", () => {
    const config = loadConfig({
      PORT: "9000", HOST: "127.0.0.1", MQTT_PORT: "0", DATABASE_URL: "postgresql://u@h/db", DATA_DIR: "/tmp/x",
      LOG_LEVEL: "debug", MQTT_TLS_CERT: "cert.pem", MQTT_TLS_KEY: "key.pem", MQTTS_PORT: "9883", LOG_PRETTY: "true",
    });
    expect(config).toMatchObject({ host: "127.0.0.1", http: { port: 9000 }, databaseUrl: "postgresql://u@h/db", dataDir: "/tmp/x", log: { level: "debug", pretty: true } });
    expect(config.mqtt.tls).toMatchObject({ port: 9883 });
    expect(config.mqtt.tls?.certFile).toMatch(/\/cert\.pem$/);
  });

  it("treats an empty variable as unset", () => {
    expect(loadConfig({ PORT: "", DATABASE_URL: " " }).http.port).toBe(8080);
  });

  it("names each bad variable, what it must be, and the value given", () => {
    expect(errorsFor({ PORT: "abc" })).toEqual(['PORT must be a port number from 0 to 65535 (got "abc")']);
    expect(errorsFor({ MQTT_PORT: "70000" })).toEqual(['MQTT_PORT must be a port number from 0 to 65535 (got "70000")']);
    expect(errorsFor({ DATABASE_URL: "mysql://x" })).toEqual(['DATABASE_URL must be a postgresql:// URL (got "mysql://x")']);
    expect(errorsFor({ LOG_LEVEL: "loud" })[0]).toMatch(/^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/);
    expect(errorsFor({ PORT: "1.5", LOG_PRETTY: "maybe" })).toHaveLength(2);
  });

  it("requires the TLS certificate and key together", () => {
    expect(errorsFor({ MQTT_TLS_CERT: "cert.pem" })).toEqual(["MQTT_TLS_KEY must be set too: MQTTS needs both MQTT_TLS_CERT and MQTT_TLS_KEY"]);
  });

  it("bounds session queues and times presence and alerts, with defaults", () => {
    expect(loadConfig({})).toMatchObject({
      sessions: { queueLimit: 1000 },
      presence: { flushMs: 5000, offlineGraceMs: 5000 },
      alerts: { sweepMs: 1000 },
    });
    expect(loadConfig({ SESSION_QUEUE_LIMIT: "10", ALERT_OFFLINE_GRACE_MS: "0", PRESENCE_FLUSH_MS: "250", ALERT_SWEEP_MS: "100" })).toMatchObject({
      sessions: { queueLimit: 10 },
      presence: { flushMs: 250, offlineGraceMs: 0 },
      alerts: { sweepMs: 100 },
    });
    expect(errorsFor({ SESSION_QUEUE_LIMIT: "0" })).toEqual(['SESSION_QUEUE_LIMIT must be an integer of at least 1 (got "0")']);
    expect(errorsFor({ ALERT_OFFLINE_GRACE_MS: "-1" })).toEqual(['ALERT_OFFLINE_GRACE_MS must be an integer of at least 0 (got "-1")']);
    expect(errorsFor({ PRESENCE_FLUSH_MS: "fast" })).toEqual(['PRESENCE_FLUSH_MS must be an integer of at least 100 (got "fast")']);
    expect(errorsFor({ ALERT_SWEEP_MS: "10" })).toEqual(['ALERT_SWEEP_MS must be an integer of at least 50 (got "10")']);
  });
});
