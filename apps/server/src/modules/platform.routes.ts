// The API of retained state, presence, alerts and the fleet summary, registered under /api.
import type { FastifyInstance } from "fastify";
import { alertsRoutes } from "./alerts/alerts.routes.ts";
import type { AlertsService } from "./alerts/alerts.service.ts";
import { fleetRoutes } from "./fleet/fleet.routes.ts";
import type { FleetRepository } from "./fleet/fleet.repository.ts";
import { presenceRoutes } from "./presence/presence.routes.ts";
import type { PresenceRepository } from "./presence/presence.repository.ts";
import { stateRoutes } from "./state/state.routes.ts";
import type { StateService } from "./state/state.service.ts";

export interface PlatformApi {
  alerts: AlertsService;
  presence: PresenceRepository;
  state: StateService;
  fleet: FleetRepository;
}

export async function platformRoutes(app: FastifyInstance, { alerts, presence, state, fleet }: PlatformApi) {
  // Only the services go on: the options also carry this plugin's own prefix.
  const api = { alerts, presence, state, fleet };
  await app.register(stateRoutes, api);
  await app.register(presenceRoutes, api);
  await app.register(alertsRoutes, api);
  await app.register(fleetRoutes, api);
}
