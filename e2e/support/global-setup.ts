// Starts one product for the whole run; specs reach it through the env vars below (see
// support/test.ts). The returned function is Playwright's global teardown.
import { admin } from "./accounts.ts";
import { startProduct } from "./product.ts";
import { baseUrlVar, mqttPortVar } from "./run-env.ts";

export default async function globalSetup() {
  const started = Date.now();
  const product = await startProduct({
    testDatabaseUrl: process.env.TEST_DATABASE_URL,
    // Every spec signs in from 127.0.0.1; only failed sign-ins count towards the per-address
    // limit (the limits have their own API tests), so the defaults serve the whole run.
    env: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password },
  });
  const database = process.env.TEST_DATABASE_URL ? "a fresh database on TEST_DATABASE_URL" : "embedded PostgreSQL";
  console.log(`Fleetwatch ready at ${product.baseUrl} (MQTT ${product.mqttPort}, ${database}) in ${Date.now() - started} ms`);
  process.env[baseUrlVar] = product.baseUrl;
  process.env[mqttPortVar] = String(product.mqttPort);
  return () => product.stop();
}
