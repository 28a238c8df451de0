// How global setup tells the test workers where the product runs: environment variables,
// which workers (started after global setup) inherit from the runner.
export const baseUrlVar = "FLEETWATCH_E2E_BASE_URL";
export const mqttPortVar = "FLEETWATCH_E2E_MQTT_PORT";
