// Starts one product for the whole run; specs reach it through the env vars below (see
// support/test.ts). The returned function is Playwright's global teardown.
import { admin } from "./accounts.ts";
import { startProduct } from "./product.ts";
import { baseUrlVar, mqttPortVar } from "./run-env.ts";

export default async function globalSetup() {
  const started = Date.now();
  const product = await startProduct({
    testDatabaseUrl: process.env.TEST_DATABASE_URL,
    // Every spec signs in from 127.0.0.1: the per-address sign-in limit (30 per 15 min by
    // default) would refuse the later ones. The limit itself has its own API tests.
    env: { ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password, LOGIN_MAX_ATTEMPTS_PER_IP: "10000" },
  });
  const database = process.env.TEST_DATABASE_URL ? "a fresh database on TEST_DATABASE_URL" : "embedded PostgreSQL";
  console.log(`Fleetwatch ready at ${product.baseUrl} (MQTT ${product.mqttPort}, ${database}) in ${Date.now() - started} ms`);
  process.env[baseUrlVar] = product.baseUrl;
  process.env[mqttPortVar] = String(product.mqttPort);
  return () => product.stop();
}
