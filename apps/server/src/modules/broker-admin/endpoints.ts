// Where devices connect, as the operator's browser reached this server (or PUBLIC_HOST):
// handed out with new credentials (register, rotate, import) and by GET /api/broker/endpoints.
import type { FastifyRequest } from "fastify";
import type { DeviceEndpoints } from "@fleetwatch/contracts";

export interface EndpointOptions {
  /** PUBLIC_HOST; unset: the request's Host. */
  publicHost?: string | undefined;
  /** The MQTT ports actually bound. */
  mqttPorts: { mqtt: number; mqtts?: number | undefined };
  httpPort: () => number;
}

export function deviceEndpoints(request: FastifyRequest, options: EndpointOptions): DeviceEndpoints {
  const host = options.publicHost ?? request.hostname;
  const webHost = options.publicHost ? `${options.publicHost}:${options.httpPort()}` : request.host;
  const { mqtt, mqtts } = options.mqttPorts;
  return {
    mqtt: `mqtt://${host}:${mqtt}`,
    ...(mqtts ? { mqtts: `mqtts://${host}:${mqtts}` } : {}),
    ws: `${request.protocol === "https" ? "wss" : "ws"}://${webHost}/mqtt`,
  };
}
