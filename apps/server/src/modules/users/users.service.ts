// Operator accounts, managed by admins.
import type { User, UserCreate, UserUpdate } from "@fleetwatch/contracts";
import { conflict, notFound } from "../../http/errors.ts";
import { hashPassword } from "../../security/secrets.ts";
import type { AuthRepository } from "../auth/auth.repository.ts";
import { toUser, type OperatorChanged } from "../auth/auth.service.ts";

export class UsersService {
  constructor(
    private readonly repository: AuthRepository,
    private readonly operatorChanged: OperatorChanged,
  ) {}

  async list(): Promise<User[]> {
    return (await this.repository.listUsers()).map(toUser);
  }

  async create(input: UserCreate): Promise<User> {
    const email = input.email.trim().toLowerCase();
    const row = await this.repository.createUser({
      email,
      role: input.role,
      passwordHash: await hashPassword(input.password),
    });
    if (!row) throw conflict(`A user with email ${email} exists already`, "EMAIL_TAKEN");
    return toUser(row);
  }

  async update(id: string, input: UserUpdate): Promise<User> {
    const current = await this.repository.findUser(id);
    if (!current) throw notFound(`No user ${id}`);
    if (input.role !== undefined && input.role !== "admin" && current.role === "admin") await this.keepOneAdmin();
    const row = await this.repository.updateUser(id, {
      ...(input.email ? { email: input.email.trim().toLowerCase() } : {}),
      ...(input.role ? { role: input.role } : {}),
      ...(input.password ? { passwordHash: await hashPassword(input.password) } : {}),
    });
    if (row === "taken") throw conflict(`A user with email ${input.email} exists already`, "EMAIL_TAKEN");
    if (!row) throw notFound(`No user ${id}`);
    // A changed password or role ends the user's sessions: they sign in again with the new state.
    if (input.password || input.role) {
      await this.repository.deleteSessionsOf(id);
      await this.operatorChanged(id);
    }
    return toUser(row);
  }

  async delete(id: string): Promise<void> {
    const current = await this.repository.findUser(id);
    if (!current) throw notFound(`No user ${id}`);
    if (current.role === "admin") await this.keepOneAdmin();
    await this.repository.deleteUser(id);
    await this.operatorChanged(id);
  }

  private async keepOneAdmin(): Promise<void> {
    if ((await this.repository.countAdmins()) <= 1) throw conflict("This is the last admin; make another user admin first", "LAST_ADMIN");
  }
}
