// The message log over HTTP: search by MQTT topic filter and time range.
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { MessageList, MessagesQuery } from "@fleetwatch/contracts";
import { apiErrors } from "../../http/api.ts";
import type { MessagesService } from "./messages.service.ts";

export async function messagesRoutes(parent: FastifyInstance, { messages }: { messages: MessagesService }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    "/messages",
    {
      schema: {
        tags: ["messages"],
        summary: "Search the log of device messages by topic filter and time range, newest first",
        querystring: MessagesQuery,
        response: { 200: MessageList, ...apiErrors },
      },
    },
    async (request) => ({ messages: await messages.search(request.query) }),
  );
}
