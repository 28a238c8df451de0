// The device registry: the only code that touches the devices table. Registry writes use
// Prisma; the CONNECT lookup and the filtered list use plain SQL on the shared pool.
import { Prisma } from "@fleetwatch/prisma";
import type { DeviceListQuery } from "@fleetwatch/contracts";
import type { Database } from "../../db/database.ts";
import type { DeviceCredentialRecord } from "../../broker/gate.ts";

export interface DeviceRow {
  id: string;
  name: string;
  description: string;
  tags: string[];
  disabled: boolean;
  online: boolean;
  lastSeenAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewDevice {
  id: string;
  name: string;
  description: string;
  tags: string[];
  secretHash: string;
}

const publicColumns = {
  id: true,
  name: true,
  description: true,
  tags: true,
  disabled: true,
  online: true,
  lastSeenAt: true,
  createdAt: true,
  updatedAt: true,
} as const;
const isUniqueViolation = (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2002";
const isNotFound = (error: unknown) => error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2025";

export class DevicesRepository {
  constructor(private readonly database: Database) {}

  private get prisma() {
    return this.database.prisma;
  }

  /** For the broker's CONNECT check: one primary-key read. */
  async findCredentials(id: string): Promise<DeviceCredentialRecord | null> {
    const { rows } = await this.database.pool.query<DeviceCredentialRecord>(
      'SELECT id, disabled, secret_hash AS "secretHash", credential_version AS "credentialVersion" FROM devices WHERE id = $1',
      [id],
    );
    return rows[0] ?? null;
  }

  find(id: string): Promise<DeviceRow | null> {
    return this.prisma.device.findUnique({ where: { id }, select: publicColumns });
  }

  /** Null when the id is taken. */
  async create(device: NewDevice): Promise<DeviceRow | null> {
    try {
      return await this.prisma.device.create({ data: device, select: publicColumns });
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  /** All or nothing: null (and nothing created) when any id is taken. */
  async createAll(devices: NewDevice[]): Promise<DeviceRow[] | null> {
    try {
      // One INSERT for all rows: atomic, and one round trip instead of one per device (a
      // transaction of 5,000 creates outlived Prisma's transaction timeout on a busy machine).
      return await this.prisma.device.createManyAndReturn({ data: devices, select: publicColumns });
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  async existingIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await this.database.pool.query<{ id: string }>("SELECT id FROM devices WHERE id = ANY($1::text[])", [ids]);
    return new Set(rows.map((row) => row.id));
  }

  async update(id: string, data: { name?: string; description?: string; tags?: string[]; disabled?: boolean }): Promise<DeviceRow | null> {
    try {
      return await this.prisma.device.update({ where: { id }, data, select: publicColumns });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** New secret and a new credential version, so cached verifications of the old one stop matching. */
  async replaceSecret(id: string, secretHash: string): Promise<DeviceRow | null> {
    try {
      return await this.prisma.device.update({
        where: { id },
        data: { secretHash, credentialVersion: { increment: 1 } },
        select: publicColumns,
      });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async delete(id: string): Promise<boolean> {
    return (await this.prisma.device.deleteMany({ where: { id } })).count > 0;
  }

  /**
   * Offset pagination with a total, ordered by id (the primary key). At 10,000 devices the
   * count and the page are index or small sequential scans: the tag filter uses the GIN
   * index, status uses last_seen_at's index, and ORDER BY id LIMIT walks the primary key.
   */
  async list(query: DeviceListQuery & { limit: number; offset: number }): Promise<{ items: DeviceRow[]; total: number }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.q) {
      params.push(`%${query.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      where.push(`(id ILIKE $${params.length} OR name ILIKE $${params.length})`);
    }
    if (query.tag) {
      params.push([query.tag]);
      where.push(`tags @> $${params.length}::text[]`);
    }
    if (query.status === "online") where.push("online");
    if (query.status === "offline") where.push("NOT online AND last_seen_at IS NOT NULL");
    if (query.status === "never") where.push("NOT online AND last_seen_at IS NULL");
    const clause = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const [{ rows }, count] = await Promise.all([
      this.database.pool.query<DeviceRow>(
        `SELECT id, name, description, tags, disabled, online, last_seen_at AS "lastSeenAt", created_at AS "createdAt", updated_at AS "updatedAt"
           FROM devices ${clause} ORDER BY id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
        [...params, query.limit, query.offset],
      ),
      this.database.pool.query<{ total: number }>(`SELECT count(*)::int AS total FROM devices ${clause}`, params),
    ]);
    return { items: rows, total: count.rows[0]?.total ?? 0 };
  }
}
