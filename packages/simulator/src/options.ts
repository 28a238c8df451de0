// Command-line options of `pnpm simulate`, parsed strictly: a mistyped option or value stops
// the run with one clear line rather than simulating something the user did not ask for.
import { parseArgs } from "node:util";
import { isValidDeviceId } from "@fleetwatch/contracts";

export type Transport = "tcp" | "ws";
export type ProviderKind = "auto" | "api" | "anonymous";

export interface SimulatorOptions {
  devices: number;
  /** Telemetry messages per second per device. */
  rate: number;
  qos: 0 | 1 | 2;
  /** Seconds; undefined runs until interrupted. */
  duration?: number;
  /** The product's HTTP base URL. */
  url: string;
  /** Overrides the MQTT endpoint the registration response or the URL would give. */
  mqttUrl?: string;
  /** Fraction of the fleet dropping off per minute (without DISCONNECT). */
  churn: number;
  transport: Transport;
  prefix: string;
  provider: ProviderKind;
  adminEmail?: string;
  adminPassword?: string;
  token?: string;
  seed: number;
  /** Seconds between progress lines. */
  progressInterval: number;
  help: boolean;
}

export class OptionsError extends Error {
  override name = "OptionsError";
}

export const USAGE = `Usage: pnpm simulate [options]

  --devices N            number of simulated devices (default 10)
  --rate R               telemetry messages per second per device (default 1; 0.1 = every 10 s)
  --qos 0|1|2            QoS of telemetry (default 1)
  --duration T           run time: seconds, or 30s, 5m, 1h (default: until Ctrl-C)
  --url URL              Fleetwatch's HTTP base URL (default http://localhost:8080)
  --mqtt-url URL         MQTT endpoint (mqtt://, mqtts://, ws://, wss://); default: from the
                         registration response, else derived from --url
  --transport tcp|ws     MQTT over TCP or over WebSocket (default tcp)
  --churn F              fraction of devices dropping off per minute, 0..1 (default 0)
  --prefix P             device id prefix (default sim); ids are P-0001, P-0002, ...
  --provider auto|api|anonymous
                         how devices get credentials: register/reuse them through the API,
                         or connect anonymously (clientId = device id); auto uses the API when
                         the server has /api/devices (default auto)
  --admin-email E        operator account for the API (or FLEETWATCH_ADMIN_EMAIL)
  --admin-password P     its password (or FLEETWATCH_ADMIN_PASSWORD)
  --token T              API token instead of a login (or FLEETWATCH_TOKEN)
  --seed N               seed of the telemetry model (default 1)
  --progress-interval S  seconds between progress lines (default 5)
  --help                 this text
`;

const DEFAULTS = {
  devices: 10,
  rate: 1,
  qos: 1,
  url: "http://localhost:8080",
  churn: 0,
  transport: "tcp",
  prefix: "sim",
  provider: "auto",
  seed: 1,
  progressInterval: 5,
} as const;

/** Longest device id: the contracts' pattern allows 64 characters; ids end in -NNNN or more. */
const MAX_ID_LENGTH = 64;

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = {}): SimulatorOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        devices: { type: "string" },
        rate: { type: "string" },
        qos: { type: "string" },
        duration: { type: "string" },
        url: { type: "string" },
        "mqtt-url": { type: "string" },
        transport: { type: "string" },
        churn: { type: "string" },
        prefix: { type: "string" },
        provider: { type: "string" },
        "admin-email": { type: "string" },
        "admin-password": { type: "string" },
        token: { type: "string" },
        seed: { type: "string" },
        "progress-interval": { type: "string" },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    // node:util's messages name the option ("Unknown option '--foo'"); keep them, drop the hint about positionals.
    throw new OptionsError(
      (error as Error).message.replace(/\. (To specify a positional argument|This command does not take positional arguments).*$/s, ""),
    );
  }
  const text = (name: string) => values[name] as string | undefined;

  const devices = integer("--devices", text("devices"), DEFAULTS.devices, 1, 1_000_000);
  const rate = decimal("--rate", text("rate"), DEFAULTS.rate, { exclusiveMin: 0, max: 10_000 });
  const qos = choice("--qos", text("qos"), ["0", "1", "2"], String(DEFAULTS.qos));
  const duration = text("duration") === undefined ? undefined : parseDuration(text("duration") as string);
  const url = httpUrl(text("url") ?? DEFAULTS.url);
  const mqttUrl = text("mqtt-url") === undefined ? undefined : brokerUrl(text("mqtt-url") as string);
  const churn = decimal("--churn", text("churn"), DEFAULTS.churn, { min: 0, max: 1 });
  const transport = choice("--transport", text("transport"), ["tcp", "ws"], DEFAULTS.transport);
  const provider = choice("--provider", text("provider"), ["auto", "api", "anonymous"], DEFAULTS.provider);
  const seed = integer("--seed", text("seed"), DEFAULTS.seed, 0, 2 ** 31 - 1);
  const progressInterval = decimal("--progress-interval", text("progress-interval"), DEFAULTS.progressInterval, {
    exclusiveMin: 0,
    max: 3600,
  });

  const prefix = text("prefix") ?? DEFAULTS.prefix;
  const longestId = deviceId(prefix, devices - 1, devices);
  if (!isValidDeviceId(deviceId(prefix, 0, devices)) || longestId.length > MAX_ID_LENGTH) {
    throw new OptionsError(
      `--prefix must be lower-case letters, digits and inner hyphens, short enough for ids like ${JSON.stringify(longestId)} to stay within ${MAX_ID_LENGTH} characters (got ${JSON.stringify(prefix)})`,
    );
  }
  if (mqttUrl) {
    const wsUrl = /^wss?:/.test(mqttUrl);
    if (wsUrl !== (transport === "ws")) throw new OptionsError(`--mqtt-url ${mqttUrl} does not match --transport ${transport}`);
  }

  const adminEmail = text("admin-email") ?? nonEmpty(env.FLEETWATCH_ADMIN_EMAIL);
  const adminPassword = text("admin-password") ?? nonEmpty(env.FLEETWATCH_ADMIN_PASSWORD);
  const token = text("token") ?? nonEmpty(env.FLEETWATCH_TOKEN);
  if (Boolean(adminEmail) !== Boolean(adminPassword)) throw new OptionsError("--admin-email and --admin-password go together");
  if (provider === "api" && !token && !adminEmail) {
    throw new OptionsError("--provider api needs an operator: --admin-email and --admin-password, or --token (or FLEETWATCH_TOKEN)");
  }

  return {
    devices,
    rate,
    qos: Number(qos) as 0 | 1 | 2,
    ...(duration !== undefined ? { duration } : {}),
    url,
    ...(mqttUrl ? { mqttUrl } : {}),
    churn,
    transport: transport as Transport,
    prefix,
    provider: provider as ProviderKind,
    ...(adminEmail ? { adminEmail } : {}),
    ...(adminPassword ? { adminPassword } : {}),
    ...(token ? { token } : {}),
    seed,
    progressInterval,
    help: values.help === true,
  };
}

/** Device ids of a run: prefix-0001 ... with at least four digits, wider for larger fleets. */
export function deviceId(prefix: string, index: number, fleetSize: number): string {
  const width = Math.max(4, String(fleetSize).length);
  return `${prefix}-${String(index + 1).padStart(width, "0")}`;
}

export function deviceIds(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => deviceId(prefix, i, count));
}

const nonEmpty = (value: string | undefined) => (value && value.trim() !== "" ? value : undefined);

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new OptionsError(`${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}

function decimal(
  name: string,
  value: string | undefined,
  fallback: number,
  range: { min?: number; exclusiveMin?: number; max: number },
): number {
  if (value === undefined) return fallback;
  const number = /^\s*\d+(\.\d+)?\s*$|^\s*\.\d+\s*$/.test(value) ? Number(value) : NaN;
  const low = range.exclusiveMin ?? range.min ?? 0;
  const tooLow = range.exclusiveMin !== undefined ? number <= low : number < low;
  if (!Number.isFinite(number) || tooLow || number > range.max) {
    const lower = range.exclusiveMin !== undefined ? `above ${low}` : `from ${low}`;
    throw new OptionsError(
      `${name} must be a number ${lower} ${range.exclusiveMin !== undefined ? "and at most" : "to"} ${range.max} (got ${JSON.stringify(value)})`,
    );
  }
  return number;
}

function choice(name: string, value: string | undefined, allowed: string[], fallback: string): string {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) throw new OptionsError(`${name} must be one of ${allowed.join(", ")} (got ${JSON.stringify(value)})`);
  return value;
}

/** "30", "30s", "5m", "1h", "1.5m" → seconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(value.trim());
  const seconds = match ? Number(match[1]) * { s: 1, m: 60, h: 3600 }[(match[2] ?? "s") as "s" | "m" | "h"] : NaN;
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new OptionsError(`--duration must be a positive time like 30, 30s, 5m or 1h (got ${JSON.stringify(value)})`);
  return seconds;
}

function httpUrl(value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new OptionsError(`--url must be an http:// or https:// URL (got ${JSON.stringify(value)})`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new OptionsError(`--url must be an http:// or https:// URL (got ${JSON.stringify(value)})`);
  return parsed.toString().replace(/\/$/, "");
}

function brokerUrl(value: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    // Not a URL at all: refused just below, with the value quoted.
  }
  if (!parsed || !["mqtt:", "mqtts:", "ws:", "wss:"].includes(parsed.protocol)) {
    throw new OptionsError(`--mqtt-url must be an mqtt://, mqtts://, ws:// or wss:// URL (got ${JSON.stringify(value)})`);
  }
  return value;
}
