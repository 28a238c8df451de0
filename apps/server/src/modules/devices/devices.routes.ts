// /api/devices: the device registry over HTTP.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import {
  Device,
  DeviceCreate,
  DeviceImportError,
  DeviceImportPreview,
  DeviceImportQuery,
  DeviceImportResult,
  DeviceList,
  DeviceListQuery,
  DeviceParams,
  DeviceTagList,
  DeviceUpdate,
  DeviceWithCredentials,
} from "@fleetwatch/contracts";
import { apiErrors } from "../../http/api.ts";
import { deviceEndpoints, type EndpointOptions } from "../broker-admin/endpoints.ts";
import { badRequest } from "../../http/errors.ts";
import { parseDeviceCsv } from "./csv.ts";
import type { DevicesService, IssuedDevice } from "./devices.service.ts";

export interface DevicesRouteOptions extends EndpointOptions {
  devices: DevicesService;
}

export async function devicesRoutes(parent: FastifyInstance, options: DevicesRouteOptions) {
  // Changes to the fleet are the operators' (the operator and admin roles), not only admins'.
  const fleetOperators = { access: "operator" as const };
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const { devices } = options;

  const withEndpoints = (request: FastifyRequest, issued: IssuedDevice) => ({ ...issued, endpoints: deviceEndpoints(request, options) });

  app.post(
    "/devices",
    {
      config: fleetOperators,
      schema: {
        tags: ["devices"],
        summary: "Register a device; its password is shown only in this answer",
        body: DeviceCreate,
        response: { 201: DeviceWithCredentials, ...apiErrors },
      },
    },
    async (request, reply) => reply.code(201).send(withEndpoints(request, await devices.create(request.body))),
  );

  app.get(
    "/devices",
    {
      schema: {
        tags: ["devices"],
        summary: "Search and page through devices",
        querystring: DeviceListQuery,
        response: { 200: DeviceList, ...apiErrors },
      },
    },
    async (request) => devices.list(request.query),
  );

  app.get(
    "/devices/tags",
    {
      schema: {
        tags: ["devices"],
        summary: "The tags in use, most used first, with how many devices carry each",
        response: { 200: DeviceTagList, ...apiErrors },
      },
    },
    async () => devices.tags(),
  );

  app.get(
    "/devices/:id",
    {
      schema: {
        tags: ["devices"],
        summary: "One device: registry fields, presence and last seen",
        params: DeviceParams,
        response: { 200: Device, ...apiErrors },
      },
    },
    async (request) => devices.get(request.params.id),
  );

  app.patch(
    "/devices/:id",
    {
      config: fleetOperators,
      schema: {
        tags: ["devices"],
        summary: "Rename, describe or tag a device",
        params: DeviceParams,
        body: DeviceUpdate,
        response: { 200: Device, ...apiErrors },
      },
    },
    async (request) => devices.update(request.params.id, request.body),
  );

  app.delete(
    "/devices/:id",
    {
      config: fleetOperators,
      schema: {
        tags: ["devices"],
        summary: "Delete a device, its retained messages and its session",
        params: DeviceParams,
        response: { 204: Type.Null(), ...apiErrors },
      },
    },
    async (request, reply) => {
      await devices.delete(request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    "/devices/:id/credentials",
    {
      config: fleetOperators,
      schema: {
        tags: ["devices"],
        summary: "Issue a new password; the old one stops working at once",
        params: DeviceParams,
        response: { 200: DeviceWithCredentials, ...apiErrors },
      },
    },
    async (request) => withEndpoints(request, await devices.rotateCredentials(request.params.id)),
  );

  app.post(
    "/devices/:id/disable",
    {
      config: fleetOperators,
      schema: {
        tags: ["devices"],
        summary: "Refuse the device's connections and close its live one",
        params: DeviceParams,
        response: { 200: Device, ...apiErrors },
      },
    },
    async (request) => devices.setDisabled(request.params.id, true),
  );

  app.post(
    "/devices/:id/enable",
    {
      config: fleetOperators,
      schema: {
        tags: ["devices"],
        summary: "Let a disabled device connect again",
        params: DeviceParams,
        response: { 200: Device, ...apiErrors },
      },
    },
    async (request) => devices.setDisabled(request.params.id, false),
  );

  // CSV arrives as text; JSON through Fastify's own parser.
  app.addContentTypeParser(["text/csv", "text/plain"], { parseAs: "string" }, (_request, body, done) => done(null, body));
  app.post(
    "/devices/import",
    {
      config: fleetOperators,
      schema: {
        tags: ["devices"],
        summary:
          "Bulk import from CSV (text/csv: name,id,description,tags with tags separated by ';') or JSON (an array of devices); all or nothing",
        querystring: DeviceImportQuery,
        response: {
          200: DeviceImportPreview,
          201: DeviceImportResult,
          400: DeviceImportError,
          409: DeviceImportError,
          ...withoutKeys(apiErrors, [400, 409]),
        },
      },
    },
    async (request, reply) => {
      const rows = importRows(request.body);
      if (request.query.dryRun) return reply.code(200).send(await devices.preview(rows));
      const created = await devices.import(rows);
      return reply.code(201).send({ created: created.map((issued) => withEndpoints(request, issued)) });
    },
  );
}

function importRows(body: unknown): unknown[] {
  if (typeof body === "string") {
    const csv = parseDeviceCsv(body);
    if (!csv.ok) throw badRequest(csv.message, "IMPORT_INVALID", { errors: [] });
    return csv.rows;
  }
  if (Array.isArray(body)) return body;
  if (typeof body === "object" && body !== null && Array.isArray((body as { devices?: unknown }).devices))
    return (body as { devices: unknown[] }).devices;
  throw badRequest('Send a JSON array of devices, {"devices": [...]}, or text/csv', "IMPORT_INVALID", { errors: [] });
}

function withoutKeys<T extends Record<number, unknown>>(object: T, keys: number[]): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([key]) => !keys.includes(Number(key)))) as Partial<T>;
}
