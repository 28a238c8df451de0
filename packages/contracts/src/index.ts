// Contracts shared by the server, the dashboard, the simulator and the tests.
export * from "./errors.ts";
export * from "./health.ts";
export * from "./live.ts";
export * from "./payloads.ts";
export * from "./topics.ts";
export * from "./telemetry.ts";
export * from "./auth.ts";
export * from "./preferences.ts";
export * from "./broker.ts";
export * from "./devices.ts";
export * from "./alerts.ts";
export * from "./events.ts";
export * from "./fleet.ts";
export * from "./presence.ts";
export * from "./state.ts";
export * from "./dashboards.ts";
