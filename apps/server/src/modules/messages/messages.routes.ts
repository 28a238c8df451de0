// The message log over HTTP: search by MQTT topic filter and time range.
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { ApiError, MessageList, MessagesQuery } from "@fleetwatch/contracts";
import type { AppDependencies } from "../../http/dependencies.ts";
import { sendHistoryError } from "../telemetry/telemetry.routes.ts";
import { MessagesRepository } from "./messages.repository.ts";
import { MessagesService } from "./messages.service.ts";

export async function messagesRoutes(parent: FastifyInstance, deps: AppDependencies) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const service = new MessagesService(new MessagesRepository(deps.database));

  app.get(
    "/messages",
    {
      schema: {
        tags: ["messages"],
        summary: "Search the log of device messages by topic filter and time range, newest first",
        querystring: MessagesQuery,
        response: { 200: MessageList, 400: ApiError },
      },
    },
    async (request, reply) => {
      try {
        return { messages: await service.search(request.query) };
      } catch (error) {
        return sendHistoryError(reply, error);
      }
    },
  );
}
