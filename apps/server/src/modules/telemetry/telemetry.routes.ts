// Telemetry history over HTTP: a device's metrics, downsampled series, and CSV export.
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyReply } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { DeviceMetrics, DeviceParams, TelemetryExportQuery, TelemetryQuery, TelemetrySeries } from "@fleetwatch/contracts";
import { apiErrors } from "../../http/api.ts";
import type { TelemetryService } from "./telemetry.service.ts";

/** True when the Accept header ranks text/csv above JSON (by q, then by order). */
export function prefersCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  let csv = -1;
  let json = -1;
  const entries = accept.split(",");
  entries.forEach((entry, index) => {
    const [type = "", ...params] = entry.trim().toLowerCase().split(";");
    const q = Number(
      params
        .map((p) => p.trim())
        .find((p) => p.startsWith("q="))
        ?.slice(2) ?? 1,
    );
    // Higher q wins; among equal q, the earlier entry (a small bonus for position).
    const rank = (Number.isFinite(q) ? q : 0) * 1000 - index;
    if (type.trim() === "text/csv") csv = Math.max(csv, rank);
    if (type.trim() === "application/json") json = Math.max(json, rank);
  });
  return csv > json && csv > 0;
}

export async function telemetryRoutes(parent: FastifyInstance, { telemetry: service }: { telemetry: TelemetryService }) {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    "/devices/:id/metrics",
    {
      schema: {
        tags: ["telemetry"],
        summary: "Each metric of a device with its latest value",
        params: DeviceParams,
        response: { 200: DeviceMetrics, ...apiErrors },
      },
    },
    async (request) => service.metrics(request.params.id),
  );

  const csvExport = async (id: string, query: TelemetryExportQuery, reply: FastifyReply) => {
    const lines = await service.csv(id, query);
    const [only, ...others] = query.metric;
    const name = `${id}-${others.length === 0 ? only : "telemetry"}${query.layout === "wide" ? "-wide" : ""}.csv`.replace(/[^\w.-]/g, "_");
    return reply.type("text/csv; charset=utf-8").header("content-disposition", `attachment; filename="${name}"`).send(Readable.from(lines));
  };

  app.get(
    "/devices/:id/telemetry",
    {
      schema: {
        tags: ["telemetry"],
        summary: "A metric over a time range, downsampled into at most maxPoints buckets",
        description: "With `Accept: text/csv`, streams the raw readings in the range as CSV instead (as /telemetry.csv does).",
        params: DeviceParams,
        querystring: TelemetryQuery,
        response: { 200: TelemetrySeries, ...apiErrors },
      },
    },
    async (request, reply) => {
      if (!prefersCsv(request.headers.accept)) return service.series(request.params.id, request.query);
      const { metric, from, to } = request.query;
      return csvExport(request.params.id, { metric: [metric], from, to }, reply);
    },
  );

  app.get(
    "/devices/:id/telemetry.csv",
    {
      schema: {
        tags: ["telemetry"],
        summary: "The raw readings of one or more metrics over a time range, streamed as CSV",
        description:
          "Repeat `metric` to export several metrics in one file. `layout=long` (default) writes `time,metric,value` per reading; `layout=wide` writes `time,<metric>,…` per distinct time.",
        params: DeviceParams,
        querystring: TelemetryExportQuery,
        // CSV when it succeeds; errors are JSON like everywhere else.
        response: { 200: { description: "CSV", content: { "text/csv": { schema: { type: "string" } } } }, ...apiErrors },
      },
    },
    async (request, reply) => csvExport(request.params.id, request.query, reply),
  );
}
