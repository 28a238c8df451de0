// /api/alerts and /api/alert-rules.
import type { FastifyInstance } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import {
  AcknowledgeAlert,
  Alert,
  AlertList,
  AlertListQuery,
  AlertParams,
  AlertRule,
  AlertRuleList,
  AlertRuleParams,
  CreateAlertRule,
  UpdateAlertRule,
} from "@fleetwatch/contracts";
import type { AlertsService } from "./alerts.service.ts";
import { apiErrors, requireOperator } from "../../http/api.ts";

export async function alertsRoutes(parent: FastifyInstance, { alerts }: { alerts: AlertsService }) {
  // Changes to the fleet are the operators' (the operator and admin roles), not only admins'.
  const fleetOperators = { access: "operator" as const };
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    "/alerts",
    {
      schema: {
        tags: ["alerts"],
        summary: "Alerts, newest first",
        querystring: AlertListQuery,
        response: { 200: AlertList, ...apiErrors },
      },
    },
    async (request) => alerts.list(request.query),
  );

  app.post(
    "/alerts/:id/ack",
    {
      config: fleetOperators,
      schema: {
        tags: ["alerts"],
        summary: "Acknowledge an active alert",
        params: AlertParams,
        body: AcknowledgeAlert,
        response: { 200: Alert, ...apiErrors },
      },
    },
    async (request) => alerts.acknowledge(request.params.id, requireOperator(request).email),
  );

  app.get(
    "/alert-rules",
    {
      schema: {
        tags: ["alert rules"],
        summary: "Alert rules (thresholds on telemetry metrics)",
        response: { 200: AlertRuleList, ...apiErrors },
      },
    },
    async () => ({
      items: await alerts.listRules(),
    }),
  );

  app.get(
    "/alert-rules/:id",
    { schema: { tags: ["alert rules"], summary: "One alert rule", params: AlertRuleParams, response: { 200: AlertRule, ...apiErrors } } },
    async (request) => alerts.getRule(request.params.id),
  );

  app.post(
    "/alert-rules",
    {
      config: fleetOperators,
      schema: { tags: ["alert rules"], summary: "Create an alert rule", body: CreateAlertRule, response: { 201: AlertRule, ...apiErrors } },
    },
    async (request, reply) => reply.code(201).send(await alerts.createRule(request.body)),
  );

  app.patch(
    "/alert-rules/:id",
    {
      config: fleetOperators,
      schema: {
        tags: ["alert rules"],
        summary: "Change an alert rule",
        params: AlertRuleParams,
        body: UpdateAlertRule,
        response: { 200: AlertRule, ...apiErrors },
      },
    },
    async (request) => alerts.updateRule(request.params.id, request.body),
  );

  app.delete(
    "/alert-rules/:id",
    {
      config: fleetOperators,
      schema: {
        tags: ["alert rules"],
        summary: "Delete an alert rule",
        params: AlertRuleParams,
        response: { 204: Type.Null(), ...apiErrors },
      },
    },
    async (request, reply) => {
      await alerts.deleteRule(request.params.id);
      return reply.code(204).send(null);
    },
  );
}
