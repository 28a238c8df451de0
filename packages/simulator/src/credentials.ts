// How a simulated fleet gets its N device credentials. Two implementations behind one
// interface: "api" registers devices through Fleetwatch's API (or reuses ones registered
// before), "anonymous" connects with clientId = device id and no password, for a broker
// that allows anonymous clients (MQTT_ALLOW_ANONYMOUS=true, or a server without the gate).
import { readFile, writeFile, mkdir, chmod } from "node:fs/promises";
import { dirname } from "node:path";
import { FleetwatchApi, type ApiAuth, type MqttEndpoints } from "./api-client.ts";

export type { MqttEndpoints } from "./api-client.ts";

export interface DeviceCredentials {
  deviceId: string;
  clientId: string;
  username?: string;
  password?: string;
}

export interface AcquiredFleet {
  credentials: DeviceCredentials[];
  /** Where devices connect, as the server announced it or derived from the base URL. */
  endpoints: MqttEndpoints;
}

export interface CredentialProvider {
  readonly kind: "api" | "anonymous";
  /** Credentials for these devices: registered when new, reused when already known. */
  acquire(deviceIds: string[]): Promise<AcquiredFleet>;
}

/** MQTT endpoints derived from the HTTP base URL: WebSocket at /mqtt, TCP on the default port 1883. */
export function deriveEndpoints(baseUrl: string, mqttPort = 1883): MqttEndpoints {
  const url = new URL(baseUrl);
  const secure = url.protocol === "https:";
  return {
    mqtt: `mqtt://${url.hostname}:${mqttPort}`,
    ws: `${secure ? "wss" : "ws"}://${url.host}/mqtt`,
  };
}

export function anonymousProvider(endpoints: MqttEndpoints): CredentialProvider {
  return {
    kind: "anonymous",
    acquire: async (deviceIds) => ({ credentials: deviceIds.map((deviceId) => ({ deviceId, clientId: deviceId })), endpoints }),
  };
}

/**
 * Stores the secrets the API handed out, because a device's secret is shown only at
 * registration: without it a device registered in an earlier run could not be reused.
 */
export interface SecretStore {
  get(baseUrl: string, deviceId: string): Promise<DeviceCredentials | undefined>;
  set(baseUrl: string, entries: DeviceCredentials[]): Promise<void>;
}

export function memorySecretStore(): SecretStore {
  const entries = new Map<string, DeviceCredentials>();
  return {
    get: async (baseUrl, deviceId) => entries.get(`${baseUrl} ${deviceId}`),
    set: async (baseUrl, list) => {
      for (const entry of list) entries.set(`${baseUrl} ${entry.deviceId}`, entry);
    },
  };
}

/** A JSON file readable by its owner only (it holds device secrets). */
export function fileSecretStore(path: string): SecretStore {
  let cache: Record<string, DeviceCredentials> | undefined;
  const load = async () => {
    if (cache) return cache;
    try {
      cache = JSON.parse(await readFile(path, "utf8")) as Record<string, DeviceCredentials>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT")
        throw new Error(`cannot read the device secrets in ${path}: ${(error as Error).message}`, { cause: error });
      cache = {};
    }
    return cache;
  };
  return {
    get: async (baseUrl, deviceId) => (await load())[`${baseUrl} ${deviceId}`],
    set: async (baseUrl, list) => {
      const all = await load();
      for (const entry of list) all[`${baseUrl} ${entry.deviceId}`] = entry;
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, JSON.stringify(all, null, 1), { mode: 0o600 });
      await chmod(path, 0o600);
    },
  };
}

export interface ApiProviderOptions {
  baseUrl: string;
  auth: ApiAuth;
  secrets: SecretStore;
  /** Used when the server's responses name no endpoints (reused devices only). */
  fallbackEndpoints: MqttEndpoints;
  /** Parallel API requests (default 8). */
  concurrency?: number;
}

export function apiProvider(options: ApiProviderOptions): CredentialProvider {
  const api = new FleetwatchApi(options.baseUrl, options.auth);
  return {
    kind: "api",
    async acquire(deviceIds) {
      let endpoints: MqttEndpoints | undefined;
      const registered: DeviceCredentials[] = [];
      const credentials = await mapConcurrently(deviceIds, options.concurrency ?? 8, async (deviceId) => {
        const known = await options.secrets.get(options.baseUrl, deviceId);
        if (known && (await api.getDevice(deviceId))) return known;
        const response = await api.registerDevice(deviceId);
        if (!response) {
          throw new Error(
            `device ${deviceId} is already registered on ${options.baseUrl} but its secret is not known here: delete it there, or choose another --prefix`,
          );
        }
        endpoints ??= response.endpoints;
        const entry: DeviceCredentials = { deviceId, ...response.credentials };
        registered.push(entry);
        return entry;
      });
      if (registered.length > 0) await options.secrets.set(options.baseUrl, registered);
      return { credentials, endpoints: endpoints ?? options.fallbackEndpoints };
    },
  };
}

export interface ProviderChoice {
  kind: "auto" | "api" | "anonymous";
  baseUrl: string;
  auth?: ApiAuth;
  secrets: SecretStore;
  fallbackEndpoints: MqttEndpoints;
}

/**
 * The provider for a run. "auto" uses the API when the server has a device registry, else
 * connects anonymously (a server from before device registration answers 404 there).
 */
export async function chooseProvider(choice: ProviderChoice): Promise<CredentialProvider> {
  let kind = choice.kind;
  if (kind === "auto") kind = (await new FleetwatchApi(choice.baseUrl).hasDeviceRegistry()) ? "api" : "anonymous";
  if (kind === "anonymous") return anonymousProvider(choice.fallbackEndpoints);
  if (!choice.auth) {
    throw new Error(
      `${choice.baseUrl} has a device registry: give an operator with --admin-email and --admin-password, or an API token with --token (or FLEETWATCH_TOKEN)`,
    );
  }
  return apiProvider({ baseUrl: choice.baseUrl, auth: choice.auth, secrets: choice.secrets, fallbackEndpoints: choice.fallbackEndpoints });
}

/** Runs `task` over `items` with at most `limit` in flight; results keep the input order. */
export async function mapConcurrently<T, R>(items: T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
