// /api/notification-channels: anyone signed in may read channels (a webhook's URL only as
// its origin, unless an admin asks) and their delivery log; only admins create, change, test
// or delete them (a channel sends the fleet's alerts to an address outside Fleetwatch).
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import {
  CreatedNotificationChannel,
  CreateNotificationChannel,
  DeliveryAttemptList,
  DeliveryAttemptQuery,
  NotificationChannel,
  NotificationChannelList,
  NotificationChannelParams,
  NotificationTestResult,
  UpdateNotificationChannel,
} from "@fleetwatch/contracts";
import { apiErrors, requireOperator } from "../../http/api.ts";
import type { NotificationsService } from "./notifications.service.ts";

export async function notificationsRoutes(parent: FastifyInstance, { notifications }: { notifications: NotificationsService }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const admins = { access: "admin" as const };
  const tags = ["notifications"];

  app.get(
    "/notification-channels",
    { schema: { tags, summary: "Notification channels", response: { 200: NotificationChannelList, ...apiErrors } } },
    async (request) => ({ items: await notifications.list(requireOperator(request).role) }),
  );

  app.get(
    "/notification-channels/:id",
    {
      schema: {
        tags,
        summary: "One notification channel (its secret is never returned)",
        params: NotificationChannelParams,
        response: { 200: NotificationChannel, ...apiErrors },
      },
    },
    async (request) => notifications.get(request.params.id, requireOperator(request).role),
  );

  app.post(
    "/notification-channels",
    {
      config: admins,
      schema: {
        tags,
        summary: "Add a channel (a webhook's generated secret is in this answer only)",
        body: CreateNotificationChannel,
        response: { 201: CreatedNotificationChannel, ...apiErrors },
      },
    },
    async (request, reply) => reply.code(201).send(await notifications.create(request.body)),
  );

  app.patch(
    "/notification-channels/:id",
    {
      config: admins,
      schema: {
        tags,
        summary: "Change a channel: its target, secret, routing or whether it is enabled",
        params: NotificationChannelParams,
        body: UpdateNotificationChannel,
        response: { 200: NotificationChannel, ...apiErrors },
      },
    },
    async (request) => notifications.update(request.params.id, request.body),
  );

  app.delete(
    "/notification-channels/:id",
    {
      config: admins,
      schema: {
        tags,
        summary: "Delete a channel and its delivery log",
        params: NotificationChannelParams,
        response: { 204: Type.Null(), ...apiErrors },
      },
    },
    async (request, reply) => {
      await notifications.delete(request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    "/notification-channels/:id/test",
    {
      config: admins,
      schema: {
        tags,
        summary: "Send a test notification now and answer with the outcome",
        params: NotificationChannelParams,
        response: { 200: NotificationTestResult, ...apiErrors },
      },
    },
    async (request) => notifications.test(request.params.id),
  );

  app.get(
    "/notification-channels/:id/deliveries",
    {
      schema: {
        tags,
        summary: "The channel's delivery attempts, newest first",
        params: NotificationChannelParams,
        querystring: DeliveryAttemptQuery,
        response: { 200: DeliveryAttemptList, ...apiErrors },
      },
    },
    async (request) => ({ items: await notifications.deliveries(request.params.id, request.query.limit ?? 100) }),
  );
}
