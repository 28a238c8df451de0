// Dashboards through Prisma's client (a registry model in schema.prisma). The widgets are one
// jsonb document: a dashboard is read and saved whole, and the service validates it against
// the TypeBox contract before every write.
import type { PrismaClient } from "@fleetwatch/prisma";

export interface DashboardRow {
  id: string;
  ownerId: string;
  ownerEmail: string;
  name: string;
  shared: boolean;
  widgets: unknown;
  createdAt: Date;
  updatedAt: Date;
}

const columns = {
  id: true,
  ownerId: true,
  name: true,
  shared: true,
  widgets: true,
  createdAt: true,
  updatedAt: true,
  owner: { select: { email: true } },
} as const;

type Selected = { owner: { email: string } } & Omit<DashboardRow, "ownerEmail">;
const toRow = ({ owner, ...row }: Selected): DashboardRow => ({ ...row, ownerEmail: owner.email });

export class DashboardsRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** The user's own dashboards and every shared one, most recently changed first. */
  async visibleTo(userId: string): Promise<DashboardRow[]> {
    const rows = await this.prisma.dashboard.findMany({
      where: { OR: [{ ownerId: userId }, { shared: true }] },
      select: columns,
      orderBy: [{ updatedAt: "desc" }, { id: "asc" }],
    });
    return rows.map(toRow);
  }

  async find(id: string): Promise<DashboardRow | null> {
    const row = await this.prisma.dashboard.findUnique({ where: { id }, select: columns });
    return row && toRow(row);
  }

  async create(ownerId: string, name: string, widgets: unknown[]): Promise<DashboardRow> {
    return toRow(await this.prisma.dashboard.create({ data: { ownerId, name, widgets: widgets as object[] }, select: columns }));
  }

  /** Null when the dashboard is gone or is not the owner's. */
  async update(
    id: string,
    ownerId: string,
    changes: { name?: string; shared?: boolean; widgets?: unknown[] },
  ): Promise<DashboardRow | null> {
    const { widgets, ...rest } = changes;
    const updated = await this.prisma.dashboard.updateMany({
      where: { id, ownerId },
      data: { ...rest, ...(widgets ? { widgets: widgets as object[] } : {}) },
    });
    return updated.count === 0 ? null : this.find(id);
  }

  async delete(id: string, ownerId: string): Promise<boolean> {
    const deleted = await this.prisma.dashboard.deleteMany({ where: { id, ownerId } });
    return deleted.count > 0;
  }
}
