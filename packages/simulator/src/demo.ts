// `pnpm demo`: the built product on its zero-config default (embedded PostgreSQL) with a
// simulated fleet of about 50 devices, so a newcomer sees a living dashboard at once.
// Ctrl-C or SIGTERM stops the fleet (devices say goodbye) and then the server.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { OptionsError, parseOptions } from "./options.ts";
import { runSimulation } from "./simulate.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const serverEntry = "apps/server/dist/main.js";
if (!existsSync(`${repoRoot}${serverEntry}`)) {
  console.error("demo: the server is not built yet: run `pnpm build` first.");
  process.exit(1);
}

const httpPort = process.env.PORT ?? "8080";
const mqttPort = process.env.MQTT_PORT ?? "1883";
const adminEmail = process.env.ADMIN_EMAIL ?? "admin@fleetwatch.local";
const adminPassword = process.env.ADMIN_PASSWORD ?? "fleetwatch-demo";
const baseUrl = `http://127.0.0.1:${httpPort}`;

let options;
try {
  // The demo's fleet; any simulate option given to `pnpm demo` overrides these.
  options = parseOptions(
    [
      "--devices",
      "50",
      "--rate",
      "0.2",
      "--qos",
      "1",
      "--churn",
      "0.05",
      "--prefix",
      "demo",
      "--url",
      baseUrl,
      "--mqtt-url",
      `mqtt://127.0.0.1:${mqttPort}`,
      "--admin-email",
      adminEmail,
      "--admin-password",
      adminPassword,
      ...process.argv.slice(2),
    ],
    process.env,
  );
} catch (error) {
  if (!(error instanceof OptionsError)) throw error;
  console.error(`demo: ${error.message}`);
  process.exit(2);
}

console.log(`demo: starting Fleetwatch (${serverEntry}) on http://localhost:${httpPort}/ with MQTT on ${mqttPort}`);
const server = spawn(process.execPath, [serverEntry], {
  cwd: repoRoot,
  // A quiet server log keeps the fleet's progress lines readable; LOG_LEVEL overrides.
  env: {
    ...process.env,
    PORT: httpPort,
    MQTT_PORT: mqttPort,
    ADMIN_EMAIL: adminEmail,
    ADMIN_PASSWORD: adminPassword,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
  },
  stdio: "inherit",
  // Its own process group: a terminal's Ctrl-C reaches only the demo, which stops the fleet
  // first (the devices' goodbyes need the server) and then passes the stop on.
  detached: true,
});
process.on("exit", () => {
  if (server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
});
const serverExited = new Promise<number>((resolve) => server.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))));

const controller = new AbortController();
let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  console.log(`demo: ${signal}, stopping the fleet and the server`);
  controller.abort();
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));
void serverExited.then((code) => {
  if (!stopping) {
    console.error(`demo: the server exited (code ${code})`);
    stopping = true;
    controller.abort();
  }
});

async function waitForReady(): Promise<boolean> {
  const deadline = Date.now() + 180_000; // a first start initialises the embedded PostgreSQL
  while (Date.now() < deadline && !controller.signal.aborted) {
    const ready = await fetch(`${baseUrl}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

let exitCode = 0;
if (await waitForReady()) {
  console.log(`demo: Fleetwatch is ready: open http://localhost:${httpPort}/ (operator ${adminEmail} / ${adminPassword})`);
  try {
    await runSimulation(options, { signal: controller.signal, log: (line) => console.log(line) });
  } catch (error) {
    console.error(`demo: the simulator failed: ${error instanceof Error ? error.message : String(error)}`);
    exitCode = 1;
  }
} else if (!controller.signal.aborted) {
  console.error("demo: Fleetwatch did not become ready within 3 minutes");
  exitCode = 1;
}
const serverRunning = server.exitCode === null && server.signalCode === null;
stopping = true;
if (serverRunning) server.kill("SIGTERM");
const serverCode = await serverExited;
process.exit(exitCode || (serverRunning ? serverCode : 1));
