// CI's smoke test of the real zero-config default: runs the README's start command verbatim
// (install, build, start) as a user's shell does (`bash -c "<command>"`), in a fresh DATA_DIR
// with no DATABASE_URL, so the embedded PostgreSQL is used; waits for /readyz; signs in,
// registers a device and does an MQTT round trip with its credentials. Then it sends SIGTERM
// to THAT process (the one the command runs, as a service manager or `kill <pid>` would, not
// the node process deep below it), and expects, within the shutdown timeout: the command
// exits 0, the HTTP and MQTT ports are free, and no server or PostgreSQL process is left.
// It does it again with SIGINT on the same DATA_DIR (a restart over existing data).
import { execFileSync, spawn } from "node:child_process";
import { chmod, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt from "mqtt";
import { findFreePort } from "../support/network.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const readme = await readFile(join(repoRoot, "README.md"), "utf8");
const found = /<!-- start-command -->\s*```sh\n(.+)\n```/.exec(readme)?.[1];
if (!found) throw new Error("README.md has no start command between <!-- start-command --> and a ```sh block");
const startCommand: string = found;

const SHUTDOWN_TIMEOUT_MS = 10_000; // the server's default SHUTDOWN_TIMEOUT_MS
// npm and pnpm wait for their child, then exit themselves; a few seconds on a loaded machine.
const LAUNCHER_EXIT_SLACK_MS = 10_000;

const dataDir = await mkdtemp(join(tmpdir(), "fleetwatch-smoke-"));
await chmod(dataDir, 0o755); // as root, the embedded PostgreSQL runs as the postgres user
const admin = { email: "smoke@fleetwatch.local", password: `smoke-${Date.now()}` };

try {
  await run("SIGTERM", { firstStart: true });
  await run("SIGINT", { firstStart: false });
} finally {
  await rm(dataDir, { recursive: true, force: true });
}

async function run(signal: "SIGTERM" | "SIGINT", { firstStart }: { firstStart: boolean }): Promise<void> {
  const [httpPort, mqttPort] = [await findFreePort(), await findFreePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(httpPort),
    MQTT_PORT: String(mqttPort),
    DATA_DIR: dataDir,
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
  };
  delete env.DATABASE_URL;

  console.log(`smoke (${signal}): bash -c "${startCommand}"  (PORT=${httpPort} MQTT_PORT=${mqttPort} DATA_DIR=${dataDir})`);
  // Its own process group, so that whatever the command leaves behind can be found (and, on a
  // failure, killed) without touching anything else on the machine.
  const child = spawn("bash", ["-c", startCommand], { cwd: repoRoot, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const group = child.pid!;
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, exitSignal) => resolve({ code, signal: exitSignal })),
  );

  const fail: (message: string) => never = (message) => {
    console.error(`smoke FAILED (${signal}): ${message}\n--- product output ---\n${output}\n--- processes left ---\n${processesOf(group)}`);
    try {
      process.kill(-group, "SIGKILL");
    } catch {
      // The process group is already gone.
    }
    for (const pid of postgresPids()) process.kill(pid, "SIGKILL");
    process.exit(1);
  };

  const deadline = Date.now() + 900_000; // includes install and build, on a cold or busy machine
  let ready = false;
  while (!ready && Date.now() < deadline) {
    ready = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (!ready) await new Promise((r) => setTimeout(r, 500));
  }
  if (!ready) fail("/readyz did not answer 200");
  console.log(`smoke (${signal}): /readyz is 200`);

  if (firstStart) await roundTrip(httpPort, mqttPort, fail);

  const serverPids = pgrep(["-g", String(group), "-f", "^(\\S*/)?node apps/server/dist/main\\.js"]);
  if (serverPids.length !== 1) fail(`expected one server process in the command's process group, found ${serverPids.length}`);
  if (postgresPids().length === 0) fail("no embedded PostgreSQL process is running on DATA_DIR");

  // The process the README's command runs: bash replaces itself with the last command of the
  // && list, so this pid is the `npx … start` process itself.
  child.kill(signal);
  const result = await Promise.race([
    exited,
    new Promise<"timeout">((r) => setTimeout(() => r("timeout"), SHUTDOWN_TIMEOUT_MS + LAUNCHER_EXIT_SLACK_MS)),
  ]);
  if (result === "timeout") fail(`the start command was still running ${SHUTDOWN_TIMEOUT_MS + LAUNCHER_EXIT_SLACK_MS} ms after ${signal}`);
  const left = processesOf(group);
  if (left) fail(`processes of the start command are still running after it exited:\n${left}`);
  const postgres = postgresPids();
  if (postgres.length) fail(`the embedded PostgreSQL is still running (pids ${postgres.join(", ")})`);
  for (const [name, port] of [
    ["PORT", httpPort],
    ["MQTT_PORT", mqttPort],
  ] as const) {
    if (!(await portIsFree(port))) fail(`${name} ${port} is still taken after the command exited`);
  }
  if (result.code !== 0) fail(`expected the start command to exit 0 after ${signal}, got ${result.code ?? result.signal}`);
  if (!new RegExp(`${signal}: shutting down`).test(output) || !/"msg":"stopped"/.test(output)) {
    fail(`the server did not log its graceful shutdown after ${signal}`);
  }
  console.log(`smoke (${signal}): exit 0, ports ${httpPort} and ${mqttPort} free, no server or PostgreSQL process left`);
}

async function roundTrip(httpPort: number, mqttPort: number, fail: (message: string) => never): Promise<void> {
  // Sign in as the first admin, register a device, and do the round trip with its own credentials.
  const http = `http://127.0.0.1:${httpPort}`;
  const login = await fetch(`${http}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(admin),
  });
  if (login.status !== 200) fail(`sign-in answered ${login.status}`);
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const registration = await fetch(`${http}/api/devices`, {
    method: "POST",
    headers: { "content-type": "application/json", cookie, "x-csrf-token": csrfToken },
    body: JSON.stringify({ name: "Smoke sensor", id: "smoke-1" }),
  });
  if (registration.status !== 201) fail(`device registration answered ${registration.status}: ${await registration.text()}`);
  const { credentials } = (await registration.json()) as { credentials: { clientId: string; username: string; password: string } };
  console.log("smoke: signed in and registered device smoke-1");

  const anonymous = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0 }).then(
    async (client) => (await client.endAsync(), "accepted"),
    () => "refused",
  );
  if (anonymous !== "refused") fail("an anonymous MQTT client was accepted");

  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0, ...credentials });
  await device.subscribeAsync("devices/smoke-1/#", { qos: 1 });
  const received = new Promise<string>((resolve) => device.once("message", (_topic, payload) => resolve(payload.toString())));
  await device.publishAsync("devices/smoke-1/telemetry", '{"temp":21.5}', { qos: 1 });
  const payload = await Promise.race([received, new Promise<string>((r) => setTimeout(() => r("(timeout)"), 10_000))]);
  if (payload !== '{"temp":21.5}') fail(`MQTT round trip returned ${payload}`);
  console.log("smoke: MQTT round trip ok (anonymous refused, device credentials accepted)");
  await device.endAsync();
}

function pgrep(args: string[]): number[] {
  try {
    return execFileSync("pgrep", args, { encoding: "utf8" }).trim().split("\n").map(Number).filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** PostgreSQL's postmaster and backends on this run's data (their command line names DATA_DIR/postgres). */
function postgresPids(): number[] {
  return pgrep(["-f", `${dataDir}/postgres`]);
}

function processesOf(group: number): string {
  return pgrep(["-g", String(group)])
    .map((pid) => {
      try {
        return `${pid} ${execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" }).trim()}`;
      } catch {
        return "";
      }
    })
    .filter(Boolean)
    .join("\n");
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}
