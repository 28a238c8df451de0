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

  it("has ingest and retention defaults, and reads them", () => {
    const defaults = loadConfig({});
    expect(defaults.retentionDays).toBe(30);
    expect(defaults.ingest).toEqual({ batchMax: 500, lingerMs: 5, qos0Buffer: 10_000, commitTimeoutMs: 5_000 });
    const set = loadConfig({ RETENTION_DAYS: "7", INGEST_BATCH_MAX: "100", INGEST_LINGER_MS: "0", INGEST_QOS0_BUFFER: "0", INGEST_COMMIT_TIMEOUT_MS: "250" });
    expect(set.retentionDays).toBe(7);
    expect(set.ingest).toEqual({ batchMax: 100, lingerMs: 0, qos0Buffer: 0, commitTimeoutMs: 250 });
  });

  it("rejects ingest and retention values out of range", () => {
    expect(errorsFor({ RETENTION_DAYS: "0" })).toEqual(['RETENTION_DAYS must be an integer from 1 to 36500 (got "0")']);
    expect(errorsFor({ INGEST_BATCH_MAX: "0" })).toEqual(['INGEST_BATCH_MAX must be an integer from 1 to 10000 (got "0")']);
    expect(errorsFor({ INGEST_LINGER_MS: "-1" })).toEqual(['INGEST_LINGER_MS must be an integer from 0 to 1000 (got "-1")']);
    expect(errorsFor({ INGEST_QOS0_BUFFER: "lots" })).toEqual(['INGEST_QOS0_BUFFER must be an integer from 0 to 10000000 (got "lots")']);
    expect(errorsFor({ INGEST_COMMIT_TIMEOUT_MS: "50" })).toEqual(['INGEST_COMMIT_TIMEOUT_MS must be an integer from 100 to 600000 (got "50")']);
  });

  it("requires the TLS certificate and key together", () => {
    expect(errorsFor({ MQTT_TLS_CERT: "cert.pem" })).toEqual(["MQTT_TLS_KEY must be set too: MQTTS needs both MQTT_TLS_CERT and MQTT_TLS_KEY"]);
  });
});
