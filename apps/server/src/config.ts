// All configuration, read from the environment and validated in one place. Nothing else in
// the server reads process.env. A bad value stops the start with one line per variable
// that names it and says what is wrong (see ConfigError and main.ts).
import { isIP } from "node:net";
import { resolve } from "node:path";
import { Type, type Static, type TSchema } from "typebox";
import Value from "typebox/value";

const port = (fallback: number, description: string) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: fallback, description, expected: "a port number from 0 to 65535" });
const integer = (fallback: number, minimum: number, description: string) =>
  Type.Integer({ minimum, default: fallback, description, expected: `an integer of at least ${minimum}` });
const flag = (description: string) => Type.Boolean({ default: false, description, expected: '"true" or "false"' });

/**
 * The environment variables Fleetwatch reads. `expected` phrases the rule for error
 * messages; `description` is the documentation (README.md's table mirrors it).
 */
export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal("development"), Type.Literal("production"), Type.Literal("test")], {
    default: "production",
    description: "development turns on readable logs",
    expected: "development, production or test",
  }),
  HOST: Type.String({
    minLength: 1,
    default: "0.0.0.0",
    description: "Interface the HTTP and MQTT listeners bind to",
    expected: "a host name or IP address",
  }),
  PORT: port(8080, "HTTP port: dashboard, API, /docs and MQTT over WebSocket at /mqtt"),
  MQTT_PORT: port(1883, "MQTT over TCP"),
  MQTTS_PORT: port(8883, "MQTT over TLS, served only when MQTT_TLS_CERT and MQTT_TLS_KEY are set"),
  MQTT_TLS_CERT: Type.Optional(Type.String({ minLength: 1, description: "PEM certificate file for MQTTS", expected: "a file path" })),
  MQTT_TLS_KEY: Type.Optional(Type.String({ minLength: 1, description: "PEM private key file for MQTTS", expected: "a file path" })),
  DATABASE_URL: Type.Optional(
    Type.String({
      pattern: "^postgres(ql)?://",
      description: "PostgreSQL to use; unset runs an embedded PostgreSQL in DATA_DIR",
      expected: "a postgresql:// URL",
    }),
  ),
  REDIS_URL: Type.Optional(
    Type.String({
      pattern: "^rediss?://",
      description:
        "Redis that bridges broker traffic between server nodes sharing one PostgreSQL (mqemitter-redis); unset: this node routes alone",
      expected: "a redis:// or rediss:// URL",
    }),
  ),
  DATA_DIR: Type.String({
    minLength: 1,
    default: "./data",
    description: "Where the embedded PostgreSQL keeps its data",
    expected: "a directory path",
  }),
  LOG_LEVEL: Type.Union(
    ["fatal", "error", "warn", "info", "debug", "trace", "silent"].map((level) => Type.Literal(level)),
    { default: "info", description: "pino log level", expected: "one of fatal, error, warn, info, debug, trace, silent" },
  ),
  LOG_PRETTY: Type.Optional(flag("Readable multi-colour logs instead of JSON lines (default: on when NODE_ENV=development)")),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    default: 10_000,
    description: "Graceful shutdown deadline before a forced exit",
    expected: "an integer of at least 100",
  }),
  RETENTION_DAYS: Type.Integer({
    minimum: 1,
    maximum: 36_500,
    default: 30,
    description: "Days of messages, readings and notification delivery history kept; older day partitions are dropped",
    expected: "an integer from 1 to 36500",
  }),
  INGEST_BATCH_MAX: Type.Integer({
    minimum: 1,
    maximum: 10_000,
    default: 500,
    description:
      "Most messages written in one group-commit transaction (a backlog of buffered QoS 0 messages goes in batches of up to half of INGEST_QOS0_BUFFER)",
    expected: "an integer from 1 to 10000",
  }),
  INGEST_LINGER_MS: Type.Integer({
    minimum: 0,
    maximum: 1_000,
    default: 5,
    description: "How long a batch waits for more messages before it is committed",
    expected: "an integer from 0 to 1000",
  }),
  INGEST_QOS0_BUFFER: Type.Integer({
    minimum: 0,
    maximum: 10_000_000,
    default: 10_000,
    description: "QoS 0 messages held while the database is slow or down; beyond it they are dropped and counted",
    expected: "an integer from 0 to 10000000",
  }),
  INGEST_COMMIT_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 600_000,
    default: 5_000,
    description: "A batch commit that takes longer fails: its QoS 1/2 messages are not acknowledged and their clients retry",
    expected: "an integer from 100 to 600000",
  }),
  INGEST_STUCK_AFTER_MS: Type.Integer({
    minimum: 100,
    maximum: 3_600_000,
    default: 30_000,
    description:
      "/readyz answers 503 (ingest check failing, with the reason) while the oldest message waiting to be stored has waited longer than this",
    expected: "an integer from 100 to 3600000",
  }),

  PUBLIC_HOST: Type.Optional(
    Type.String({
      pattern: "^[A-Za-z0-9.:\\[\\]-]+$",
      description: "Host name devices use to reach this server (in the endpoints returned with new credentials); unset: the request's Host",
      expected: "a host name or IP address",
    }),
  ),
  TRUST_PROXY: Type.Optional(
    Type.String({
      description:
        "Comma-separated addresses or CIDR ranges of your reverse proxies (or loopback, linklocal, uniquelocal): only a request from one of them may set the client address and protocol with X-Forwarded-For/-Proto (per-address limits, Secure cookies, HSTS). Unset or false: trust no one",
      expected: "a comma-separated list of proxy addresses or CIDR ranges (or loopback, linklocal, uniquelocal), or false",
    }),
  ),
  BODY_LIMIT_BYTES: integer(1_048_576, 1_024, "Largest accepted HTTP request body; larger ones get 413"),
  ADMIN_EMAIL: Type.Optional(
    Type.String({
      pattern: "^[^@\\s]+@[^@\\s]+$",
      description: "Email of the first admin, created on the first start when there are no users",
      expected: "an email address",
    }),
  ),
  ADMIN_PASSWORD: Type.Optional(
    Type.String({
      minLength: 8,
      description: "Password of the first admin; unset: a generated one is printed once in the log",
      expected: "at least 8 characters",
    }),
  ),
  SESSION_TTL_HOURS: integer(24, 1, "How long a dashboard sign-in lasts"),
  LOGIN_WINDOW_S: integer(
    900,
    1,
    "Window of the per-address failure limit; an account-and-address pair's failures are forgotten this long after its last one",
  ),
  LOGIN_MAX_FAILURES_PER_IP: integer(
    30,
    1,
    "Failed sign-ins one source address (IPv6: one /64) may make per window, whatever the accounts; then 429 for that address only. Successful sign-ins do not count",
  ),
  LOGIN_FAILURES_BEFORE_DELAY: integer(
    5,
    1,
    "Failed sign-ins of one account from one address before that pair must wait before trying again: 1 s, then doubling with each further failure. Nobody else is slowed down",
  ),
  LOGIN_MAX_DELAY_S: integer(900, 1, "Longest wait imposed on one account-and-address pair after repeated failed sign-ins"),

  MQTT_ALLOW_ANONYMOUS: flag("Let MQTT clients in without credentials, with full access (development and interoperability testing only)"),
  MQTT_MAX_PACKET_BYTES: integer(
    262_144,
    64,
    "Largest MQTT packet accepted (TCP, TLS and WebSocket); a larger one closes the connection before it is buffered",
  ),
  MQTT_MAX_CONNECT_BYTES: integer(
    65_536,
    64,
    "Largest MQTT packet accepted before a connection's CONNECT is accepted (a CONNECT, with its will); bounds the memory of sockets that never finish connecting. MQTT_MAX_PACKET_BYTES applies after (and caps this)",
  ),
  MQTT_CONNECT_TIMEOUT_MS: integer(10_000, 100, "Sockets that send no CONNECT within this time are closed"),
  MQTT_MAX_KEEPALIVE_S: integer(
    3_600,
    1,
    "Largest keepalive a client may ask for; above it CONNACK 0x02 for MQTT 3.1.1 (as Mosquitto's max_keepalive), while an MQTT 5 client is told this value in CONNACK's Server Keep Alive. Keepalive 0 stays allowed",
  ),
  MQTT_MAX_TOPIC_LENGTH: integer(1_024, 16, "Longest topic name or filter, in characters"),
  MQTT_TOPIC_ALIAS_MAXIMUM: Type.Integer({
    minimum: 0,
    maximum: 65_535,
    default: 10,
    description:
      "MQTT 5: how many topic aliases one client may set up towards the broker (Topic Alias Maximum in CONNACK), and the most the broker sets up towards a client (never more than the client's own Topic Alias Maximum). 0 turns them off",
    expected: "an integer from 0 to 65535",
  }),
  MQTT_RECEIVE_MAXIMUM: Type.Integer({
    minimum: 1,
    maximum: 65_535,
    default: 1_000,
    description:
      "Most unacknowledged QoS 1 and 2 messages one client may send the broker at once: MQTT 5's Receive Maximum in CONNACK, and more gets DISCONNECT 0x93. MQTT 3.1.1 clients: only QoS 2 messages awaiting PUBREL are bounded (more closes the connection)",
    expected: "an integer from 1 to 65535",
  }),
  MQTT_MAX_TOPIC_LEVELS: integer(16, 4, "Most levels in a topic name or filter (at most 100)"),
  MQTT_MAX_CONNECTIONS: integer(
    20_000,
    1,
    "Most simultaneous MQTT connections per node, all transports together; a CONNECT beyond it gets CONNACK 0x89 Server busy (MQTT 3.1.1: 0x03 Server unavailable)",
  ),
  MQTT_PUBLISH_RATE: integer(50, 1, "Sustained publishes per second allowed to one device connection (token bucket); faster closes it"),
  MQTT_PUBLISH_BURST: integer(200, 1, "Publish burst one device connection may send above the sustained rate"),
  MQTT_AUTH_FAILURES_PER_MINUTE: integer(
    20,
    1,
    "Failed MQTT CONNECTs per minute from one source address (IPv6: one /64), never counted by client id, before that address's further attempts are refused unchecked (CONNACK 0x03); a device secret this node verified recently still gets in",
  ),
  MQTT_CREDENTIAL_CACHE_S: Type.Integer({
    minimum: 0,
    maximum: 86_400,
    default: 300,
    description:
      "While the database cannot be reached, a device whose secret this node verified (or that stayed connected with it) within this many seconds may still connect; rotating, disabling or deleting it forgets the secret on every node. 0 turns this off",
    expected: "an integer from 0 to 86400",
  }),
  SESSION_QUEUE_LIMIT: Type.Integer({
    minimum: 1,
    default: 1000,
    description:
      "Most QoS 1/2 messages queued per persistent session (cleanSession=0), and held back per MQTT 5 connection while the client's Receive Maximum is reached; when full, the oldest is dropped and counted",
    expected: "an integer of at least 1",
  }),
  ALERT_OFFLINE_GRACE_MS: Type.Integer({
    minimum: 0,
    default: 5000,
    description:
      "How long a device must stay offline before its offline event is recorded and, after an unexpected loss, an offline alert raised; a reconnect within it is a coalesced blip (an MQTT 5 device that left with a delayed will: its Will Delay Interval, if longer)",
    expected: "an integer of at least 0",
  }),
  PRESENCE_FLUSH_MS: Type.Integer({
    minimum: 100,
    default: 5000,
    description: "How often each node writes the last-seen times of its devices (one UPDATE) and its heartbeat",
    expected: "an integer of at least 100",
  }),
  MQTT_SESSION_SWEEP_MS: Type.Integer({
    minimum: 100,
    default: 10_000,
    description:
      "How often each node ends the MQTT 5 sessions whose Session Expiry Interval has passed and publishes the delayed wills that are due (both kept in PostgreSQL, so a restart or another node still ends or publishes them; the node a client left also wakes at its will's due time)",
    expected: "an integer of at least 100",
  }),
  ALERT_SWEEP_MS: Type.Integer({
    minimum: 50,
    default: 1000,
    description: "How often pending offline events and alert rules whose hold duration has passed are checked",
    expected: "an integer of at least 50",
  }),

  // Notifications (modules/notifications).
  PUBLIC_URL: Type.Optional(
    Type.String({
      pattern: "^https?://[^\\s]+$",
      description:
        "The dashboard's address, for the links in notifications; unset: http://localhost:PORT (PUBLIC_HOST in place of localhost when set)",
      expected: "an http:// or https:// URL",
    }),
  ),
  SMTP_URL: Type.Optional(
    Type.String({
      pattern: "^smtps?://[^\\s]+$",
      description: "SMTP server for email channels, e.g. smtps://user:password@mail.example.com:465 (nodemailer's connection URL)",
      expected: "an smtp:// or smtps:// URL",
    }),
  ),
  SMTP_FROM: Type.Optional(
    Type.String({
      pattern: "^[^\\r\\n]+$",
      description: "Sender of notification mail: an address, or a display name and an address in angle brackets",
      expected: "an email address, optionally with a display name",
    }),
  ),
  NOTIFY_TIMEOUT_MS: Type.Integer({
    minimum: 100,
    maximum: 120_000,
    default: 10_000,
    description: "Longest a notification delivery (HTTP request and answer, or SMTP session step) may take before it counts as failed",
    expected: "an integer from 100 to 120000",
  }),
  NOTIFY_MAX_ATTEMPTS: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 8,
    description: "Tries of one notification (retrying 5xx, 408, 429, timeouts, refused connections, SMTP 4xx) before it is marked failed",
    expected: "an integer from 1 to 100",
  }),
  NOTIFY_RETRY_BASE_MS: Type.Integer({
    minimum: 10,
    maximum: 3_600_000,
    default: 2_000,
    description: "Delay before the first retry; doubled for each further one (with jitter), up to NOTIFY_RETRY_MAX_MS",
    expected: "an integer from 10 to 3600000",
  }),
  NOTIFY_RETRY_MAX_MS: Type.Integer({
    minimum: 10,
    maximum: 86_400_000,
    default: 600_000,
    description: "Longest delay between two tries of one notification",
    expected: "an integer from 10 to 86400000",
  }),
  NOTIFY_POLL_MS: Type.Integer({
    minimum: 50,
    maximum: 60_000,
    default: 1_000,
    description:
      "How often each node looks for notifications due (retries, a dead node's deliveries, digests); new alerts are sent at once",
    expected: "an integer from 50 to 60000",
  }),
  NOTIFY_CONCURRENCY: Type.Integer({
    minimum: 1,
    maximum: 1_000,
    default: 16,
    description: "Most notification deliveries one node runs at once (one per channel)",
    expected: "an integer from 1 to 1000",
  }),
  NOTIFY_RATE_LIMIT: Type.Integer({
    minimum: 1,
    maximum: 100_000,
    default: 20,
    description: "Most notifications one channel receives per NOTIFY_RATE_WINDOW_S; the rest are summed up in one digest",
    expected: "an integer from 1 to 100000",
  }),
  NOTIFY_RATE_WINDOW_S: Type.Integer({
    minimum: 1,
    maximum: 86_400,
    default: 300,
    description: "The rate limit's window, in seconds",
    expected: "an integer from 1 to 86400",
  }),

  LIVE_MAX_FRAMES_PER_SECOND: integer(50, 1, "Most frames per second the dashboard's live channel sends one browser; bursts are batched"),
  LIVE_MAX_SUBSCRIPTIONS: integer(20, 1, "Most topic subscriptions on one live channel connection"),
  LIVE_QUEUE_LIMIT: integer(
    1000,
    1,
    "Messages kept per live subscription between frames; older ones are dropped and the browser told how many",
  ),
  LIVE_MAX_BUFFERED_BYTES: integer(
    4_194_304,
    65_536,
    "A browser whose unsent live data exceeds this is dropped, its connection reset (it stopped reading)",
  ),
  METRICS_ENABLED: Type.Boolean({
    default: true,
    description: "Serve Prometheus metrics at GET /metrics",
    expected: '"true" or "false"',
  }),
  METRICS_TOKEN: Type.Optional(
    Type.String({
      pattern: "^[\\x21-\\x7e]{16,}$",
      description:
        "Bearer token Prometheus must send to GET /metrics; unset, only requests from this machine (loopback) may read it without one",
      expected: "at least 16 printable characters without spaces",
    }),
  ),

  LIVE_ALLOWED_ORIGINS: Type.Optional(
    Type.String({
      pattern: "^https?://[^,\\s]+(,https?://[^,\\s]+)*$",
      description: "Comma-separated origins besides the server's own that may open the live channel",
      expected: "comma-separated http(s):// origins",
    }),
  ),
});

type Env = Static<typeof EnvSchema>;

export interface Config {
  env: Env["NODE_ENV"];
  host: string;
  http: { port: number };
  mqtt: { port: number; tls?: { port: number; certFile: string; keyFile: string } };
  /** Unset: start the embedded PostgreSQL under dataDir. */
  databaseUrl?: string;
  /** Set: broker messages, control messages and platform events travel between nodes through Redis. */
  redisUrl?: string;
  dataDir: string;
  log: { level: Env["LOG_LEVEL"]; pretty: boolean };
  shutdownTimeoutMs: number;
  /** Persistent MQTT sessions. */
  sessions: { queueLimit: number; expirySweepMs: number };
  presence: { flushMs: number; offlineGraceMs: number };
  alerts: { sweepMs: number };
  notifications: {
    /** Where links in notifications point. */
    dashboardUrl: string;
    smtp: { url: string; from: string } | null;
    timeoutMs: number;
    maxAttempts: number;
    retryBaseMs: number;
    retryMaxMs: number;
    pollMs: number;
    concurrency: number;
    rateLimit: number;
    rateWindowMs: number;
  };
  live: { maxFramesPerSecond: number; maxSubscriptions: number; queueLimit: number; maxBufferedBytes: number; allowedOrigins: string[] };
  retentionDays: number;
  ingest: { batchMax: number; lingerMs: number; qos0Buffer: number; commitTimeoutMs: number; stuckAfterMs: number };
  /** Host name put into the endpoints handed to devices; unset: the request's Host. */
  publicHost?: string;
  /** Proxies (addresses, CIDR ranges, proxy-addr's names) allowed to set X-Forwarded-*; empty: none. */
  trustProxy: string[];
  bodyLimitBytes: number;
  auth: {
    admin: { email?: string; password?: string };
    sessionTtlMs: number;
    login: { windowMs: number; maxFailuresPerAddress: number; failuresBeforeDelay: number; maxDelayMs: number };
  };
  broker: BrokerLimits & { allowAnonymous: boolean };
  /** GET /metrics: off, or on with an optional Bearer token (unset: loopback only). */
  metrics: { enabled: boolean; token?: string };
}

export interface BrokerLimits {
  maxPacketBytes: number;
  /** Until the CONNECT is accepted; at most maxPacketBytes. */
  maxConnectBytes: number;
  connectTimeoutMs: number;
  maxKeepaliveS: number;
  maxTopicLength: number;
  /** MQTT 5: the most topic aliases a client may set up towards the broker, and the broker towards a client. */
  topicAliasMaximum: number;
  /** Unacknowledged QoS 1/2 PUBLISHes a client may send at once (MQTT 5 Receive Maximum; 3.1.1: QoS 2 only). */
  receiveMaximum: number;
  maxTopicLevels: number;
  maxConnections: number;
  /**
   * Sockets this node holds at most, all transports together: maxConnections and a headroom of
   * sockets held only to read their CONNECT and answer it 0x89 (each bounded by the connect
   * timeout and maxConnectBytes). Past it a socket is closed unanswered.
   */
  maxSockets: number;
  publishRate: number;
  publishBurst: number;
  authFailuresPerMinute: number;
  /** How long a verified device secret still admits the device while the database cannot be read (0: never). */
  credentialCacheMs: number;
}

/**
 * Sockets held beyond MQTT_MAX_CONNECTIONS only to answer their CONNECT with 0x89 (Server
 * busy): a tenth of the limit, at least 16. A client told "busy" backs off; a socket simply
 * dropped looks like a network fault, retried at once by many device stacks.
 */
export function busyHeadroom(maxConnections: number): number {
  return Math.max(16, Math.ceil(maxConnections / 10));
}

/** Thrown for invalid configuration; each line names one variable and the problem. */
export class ConfigError extends Error {
  constructor(readonly lines: string[]) {
    super(lines.join("\n"));
    this.name = "ConfigError";
  }
}

const booleanWords: Record<string, boolean> = { true: true, false: false, "1": true, "0": false, yes: true, no: false };

/**
 * Strict conversion of the raw string: "1.5" or "8080abc" must fail as a port rather than be
 * rounded or truncated into a different, valid-looking one. Anything that does not convert
 * stays a string, so validation reports it with the value as given.
 */
function parseRaw(schema: TSchema & { type?: string }, value: string): unknown {
  if (schema.type === "integer") return /^\d+$/.test(value) ? Number(value) : value;
  if (schema.type === "boolean") return booleanWords[value.toLowerCase()] ?? value;
  return value;
}

/** proxy-addr's named ranges, which Fastify's trustProxy accepts beside addresses and CIDR ranges. */
const PROXY_RANGE_NAMES = new Set(["loopback", "linklocal", "uniquelocal"]);

/**
 * TRUST_PROXY as Fastify's trustProxy list. "true" is refused rather than mapped to something
 * narrower: it used to trust every client's X-Forwarded-For, so anyone could pose as any
 * address and escape the per-address sign-in and CONNECT limits; any narrower meaning (say,
 * loopback) would instead silently see every client of a proxy elsewhere as that proxy, and
 * put them all under one address's limits. Only the operator knows where the proxies are.
 */
function parseTrustedProxies(value: string | undefined): { proxies: string[]; error?: string } {
  const text = value?.trim() ?? "";
  if (text === "" || booleanWords[text.toLowerCase()] === false) return { proxies: [] };
  if (booleanWords[text.toLowerCase()] === true)
    return {
      proxies: [],
      error: `TRUST_PROXY=${text} would trust X-Forwarded-For from any client, who could then pose as any address: list the addresses or CIDR ranges of your reverse proxies instead (e.g. TRUST_PROXY=127.0.0.1, or TRUST_PROXY=10.0.0.0/8,loopback)`,
    };
  const proxies = text.split(",").map((entry) => entry.trim());
  const invalid = proxies.filter((entry) => !PROXY_RANGE_NAMES.has(entry) && !isAddressOrRange(entry));
  if (invalid.length > 0)
    return {
      proxies: [],
      error: `TRUST_PROXY must be a comma-separated list of proxy addresses or CIDR ranges (or loopback, linklocal, uniquelocal), or false (${invalid.map((entry) => JSON.stringify(entry)).join(", ")} is not)`,
    };
  return { proxies };
}

function isAddressOrRange(entry: string): boolean {
  const [address = "", prefix, ...rest] = entry.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/**
 * Variables that no longer exist, with what replaced them: setting one is an error rather than
 * silently ignored, since the setting it meant would no longer apply.
 */
const RETIRED: Record<string, string> = {
  LOGIN_MAX_ATTEMPTS_PER_IP: "was replaced by LOGIN_MAX_FAILURES_PER_IP (successful sign-ins no longer count)",
  LOGIN_MAX_FAILURES_PER_ACCOUNT:
    "was replaced by LOGIN_FAILURES_BEFORE_DELAY and LOGIN_MAX_DELAY_S (failures slow down one account-and-address pair; they no longer lock the account for everyone)",
};

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const names = Object.keys(EnvSchema.properties) as (keyof Env)[];
  const raw: Record<string, unknown> = {};
  for (const name of names) {
    const value = source[name];
    // An empty variable counts as unset, as shells and .env files commonly write it.
    if (value === undefined || value.trim() === "") continue;
    raw[name] = parseRaw(EnvSchema.properties[name], value.trim());
  }
  const env = Value.Default(EnvSchema, { ...raw }) as Env;

  const invalid = new Set<string>();
  for (const error of Value.Errors(EnvSchema, env)) {
    const name = error.instancePath.split("/")[1];
    if (name) invalid.add(name);
  }
  const lines = [...invalid].map((name) => {
    const schema = EnvSchema.properties[name as keyof Env] as TSchema & { expected?: string };
    return `${name} must be ${schema.expected ?? "valid"} (got ${JSON.stringify(source[name])})`;
  });
  if (Boolean(env.MQTT_TLS_CERT) !== Boolean(env.MQTT_TLS_KEY)) {
    lines.push(`${env.MQTT_TLS_CERT ? "MQTT_TLS_KEY" : "MQTT_TLS_CERT"} must be set too: MQTTS needs both MQTT_TLS_CERT and MQTT_TLS_KEY`);
  }
  const trusted = parseTrustedProxies(env.TRUST_PROXY);
  if (trusted.error) lines.push(trusted.error);
  for (const [name, replacement] of Object.entries(RETIRED)) {
    if (source[name] !== undefined && source[name].trim() !== "") lines.push(`${name} ${replacement}: remove it`);
  }
  if (env.MQTT_MAX_TOPIC_LEVELS > 100)
    lines.push(`MQTT_MAX_TOPIC_LEVELS must be at most 100 (got ${JSON.stringify(source.MQTT_MAX_TOPIC_LEVELS)})`);
  if (Boolean(env.SMTP_URL) !== Boolean(env.SMTP_FROM)) {
    lines.push(`${env.SMTP_URL ? "SMTP_FROM" : "SMTP_URL"} must be set too: email channels need both SMTP_URL and SMTP_FROM`);
  }
  if (lines.length > 0) throw new ConfigError(lines);

  return {
    env: env.NODE_ENV,
    host: env.HOST,
    http: { port: env.PORT },
    mqtt: {
      port: env.MQTT_PORT,
      ...(env.MQTT_TLS_CERT && env.MQTT_TLS_KEY
        ? { tls: { port: env.MQTTS_PORT, certFile: resolve(env.MQTT_TLS_CERT), keyFile: resolve(env.MQTT_TLS_KEY) } }
        : {}),
    },
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    ...(env.REDIS_URL ? { redisUrl: env.REDIS_URL } : {}),
    dataDir: resolve(env.DATA_DIR),
    log: { level: env.LOG_LEVEL, pretty: env.LOG_PRETTY ?? env.NODE_ENV === "development" },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    retentionDays: env.RETENTION_DAYS,
    ingest: {
      batchMax: env.INGEST_BATCH_MAX,
      lingerMs: env.INGEST_LINGER_MS,
      qos0Buffer: env.INGEST_QOS0_BUFFER,
      commitTimeoutMs: env.INGEST_COMMIT_TIMEOUT_MS,
      stuckAfterMs: env.INGEST_STUCK_AFTER_MS,
    },
    ...(env.PUBLIC_HOST ? { publicHost: env.PUBLIC_HOST } : {}),
    trustProxy: parseTrustedProxies(env.TRUST_PROXY).proxies,
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    auth: {
      admin: {
        ...(env.ADMIN_EMAIL ? { email: env.ADMIN_EMAIL.toLowerCase() } : {}),
        ...(env.ADMIN_PASSWORD ? { password: env.ADMIN_PASSWORD } : {}),
      },
      sessionTtlMs: env.SESSION_TTL_HOURS * 3_600_000,
      login: {
        windowMs: env.LOGIN_WINDOW_S * 1000,
        maxFailuresPerAddress: env.LOGIN_MAX_FAILURES_PER_IP,
        failuresBeforeDelay: env.LOGIN_FAILURES_BEFORE_DELAY,
        maxDelayMs: env.LOGIN_MAX_DELAY_S * 1000,
      },
    },
    broker: {
      allowAnonymous: env.MQTT_ALLOW_ANONYMOUS,
      maxPacketBytes: env.MQTT_MAX_PACKET_BYTES,
      maxConnectBytes: Math.min(env.MQTT_MAX_CONNECT_BYTES, env.MQTT_MAX_PACKET_BYTES),
      connectTimeoutMs: env.MQTT_CONNECT_TIMEOUT_MS,
      maxKeepaliveS: env.MQTT_MAX_KEEPALIVE_S,
      maxTopicLength: env.MQTT_MAX_TOPIC_LENGTH,
      topicAliasMaximum: env.MQTT_TOPIC_ALIAS_MAXIMUM,
      receiveMaximum: env.MQTT_RECEIVE_MAXIMUM,
      maxTopicLevels: env.MQTT_MAX_TOPIC_LEVELS,
      maxConnections: env.MQTT_MAX_CONNECTIONS,
      maxSockets: env.MQTT_MAX_CONNECTIONS + busyHeadroom(env.MQTT_MAX_CONNECTIONS),
      publishRate: env.MQTT_PUBLISH_RATE,
      publishBurst: env.MQTT_PUBLISH_BURST,
      authFailuresPerMinute: env.MQTT_AUTH_FAILURES_PER_MINUTE,
      credentialCacheMs: env.MQTT_CREDENTIAL_CACHE_S * 1000,
    },
    sessions: { queueLimit: env.SESSION_QUEUE_LIMIT, expirySweepMs: env.MQTT_SESSION_SWEEP_MS },
    presence: { flushMs: env.PRESENCE_FLUSH_MS, offlineGraceMs: env.ALERT_OFFLINE_GRACE_MS },
    alerts: { sweepMs: env.ALERT_SWEEP_MS },
    notifications: {
      dashboardUrl: env.PUBLIC_URL ?? `http://${env.PUBLIC_HOST ?? "localhost"}:${env.PORT}`,
      smtp: env.SMTP_URL && env.SMTP_FROM ? { url: env.SMTP_URL, from: env.SMTP_FROM } : null,
      timeoutMs: env.NOTIFY_TIMEOUT_MS,
      maxAttempts: env.NOTIFY_MAX_ATTEMPTS,
      retryBaseMs: env.NOTIFY_RETRY_BASE_MS,
      retryMaxMs: env.NOTIFY_RETRY_MAX_MS,
      pollMs: env.NOTIFY_POLL_MS,
      concurrency: env.NOTIFY_CONCURRENCY,
      rateLimit: env.NOTIFY_RATE_LIMIT,
      rateWindowMs: env.NOTIFY_RATE_WINDOW_S * 1000,
    },
    metrics: { enabled: env.METRICS_ENABLED, ...(env.METRICS_TOKEN ? { token: env.METRICS_TOKEN } : {}) },
    live: {
      maxFramesPerSecond: env.LIVE_MAX_FRAMES_PER_SECOND,
      maxSubscriptions: env.LIVE_MAX_SUBSCRIPTIONS,
      queueLimit: env.LIVE_QUEUE_LIMIT,
      maxBufferedBytes: env.LIVE_MAX_BUFFERED_BYTES,
      allowedOrigins: env.LIVE_ALLOWED_ORIGINS ? env.LIVE_ALLOWED_ORIGINS.split(",") : [],
    },
  };
}
