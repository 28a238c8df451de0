// An operator's dashboard preferences, stored on their users row (a Prisma model).
import type { PrismaClient } from "@fleetwatch/prisma";
import type { Preferences, PreferencesUpdate } from "@fleetwatch/contracts";

export class PreferencesRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Null when the user no longer exists. */
  find(userId: string): Promise<Preferences | null> {
    return this.prisma.user.findUnique({ where: { id: userId }, select: { theme: true } });
  }

  /** Null when the user no longer exists. */
  async update(userId: string, update: PreferencesUpdate): Promise<Preferences | null> {
    const updated = await this.prisma.user.updateMany({ where: { id: userId }, data: update });
    return updated.count === 0 ? null : this.find(userId);
  }
}
