// /api/devices/:id/commands: commands to a device and their outcome.
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Command, CommandAccepted, CommandCreate, CommandList, CommandListQuery, CommandParams, DeviceParams } from "@fleetwatch/contracts";
import { apiErrors, requireOperator } from "../../http/api.ts";
import type { CommandsService } from "./commands.service.ts";

export async function commandsRoutes(parent: FastifyInstance, { commands }: { commands: CommandsService }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    "/devices/:id/commands",
    {
      // Operators and admins send; viewers read the history.
      config: { access: "operator" },
      schema: {
        tags: ["commands"],
        summary:
          "Send a command to the device (MQTT devices/{id}/commands/{commandId}, QoS 1); 409 when it is offline without a persistent session",
        params: DeviceParams,
        body: CommandCreate,
        response: { 202: CommandAccepted, ...apiErrors },
      },
    },
    async (request, reply) => {
      const operator = requireOperator(request);
      const accepted = await commands.send(request.params.id, request.body, { userId: operator.userId, email: operator.email });
      return reply.code(202).send(accepted);
    },
  );

  app.get(
    "/devices/:id/commands",
    {
      schema: {
        tags: ["commands"],
        summary: "The device's commands, newest first",
        params: DeviceParams,
        querystring: CommandListQuery,
        response: { 200: CommandList, ...apiErrors },
      },
    },
    async (request) => commands.list(request.params.id, request.query),
  );

  app.get(
    "/devices/:id/commands/:commandId",
    {
      schema: {
        tags: ["commands"],
        summary: "One command and its outcome",
        params: CommandParams,
        response: { 200: Command, ...apiErrors },
      },
    },
    async (request) => commands.get(request.params.id, request.params.commandId),
  );
}
