// The device registry's rules: ids, credentials, enabling and disabling, deletion with its
// broker state, and bulk import.
import { Value } from "typebox/value";
import {
  DeviceCreate,
  deviceTopic,
  isValidDeviceId,
  type Device,
  type DeviceCredentials,
  type DeviceImportPreview,
  type DeviceListQuery,
  type DeviceUpdate,
  type ImportRowError,
} from "@fleetwatch/contracts";
import type { Broker } from "../../broker/broker.ts";
import { disconnectDevice } from "../../broker/control.ts";
import { badRequest, conflict, notFound } from "../../http/errors.ts";
import type { Logger } from "../../logger.ts";
import { hashSecret, randomToken, scryptCost } from "../../security/secrets.ts";
import type { DeviceRow, DevicesRepository, NewDevice } from "./devices.repository.ts";

export function toDevice(row: DeviceRow): Device {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    tags: row.tags,
    disabled: row.disabled,
    online: row.online,
    status: row.online ? "online" : row.lastSeenAt ? "offline" : "never",
    lastSeenAt: row.lastSeenAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export interface IssuedDevice {
  device: Device;
  credentials: DeviceCredentials;
}

/** Most rows one import may carry: bounds the work (one scrypt per row) of a single request. */
export const MAX_IMPORT_ROWS = 5_000;

/** A readable id from a name: "Pump #1 (north)" → "pump-1-north". */
export function slugify(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 56)
    .replace(/-+$/g, "");
  return isValidDeviceId(slug) ? slug : "device";
}

/** Device secrets: 256 bits, URL-safe, so they survive any MQTT client's configuration. */
const newSecret = () => randomToken(32);

export class DevicesService {
  constructor(
    private readonly repository: DevicesRepository,
    private readonly broker: Broker,
    private readonly logger: Logger,
  ) {}

  async create(input: DeviceCreate): Promise<IssuedDevice> {
    requireName(input.name);
    const secret = newSecret();
    const base = {
      name: input.name.trim(),
      description: input.description ?? "",
      tags: normaliseTags(input.tags),
      secretHash: await hashSecret(secret, scryptCost.deviceSecret),
    };
    if (input.id) {
      const row = await this.repository.create({ ...base, id: input.id });
      if (!row) throw conflict(`A device with id ${input.id} exists already`, "DEVICE_EXISTS");
      return issued(row, secret);
    }
    // Derived ids: the slug of the name, made unique with a short random suffix when taken.
    const slug = slugify(base.name);
    for (let attempt = 0; attempt < 5; attempt++) {
      const id =
        attempt === 0
          ? slug
          : `${slug}-${randomToken(3)
              .toLowerCase()
              .replace(/[^a-z0-9]/g, "0")}`;
      const row = await this.repository.create({ ...base, id });
      if (row) return issued(row, secret);
    }
    throw conflict(`Could not derive a free id from the name "${base.name}"; give an id`, "DEVICE_EXISTS");
  }

  async list(query: DeviceListQuery) {
    const page = { ...query, limit: query.limit ?? 50, offset: query.offset ?? 0 };
    const { items, total } = await this.repository.list(page);
    return { items: items.map(toDevice), total, limit: page.limit, offset: page.offset };
  }

  /** Suggestions for tagging: the 200 most used tags. */
  async tags(): Promise<{ items: { tag: string; devices: number }[] }> {
    return { items: await this.repository.tags(200) };
  }

  async get(id: string): Promise<Device> {
    const row = await this.repository.find(id);
    if (!row) throw notFound(`No device ${id}`);
    return toDevice(row);
  }

  async update(id: string, input: DeviceUpdate): Promise<Device> {
    if (input.name !== undefined) requireName(input.name);
    const row = await this.repository.update(id, {
      ...(input.name !== undefined ? { name: input.name.trim() } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.tags !== undefined ? { tags: normaliseTags(input.tags) } : {}),
    });
    if (!row) throw notFound(`No device ${id}`);
    return toDevice(row);
  }

  /** New secret; the old one stops working at once and a live connection is closed on every node. */
  async rotateCredentials(id: string): Promise<IssuedDevice> {
    const secret = newSecret();
    const row = await this.repository.replaceSecret(id, await hashSecret(secret, scryptCost.deviceSecret));
    if (!row) throw notFound(`No device ${id}`);
    await disconnectDevice(this.broker, id);
    return issued(row, secret);
  }

  async setDisabled(id: string, disabled: boolean): Promise<Device> {
    const row = await this.repository.update(id, { disabled });
    if (!row) throw notFound(`No device ${id}`);
    if (disabled) await disconnectDevice(this.broker, id);
    return toDevice(row);
  }

  /**
   * Removes the device, closes its connection everywhere (discarding its will), and clears
   * what the broker keeps for it, through aedes' persistence interface so that any
   * persistence (in-memory, PostgreSQL) is cleared alike: retained messages under its
   * namespace, its stored subscriptions, queued outgoing and in-flight incoming messages.
   */
  async delete(id: string): Promise<void> {
    if (!(await this.repository.delete(id))) throw notFound(`No device ${id}`);
    await disconnectDevice(this.broker, id, { forget: true });
    await this.clearBrokerState(id);
  }

  private async clearBrokerState(id: string): Promise<void> {
    const persistence = (this.broker as unknown as { persistence: BrokerPersistence }).persistence;
    const session = { id, brokerId: this.broker.id } as const;
    const retained: string[] = [];
    for await (const packet of persistence.createRetainedStreamCombi([deviceTopic.all(id)]))
      retained.push((packet as { topic: string }).topic);
    for (const topic of retained) {
      await persistence.storeRetained({
        cmd: "publish",
        topic,
        payload: Buffer.alloc(0),
        qos: 0,
        retain: true,
        dup: false,
        brokerId: this.broker.id,
        brokerCounter: 0,
      });
    }
    await persistence.cleanSubscriptions(session);
    if (typeof persistence.cleanIncoming === "function") await persistence.cleanIncoming(session);
    const queued: unknown[] = [];
    for await (const packet of persistence.outgoingStream(session)) queued.push(packet);
    for (const packet of queued) await persistence.outgoingClearMessageId(session, packet);
    await persistence.delWill(session);
    this.logger.info(
      { deviceId: id, retainedCleared: retained.length, queuedCleared: queued.length },
      "deleted a device and cleared its broker state",
    );
  }

  /**
   * What an import of these rows would do, without writing anything: each row as read, and
   * every row's errors (the same checks as import). For a preview before importing.
   */
  async preview(rows: unknown[]): Promise<DeviceImportPreview> {
    const { errors } = await this.#check(rows);
    return {
      rows: rows.map((raw, index) => ({ row: index + 1, ...previewFields(raw) })),
      errors,
      importable: errors.length === 0 && rows.length > 0 && rows.length <= MAX_IMPORT_ROWS,
    };
  }

  /** Every row's errors (validity, ids unique in the file and new), and the valid rows. */
  async #check(
    rows: unknown[],
  ): Promise<{ errors: ImportRowError[]; valid: { row: number; input: DeviceCreate }[]; explicit: Map<string, number> }> {
    const errors: ImportRowError[] = [];
    const valid: { row: number; input: DeviceCreate }[] = [];
    rows.forEach((raw, index) => {
      const row = index + 1;
      if (Value.Check(DeviceCreate, raw)) {
        if (raw.name.trim() === "") return errors.push({ row, field: "name", message: BLANK_NAME });
        return valid.push({ row, input: raw });
      }
      for (const error of Value.Errors(DeviceCreate, raw)) {
        const field =
          error.instancePath.replace(/^\//, "").split("/")[0] ||
          (error.params as { requiredProperties?: string[] }).requiredProperties?.[0];
        errors.push({ row, ...(field ? { field } : {}), message: error.message });
        break;
      }
    });
    // Ids: explicit ones must be unique in the file and new; derived ones are made unique on import.
    const explicit = new Map<string, number>();
    for (const { row, input } of valid) {
      if (!input.id) continue;
      const first = explicit.get(input.id);
      if (first !== undefined) errors.push({ row, field: "id", message: `id ${input.id} repeats row ${first}` });
      else explicit.set(input.id, row);
    }
    const taken = await this.repository.existingIds([...explicit.keys()]);
    for (const [id, row] of explicit)
      if (taken.has(id)) errors.push({ row, field: "id", message: `a device with id ${id} exists already` });
    errors.sort((a, b) => a.row - b.row);
    return { errors, valid, explicit };
  }

  /**
   * All-or-nothing import: every row is validated (and checked against existing ids and the
   * other rows) before anything is written; any problem answers every row's errors at once.
   */
  async import(rows: unknown[]): Promise<IssuedDevice[]> {
    if (rows.length === 0) throw badRequest("The import has no rows", "IMPORT_EMPTY", { errors: [] });
    if (rows.length > MAX_IMPORT_ROWS) throw badRequest(`At most ${MAX_IMPORT_ROWS} rows per import`, "IMPORT_TOO_LARGE", { errors: [] });
    const { errors, valid, explicit } = await this.#check(rows);
    if (errors.length > 0) {
      const onlyConflicts = errors.every((e) => e.message.includes("exists already"));
      const problem = `${errors.length} row(s) cannot be imported; nothing was created`;
      throw onlyConflicts ? conflict(problem, "IMPORT_CONFLICT", { errors }) : badRequest(problem, "IMPORT_INVALID", { errors });
    }

    const used = new Set([...explicit.keys()]);
    const derived = valid.filter(({ input }) => !input.id).map(({ input }) => slugify(input.name));
    const derivedTaken = await this.repository.existingIds(derived);
    const secrets: string[] = [];
    const devices: NewDevice[] = [];
    for (const { input } of valid) {
      let id = input.id;
      if (!id) {
        const slug = slugify(input.name);
        id = slug;
        for (let n = 2; used.has(id) || derivedTaken.has(id); n++) id = `${slug}-${n}`;
      }
      used.add(id);
      const secret = newSecret();
      secrets.push(secret);
      devices.push({ id, name: input.name.trim(), description: input.description ?? "", tags: normaliseTags(input.tags), secretHash: "" });
    }
    // Hash in parallel: scrypt runs on the threadpool, four at a time by default.
    const hashes = await Promise.all(secrets.map((secret) => hashSecret(secret, scryptCost.deviceSecret)));
    devices.forEach((device, i) => (device.secretHash = hashes[i] as string));
    const created = await this.repository.createAll(devices);
    // Another request took an id between the check and the insert; nothing was written.
    if (!created) throw conflict("An id was taken while importing; nothing was created, try again", "IMPORT_CONFLICT", { errors: [] });
    // RETURNING's order is not promised: answer in the file's row order, each row with its own secret.
    const rowOf = new Map(created.map((row) => [row.id, row]));
    return devices.map((device, i) => issued(rowOf.get(device.id) as DeviceRow, secrets[i] as string));
  }
}

/** A row as the preview shows it: its fields as read, whatever their validity. */
function previewFields(raw: unknown): Omit<DeviceImportPreview["rows"][number], "row"> {
  const record = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
  const text = (value: unknown) => (typeof value === "string" ? value : value === undefined ? undefined : JSON.stringify(value));
  const tags = Array.isArray(record.tags) ? record.tags.map((tag) => String(tag)) : undefined;
  const fields = { name: text(record.name), id: text(record.id), description: text(record.description), tags };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

const BLANK_NAME = "name is blank: give the device a name (spaces around it are trimmed)";

/** Names are trimmed; one that is nothing but spaces would leave a device without a name (and the derived id "device"). */
function requireName(name: string): void {
  if (name.trim() === "") throw badRequest(BLANK_NAME, "NAME_BLANK");
}

function normaliseTags(tags: string[] | undefined): string[] {
  return [...new Set((tags ?? []).map((tag) => tag.trim()).filter(Boolean))];
}

function issued(row: DeviceRow, secret: string): IssuedDevice {
  return { device: toDevice(row), credentials: { clientId: row.id, username: row.id, password: secret } };
}

/** The parts of aedes' persistence interface (aedes-persistence 11, promise API) used here. */
interface BrokerPersistence {
  createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown>;
  storeRetained(packet: Record<string, unknown>): Promise<void>;
  cleanSubscriptions(client: { id: string }): Promise<void>;
  cleanIncoming?(client: { id: string }): Promise<void>;
  outgoingStream(client: { id: string }): AsyncIterable<unknown>;
  outgoingClearMessageId(client: { id: string }, packet: unknown): Promise<unknown>;
  delWill(client: { id: string; brokerId: string }): Promise<unknown>;
}
