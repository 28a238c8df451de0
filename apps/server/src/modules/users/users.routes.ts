// /api/users: operator accounts (admins only, reading included).
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { IdParams, User, UserCreate, UserList, UserUpdate } from "@fleetwatch/contracts";
import { apiErrors } from "../../http/api.ts";
import type { UsersService } from "./users.service.ts";

export async function usersRoutes(parent: FastifyInstance, { users }: { users: UsersService }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const admin = { access: "admin" as const };

  app.get(
    "/users",
    { config: admin, schema: { tags: ["users"], summary: "Operator accounts and their roles", response: { 200: UserList, ...apiErrors } } },
    async () => ({
      items: await users.list(),
    }),
  );

  app.post(
    "/users",
    {
      config: admin,
      schema: {
        tags: ["users"],
        summary: "Create an operator account with a role",
        body: UserCreate,
        response: { 201: User, ...apiErrors },
      },
    },
    async (request, reply) => reply.code(201).send(await users.create(request.body)),
  );

  app.patch(
    "/users/:id",
    {
      config: admin,
      schema: {
        tags: ["users"],
        summary: "Change an account's role, name or password",
        params: IdParams,
        body: UserUpdate,
        response: { 200: User, ...apiErrors },
      },
    },
    async (request) => users.update(request.params.id, request.body),
  );

  app.delete(
    "/users/:id",
    {
      config: admin,
      schema: { tags: ["users"], summary: "Delete an operator account", params: IdParams, response: { 204: Type.Null(), ...apiErrors } },
    },
    async (request, reply) => {
      await users.delete(request.params.id);
      return reply.code(204).send(null);
    },
  );
}
