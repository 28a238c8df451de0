// The simulator as a library: the benchmarks and tests use its parts directly.
export * from "./api-client.ts";
export * from "./credentials.ts";
export * from "./device.ts";
export * from "./fleet.ts";
export * from "./options.ts";
export * from "./random.ts";
export * from "./simulate.ts";
export * from "./telemetry-model.ts";
