// /api/alerts and /api/alert-rules.
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import {
  AcknowledgeAlert,
  Alert,
  AlertList,
  AlertListQuery,
  AlertParams,
  AlertRule,
  AlertRuleList,
  AlertRuleParams,
  ApiError,
  CreateAlertRule,
  UpdateAlertRule,
} from "@fleetwatch/contracts";
import { RuleValidationError, type AlertsService } from "./alerts.service.ts";
import { requireOperator } from "../../http/api.ts";

const error = (statusCode: number, errorText: string, message: string) => ({ statusCode, error: errorText, message });

export async function alertsRoutes(parent: FastifyInstance, { alerts }: { alerts: AlertsService }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    "/alerts",
    {
      schema: {
        tags: ["alerts"],
        summary: "Alerts, newest first",
        querystring: AlertListQuery,
        response: { 200: AlertList, 400: ApiError },
      },
    },
    async (request) => alerts.list(request.query),
  );

  app.post(
    "/alerts/:id/ack",
    {
      schema: {
        tags: ["alerts"],
        summary: "Acknowledge an active alert",
        params: AlertParams,
        body: AcknowledgeAlert,
        response: { 200: Alert, 400: ApiError, 404: ApiError, 409: ApiError },
      },
    },
    async (request, reply) => {
      const result = await alerts.acknowledge(request.params.id, requireOperator(request).email);
      if (result.outcome === "not-found") return reply.code(404).send(error(404, "Not Found", `no alert ${request.params.id}`));
      if (result.outcome === "resolved")
        return reply.code(409).send(error(409, "Conflict", `alert ${request.params.id} is already resolved`));
      return result.alert;
    },
  );

  app.get("/alert-rules", { schema: { tags: ["alert rules"], response: { 200: AlertRuleList } } }, async () => ({
    items: await alerts.listRules(),
  }));

  app.get(
    "/alert-rules/:id",
    { schema: { tags: ["alert rules"], params: AlertRuleParams, response: { 200: AlertRule, 400: ApiError, 404: ApiError } } },
    async (request, reply) =>
      (await alerts.getRule(request.params.id)) ?? reply.code(404).send(error(404, "Not Found", `no alert rule ${request.params.id}`)),
  );

  app.post(
    "/alert-rules",
    { schema: { tags: ["alert rules"], body: CreateAlertRule, response: { 201: AlertRule, 400: ApiError } } },
    async (request, reply) => {
      try {
        return reply.code(201).send(await alerts.createRule(request.body));
      } catch (caught) {
        if (caught instanceof RuleValidationError) return reply.code(400).send(error(400, "Bad Request", caught.message));
        throw caught;
      }
    },
  );

  app.patch(
    "/alert-rules/:id",
    {
      schema: {
        tags: ["alert rules"],
        params: AlertRuleParams,
        body: UpdateAlertRule,
        response: { 200: AlertRule, 400: ApiError, 404: ApiError },
      },
    },
    async (request, reply) => {
      try {
        return (
          (await alerts.updateRule(request.params.id, request.body)) ??
          reply.code(404).send(error(404, "Not Found", `no alert rule ${request.params.id}`))
        );
      } catch (caught) {
        if (caught instanceof RuleValidationError) return reply.code(400).send(error(400, "Bad Request", caught.message));
        throw caught;
      }
    },
  );

  app.delete(
    "/alert-rules/:id",
    { schema: { tags: ["alert rules"], params: AlertRuleParams, response: { 204: { type: "null" }, 400: ApiError, 404: ApiError } } },
    async (request, reply) => {
      if (!(await alerts.deleteRule(request.params.id)))
        return reply.code(404).send(error(404, "Not Found", `no alert rule ${request.params.id}`));
      return reply.code(204).send(null);
    },
  );
}
