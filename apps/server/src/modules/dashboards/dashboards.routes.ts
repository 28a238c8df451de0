// /api/dashboards: any signed-in user keeps dashboards of their own (viewers too: a dashboard
// changes no device), shares them if an admin or operator, exports and imports them as JSON,
// and reads each widget's data in one request.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import {
  CreateDashboard,
  Dashboard,
  DashboardDocument,
  DashboardList,
  DashboardParams,
  UpdateDashboard,
  WidgetData,
  WidgetDataQuery,
  WidgetParams,
} from "@fleetwatch/contracts";
import { apiErrors, requireOperator } from "../../http/api.ts";
import type { DashboardsService, DashboardUser } from "./dashboards.service.ts";

const signedIn = { access: "signed-in" as const };
const tags = ["dashboards"];
const user = (request: FastifyRequest): DashboardUser => {
  const operator = requireOperator(request);
  return { userId: operator.userId, role: operator.role };
};

export async function dashboardsRoutes(parent: FastifyInstance, { dashboards }: { dashboards: DashboardsService }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    "/dashboards",
    { schema: { tags, summary: "Your dashboards and the shared ones", response: { 200: DashboardList, ...apiErrors } } },
    async (request) => dashboards.list(user(request)),
  );

  app.post(
    "/dashboards",
    {
      config: signedIn,
      schema: { tags, summary: "Create a dashboard of your own", body: CreateDashboard, response: { 201: Dashboard, ...apiErrors } },
    },
    async (request, reply) => reply.code(201).send(await dashboards.create(user(request), request.body)),
  );

  app.post(
    "/dashboards/import",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Create a dashboard of your own from an export file",
        body: DashboardDocument,
        response: { 201: Dashboard, ...apiErrors },
      },
    },
    async (request, reply) => reply.code(201).send(await dashboards.import(user(request), request.body)),
  );

  app.get(
    "/dashboards/:id",
    { schema: { tags, summary: "One dashboard with its widgets", params: DashboardParams, response: { 200: Dashboard, ...apiErrors } } },
    async (request) => dashboards.get(user(request), request.params.id),
  );

  app.patch(
    "/dashboards/:id",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Rename, share (admins and operators) or save the widgets and layout of your dashboard",
        params: DashboardParams,
        body: UpdateDashboard,
        response: { 200: Dashboard, ...apiErrors },
      },
    },
    async (request) => dashboards.update(user(request), request.params.id, request.body),
  );

  app.delete(
    "/dashboards/:id",
    {
      config: signedIn,
      schema: { tags, summary: "Delete your dashboard", params: DashboardParams, response: { 204: Type.Null(), ...apiErrors } },
    },
    async (request, reply) => {
      await dashboards.delete(user(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/dashboards/:id/export",
    {
      schema: {
        tags,
        summary: "The dashboard as a JSON file to import elsewhere",
        params: DashboardParams,
        response: { 200: DashboardDocument, ...apiErrors },
      },
    },
    async (request, reply) => {
      const document = await dashboards.export(user(request), request.params.id);
      const file = document.name.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "") || "dashboard";
      reply.header("content-disposition", `attachment; filename="${file}.dashboard.json"`);
      return document;
    },
  );

  app.get(
    "/dashboards/:id/widgets/:widgetId/data",
    {
      schema: {
        tags,
        summary: "What one widget draws over the range, downsampled to its width",
        params: WidgetParams,
        querystring: WidgetDataQuery,
        response: { 200: WidgetData, ...apiErrors },
      },
    },
    async (request) => dashboards.widgetData(user(request), request.params.id, request.params.widgetId, request.query),
  );
}
