import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConfigError, EnvSchema, loadConfig } from "./config.ts";

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
      PORT: "9000",
      HOST: "127.0.0.1",
      MQTT_PORT: "0",
      DATABASE_URL: "postgresql://u@h/db",
      DATA_DIR: "/tmp/x",
      LOG_LEVEL: "debug",
      MQTT_TLS_CERT: "cert.pem",
      MQTT_TLS_KEY: "key.pem",
      MQTTS_PORT: "9883",
      LOG_PRETTY: "true",
    });
    expect(config).toMatchObject({
      host: "127.0.0.1",
      http: { port: 9000 },
      databaseUrl: "postgresql://u@h/db",
      dataDir: "/tmp/x",
      log: { level: "debug", pretty: true },
    });
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
    expect(defaults.ingest).toEqual({ batchMax: 500, lingerMs: 5, qos0Buffer: 10_000, commitTimeoutMs: 5_000, stuckAfterMs: 30_000 });
    const set = loadConfig({
      RETENTION_DAYS: "7",
      INGEST_BATCH_MAX: "100",
      INGEST_LINGER_MS: "0",
      INGEST_QOS0_BUFFER: "0",
      INGEST_COMMIT_TIMEOUT_MS: "250",
      INGEST_STUCK_AFTER_MS: "1000",
    });
    expect(set.retentionDays).toBe(7);
    expect(set.ingest).toEqual({ batchMax: 100, lingerMs: 0, qos0Buffer: 0, commitTimeoutMs: 250, stuckAfterMs: 1000 });
  });

  it("rejects ingest and retention values out of range", () => {
    expect(errorsFor({ RETENTION_DAYS: "0" })).toEqual(['RETENTION_DAYS must be an integer from 1 to 36500 (got "0")']);
    expect(errorsFor({ INGEST_BATCH_MAX: "0" })).toEqual(['INGEST_BATCH_MAX must be an integer from 1 to 10000 (got "0")']);
    expect(errorsFor({ INGEST_LINGER_MS: "-1" })).toEqual(['INGEST_LINGER_MS must be an integer from 0 to 1000 (got "-1")']);
    expect(errorsFor({ INGEST_QOS0_BUFFER: "lots" })).toEqual(['INGEST_QOS0_BUFFER must be an integer from 0 to 10000000 (got "lots")']);
    expect(errorsFor({ INGEST_COMMIT_TIMEOUT_MS: "50" })).toEqual([
      'INGEST_COMMIT_TIMEOUT_MS must be an integer from 100 to 600000 (got "50")',
    ]);
  });

  it("requires the TLS certificate and key together", () => {
    expect(errorsFor({ MQTT_TLS_CERT: "cert.pem" })).toEqual([
      "MQTT_TLS_KEY must be set too: MQTTS needs both MQTT_TLS_CERT and MQTT_TLS_KEY",
    ]);
  });

  it("has safe defaults for access control and limits", () => {
    const config = loadConfig({});
    expect(config.broker).toEqual({
      allowAnonymous: false,
      maxPacketBytes: 262_144,
      connectTimeoutMs: 10_000,
      maxKeepaliveS: 3_600,
      maxTopicLength: 1_024,
      topicAliasMaximum: 10,
      receiveMaximum: 1_000,
      maxTopicLevels: 16,
      maxConnections: 20_000,
      maxSockets: 22_000,
      publishRate: 50,
      publishBurst: 200,
      authFailuresPerMinute: 20,
      credentialCacheMs: 300_000,
      maxConnectBytes: 65_536,
    });
    expect(config).toMatchObject({
      trustProxy: [],
      bodyLimitBytes: 1_048_576,
      auth: {
        admin: {},
        sessionTtlMs: 86_400_000,
        login: { windowMs: 900_000, maxFailuresPerAddress: 30, failuresBeforeDelay: 5, maxDelayMs: 900_000 },
      },
    });
    expect(config.publicHost).toBeUndefined();
  });

  it("reads the access control and limit variables", () => {
    const config = loadConfig({
      PUBLIC_HOST: "fleet.example.com",
      TRUST_PROXY: "10.0.0.0/8, 192.0.2.1,loopback,2001:db8::/32,::1",
      BODY_LIMIT_BYTES: "2048",
      ADMIN_EMAIL: "Root@Example.com",
      ADMIN_PASSWORD: "long-enough",
      SESSION_TTL_HOURS: "2",
      LOGIN_WINDOW_S: "60",
      LOGIN_MAX_FAILURES_PER_IP: "5",
      LOGIN_FAILURES_BEFORE_DELAY: "2",
      LOGIN_MAX_DELAY_S: "30",
      MQTT_ALLOW_ANONYMOUS: "true",
      MQTT_MAX_PACKET_BYTES: "4096",
      MQTT_MAX_CONNECT_BYTES: "100000",
      MQTT_CONNECT_TIMEOUT_MS: "500",
      MQTT_MAX_KEEPALIVE_S: "120",
      MQTT_MAX_TOPIC_LENGTH: "100",
      MQTT_MAX_TOPIC_LEVELS: "10",
      MQTT_MAX_CONNECTIONS: "3",
      MQTT_PUBLISH_RATE: "1",
      MQTT_PUBLISH_BURST: "2",
      MQTT_AUTH_FAILURES_PER_MINUTE: "4",
      MQTT_CREDENTIAL_CACHE_S: "0",
    });
    expect(config).toMatchObject({
      publicHost: "fleet.example.com",
      trustProxy: ["10.0.0.0/8", "192.0.2.1", "loopback", "2001:db8::/32", "::1"],
      bodyLimitBytes: 2048,
      auth: {
        admin: { email: "root@example.com", password: "long-enough" },
        sessionTtlMs: 7_200_000,
        login: { windowMs: 60_000, maxFailuresPerAddress: 5, failuresBeforeDelay: 2, maxDelayMs: 30_000 },
      },
      broker: {
        allowAnonymous: true,
        maxPacketBytes: 4096,
        // Never above the full limit.
        maxConnectBytes: 4096,
        connectTimeoutMs: 500,
        maxKeepaliveS: 120,
        maxTopicLength: 100,
        maxTopicLevels: 10,
        maxConnections: 3,
        maxSockets: 19,
        publishRate: 1,
        publishBurst: 2,
        authFailuresPerMinute: 4,
        credentialCacheMs: 0,
      },
    });
  });

  it("refuses TRUST_PROXY=true, which trusted any client's X-Forwarded-For, saying what to set instead; false trusts no one", () => {
    for (const value of ["true", "1", "yes"])
      expect(errorsFor({ TRUST_PROXY: value })).toEqual([
        `TRUST_PROXY=${value} would trust X-Forwarded-For from any client, who could then pose as any address: list the addresses or CIDR ranges of your reverse proxies instead (e.g. TRUST_PROXY=127.0.0.1, or TRUST_PROXY=10.0.0.0/8,loopback)`,
      ]);
    expect(loadConfig({ TRUST_PROXY: "false" }).trustProxy).toEqual([]);
    expect(errorsFor({ TRUST_PROXY: "10.0.0.0/33,proxy.local,loopback" })).toEqual([
      'TRUST_PROXY must be a comma-separated list of proxy addresses or CIDR ranges (or loopback, linklocal, uniquelocal), or false ("10.0.0.0/33", "proxy.local" is not)',
    ]);
  });

  it("reads METRICS_ENABLED and METRICS_TOKEN, and names bad values", () => {
    expect(loadConfig({}).metrics).toEqual({ enabled: true });
    expect(loadConfig({ METRICS_ENABLED: "false", METRICS_TOKEN: "a-token-of-16-chars" }).metrics).toEqual({
      enabled: false,
      token: "a-token-of-16-chars",
    });
    expect(errorsFor({ METRICS_ENABLED: "maybe" })).toEqual(['METRICS_ENABLED must be "true" or "false" (got "maybe")']);
    expect(errorsFor({ METRICS_TOKEN: "short" })).toEqual([
      'METRICS_TOKEN must be at least 16 printable characters without spaces (got "short")',
    ]);
    expect(errorsFor({ METRICS_TOKEN: "sixteen chars with spaces" })[0]).toMatch(/^METRICS_TOKEN must be/);
  });

  it("refuses the retired sign-in variables, naming what replaced them", () => {
    expect(errorsFor({ LOGIN_MAX_ATTEMPTS_PER_IP: "30", LOGIN_MAX_FAILURES_PER_ACCOUNT: "10" })).toEqual([
      "LOGIN_MAX_ATTEMPTS_PER_IP was replaced by LOGIN_MAX_FAILURES_PER_IP (successful sign-ins no longer count): remove it",
      "LOGIN_MAX_FAILURES_PER_ACCOUNT was replaced by LOGIN_FAILURES_BEFORE_DELAY and LOGIN_MAX_DELAY_S (failures slow down one account-and-address pair; they no longer lock the account for everyone): remove it",
    ]);
  });

  it("names bad access control and limit values", () => {
    expect(errorsFor({ ADMIN_PASSWORD: "short" })).toEqual(['ADMIN_PASSWORD must be at least 8 characters (got "short")']);
    expect(errorsFor({ ADMIN_EMAIL: "root" })).toEqual(['ADMIN_EMAIL must be an email address (got "root")']);
    expect(errorsFor({ MQTT_MAX_TOPIC_LEVELS: "101" })).toEqual(['MQTT_MAX_TOPIC_LEVELS must be at most 100 (got "101")']);
    expect(errorsFor({ MQTT_MAX_PACKET_BYTES: "10" })).toEqual(['MQTT_MAX_PACKET_BYTES must be an integer of at least 64 (got "10")']);
    expect(errorsFor({ PUBLIC_HOST: "http://x/" })).toEqual(['PUBLIC_HOST must be a host name or IP address (got "http://x/")']);
  });

  it("bounds session queues and times presence and alerts, with defaults", () => {
    expect(loadConfig({})).toMatchObject({
      sessions: { queueLimit: 1000, expirySweepMs: 10_000 },
      presence: { flushMs: 5000, offlineGraceMs: 5000 },
      alerts: { sweepMs: 1000 },
    });
    expect(
      loadConfig({ SESSION_QUEUE_LIMIT: "10", ALERT_OFFLINE_GRACE_MS: "0", PRESENCE_FLUSH_MS: "250", ALERT_SWEEP_MS: "100" }),
    ).toMatchObject({
      sessions: { queueLimit: 10 },
      presence: { flushMs: 250, offlineGraceMs: 0 },
      alerts: { sweepMs: 100 },
    });
    expect(errorsFor({ SESSION_QUEUE_LIMIT: "0" })).toEqual(['SESSION_QUEUE_LIMIT must be an integer of at least 1 (got "0")']);
    expect(errorsFor({ ALERT_OFFLINE_GRACE_MS: "-1" })).toEqual(['ALERT_OFFLINE_GRACE_MS must be an integer of at least 0 (got "-1")']);
    expect(errorsFor({ PRESENCE_FLUSH_MS: "fast" })).toEqual(['PRESENCE_FLUSH_MS must be an integer of at least 100 (got "fast")']);
    expect(errorsFor({ ALERT_SWEEP_MS: "10" })).toEqual(['ALERT_SWEEP_MS must be an integer of at least 50 (got "10")']);
  });

  it("bounds the live channel, with origins as a comma-separated list", () => {
    expect(loadConfig({}).live).toEqual({
      maxFramesPerSecond: 50,
      maxSubscriptions: 20,
      queueLimit: 1000,
      maxBufferedBytes: 4_194_304,
      allowedOrigins: [],
    });
    expect(loadConfig({ LIVE_ALLOWED_ORIGINS: "https://a.example,http://b.example:3000" }).live.allowedOrigins).toEqual([
      "https://a.example",
      "http://b.example:3000",
    ]);
    expect(errorsFor({ LIVE_ALLOWED_ORIGINS: "a.example" })).toEqual([
      'LIVE_ALLOWED_ORIGINS must be comma-separated http(s):// origins (got "a.example")',
    ]);
    expect(errorsFor({ LIVE_MAX_FRAMES_PER_SECOND: "0" })).toEqual([
      'LIVE_MAX_FRAMES_PER_SECOND must be an integer of at least 1 (got "0")',
    ]);
  });
});

describe("configuration documentation", () => {
  const read = (file: string) => readFileSync(fileURLToPath(new URL(`../../../${file}`, import.meta.url)), "utf8");

  it("lists every variable in README.md's table and in .env.example", () => {
    const readme = read("README.md");
    const example = read(".env.example");
    for (const name of Object.keys(EnvSchema.properties)) {
      expect(readme, `README.md documents ${name}`).toContain(`| \`${name}\` |`);
      expect(example, `.env.example documents ${name}`).toMatch(new RegExp(`^#? ?${name}=`, "m"));
    }
  });
});
